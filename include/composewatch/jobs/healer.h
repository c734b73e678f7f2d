#pragma once
// The auto-heal job: restarts (or stops) opted-in containers that stay unhealthy, as
// autoheal/policy.h decides, and — only with restart_dependents: true — then the
// containers that depend on them.
//
// It learns of changes from the event follower (jobs/event_follower.h: each container event
// once the model applied it, and each full listing, on the writer's thread; the agent
// wires on_event and on_listed as a ContainerListener), keeps one History per container, and
// sleeps on a timer until the next moment a decision may change: no polling of the
// engine. Before acting it inspects the container once more (still the same container,
// running, unhealthy, opted in, not a one-off, and its own stop timeout, which sets the
// request's deadline); it then calls the Engine API (autoheal/executor.h) and
// marks what it asked for, so that the kill, die, stop, start and restart events of its
// own action are not taken for a user's (the engine's events name no actor for API calls).
// While a user or Compose stops or removes containers of the container's Compose project
// (`compose down`), it waits (autoheal::ProjectHolds). Actions run one at a time: one
// that waits a long stop timeout holds back the others until it is done.
// Its histories and counters go into the snapshots (metrics, status page) and the state
// file, and come back from it after an agent restart.
//
// One long-lived job on the writer's executor; started and supervised by jobs::Supervisor.
// Members on that thread only. The settings are read once (a SIGHUP does not change them).

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>

#include "composewatch/config/config.h"
#include "composewatch/engine/endpoint.h"
#include "composewatch/state/model.h"

namespace composewatch::jobs {

struct HealerOptions {
  // A restart's or stop's deadline beyond the container's own stop timeout.
  std::chrono::seconds request_margin{30};
  // A longer (or unbounded, negative) stop timeout is waited for this long only.
  std::chrono::seconds longest_stop_wait{600};
  // A project's hold after a user's stop, kill or destroy of one of its containers.
  std::chrono::seconds project_quiet{15};
  // Events of its own action may still arrive this long after the call (counted from when
  // the events queued during the call have been read).
  std::chrono::seconds own_events_grace{10};
  // A failed check before acting is tried again after this.
  std::chrono::seconds retry_after_engine_error{5};
};

class Healer {
 public:
  Healer(boost::asio::any_io_executor ex, engine::Endpoint endpoint, state::StateModel& model,
         config::AutohealConfig settings, HealerOptions options = {});
  ~Healer();
  Healer(const Healer&) = delete;
  Healer& operator=(const Healer&) = delete;

  // Follows changes and acts, forever.
  boost::asio::awaitable<void> run();

  // A container event the model has just applied, with the record it applied to (null
  // when none), and a full listing the model has just reconciled: queued for run(), which
  // reads the model when it takes them. Writer's thread.
  void on_event(const docker::Event& e, const state::ContainerRecord* record);
  void on_listed();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace composewatch::jobs
