#include "composewatch/jobs/prune_scheduler.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/system_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <random>
#include <utility>

#include "composewatch/config/schedule.h"
#include "composewatch/log/log.h"
#include "composewatch/prune/executor.h"
#include "composewatch/prune/host_lock.h"
#include "composewatch/prune/status.h"

namespace composewatch::jobs {

namespace asio = boost::asio;
using config::Clock;
using config::Schedule;

namespace {

double epoch(Clock::time_point t) { return std::chrono::duration<double>(t.time_since_epoch()).count(); }

struct Slot {
  // Shared with a run in flight, which keeps it alive through a reload that replaces the
  // slots: a run never reads what a reload frees.
  std::shared_ptr<const config::PrunePolicyConfig> policy;
  Schedule schedule;
  Clock::time_point due;      // as the schedule says
  Clock::time_point fire_at;  // due + jitter
  prune::PolicyStatus status;
};

}  // namespace

struct PruneScheduler::Impl {
  Impl(asio::any_io_executor ex, engine::Endpoint ep, state::StateModel& m, PruneSchedulerOptions o)
      : ex(ex), endpoint(std::move(ep)), model(m), options(std::move(o)), wake(ex) {
    if (!options.random) {
      auto rng = std::make_shared<std::mt19937_64>(std::random_device{}());
      options.random = [rng] { return (*rng)(); };
    }
  }

  asio::any_io_executor ex;
  engine::Endpoint endpoint;
  state::StateModel& model;
  PruneSchedulerOptions options;
  asio::system_timer wake;
  std::vector<Slot> slots;
  std::string suspended;
  prune::StopRequest stop;
  bool running = false;                 // a policy run is in flight
  std::function<void()> on_stopped;     // request_stop() while running: called when it ends

  void stopped_run() {
    if (stop.requested && on_stopped) std::exchange(on_stopped, nullptr)();
  }

  void arm(Slot& s, Clock::time_point previous_due, Clock::time_point now) {
    s.due = s.schedule.next_due(previous_due, now);
    s.fire_at = s.due + config::jitter(s.schedule, options.random());
    s.status.next_run = epoch(s.fire_at);
    s.status.interval_seconds = std::chrono::duration<double>(s.schedule.next_after(s.due) - s.due).count();
  }

  void set(std::vector<config::PrunePolicyConfig> policies) {
    std::vector<Slot> next;
    const auto now = Clock::now();
    for (auto& p : policies) {
      Slot s{std::make_shared<const config::PrunePolicyConfig>(p), Schedule::parse(p.schedule), {}, {}, {}};
      s.status.policy = p.name;
      s.status.kind = prune::target_kind(p.target);
      for (const auto& old : slots)
        if (old.policy->name == p.name) s.status = old.status;  // counters carry on
      s.status.kind = prune::target_kind(p.target);
      arm(s, now, now);
      next.push_back(std::move(s));
    }
    slots = std::move(next);
    publish();
    wake.cancel();
  }

  void publish() {
    auto st = std::make_shared<prune::PruneStatus>();
    for (const auto& s : slots) st->policies.push_back(s.status);
    st->suspended = suspended;
    model.set_prune(std::move(st));
    model.publish();
  }

  prune::ComposeKnowledge compose_knowledge(const state::Snapshot& snap) const {
    // Before the compose watcher has published, nothing can be known of the projects.
    return snap.compose ? prune::ComposeKnowledge::from(snap.compose->projects) : prune::ComposeKnowledge::not_loaded_yet();
  }

  Slot* find(const std::string& name) {
    auto it = std::find_if(slots.begin(), slots.end(), [&](const Slot& s) { return s.policy->name == name; });
    return it == slots.end() ? nullptr : &*it;
  }

  // The status of the policy called `name` now, if it still exists: a reload during the
  // run may have replaced (or removed) the slot the run started from.
  template <class F>
  void record(const std::string& name, F&& f) {
    if (Slot* s = find(name)) f(s->status);
  }

  void fail(const std::string& name, std::string_view msg, const std::string& reason) {
    record(name, [](prune::PolicyStatus& st) { prune::record_failure(st); });
    log::warn(msg, {{"policy", name}, {"reason", reason}});
  }

  // One run of `policy`. Everything it reads is its own (the policy through a shared
  // pointer, the compose knowledge and the image history by value), so that a SIGHUP
  // that replaces the slots meanwhile frees nothing under it; the figures go to the slot
  // of the same name afterwards, when there still is one.
  asio::awaitable<void> run_policy_now(std::shared_ptr<const config::PrunePolicyConfig> policy) {
    const std::string name = policy->name;
    if (!suspended.empty()) {
      fail(name, "prune policy not run: policies are suspended until the config file is valid", suspended);
      co_return;
    }
    std::string why;
    auto lock = prune::HostLock::try_take(options.lock_path, why);
    if (!lock) {
      fail(name, "prune policy not run: the host's prune lock cannot be taken", why);
      co_return;
    }
    engine::ClientOptions copts;
    copts.request_timeout = options.df_timeout;
    // Not a guard object's destructor: the frame may be destroyed with the io_context
    // after this scheduler is gone (at exit), and must not touch it then.
    running = true;
    try {
      const auto snap = model.snapshot();
      const prune::ComposeKnowledge compose = compose_knowledge(*snap);
      prune::RunOptions ropts = prune::RunOptions::for_endpoint(endpoint, false);
      if (snap->image_last_seen) ropts.image_last_seen = *snap->image_last_seen;
      ropts.stop = &stop;
      engine::Client client(ex, endpoint, copts);
      co_await client.negotiate();
      prune::PolicyRun r = co_await prune::run_policy(client, *policy, compose, ropts);
      record(name, [&](prune::PolicyStatus& st) { prune::record_run(st, r, epoch(Clock::now())); });
      if (!r.not_applied.empty()) log::info("prune policy not applied", {{"policy", name}, {"reason", r.not_applied}});
      if (r.applied())
        log::info("prune policy applied",
                  {{"policy", name},
                   {"deleted", r.result.count(prune::Outcome::Result::deleted)},
                   {"skipped", r.result.count(prune::Outcome::Result::skipped)},
                   {"failed", r.result.count(prune::Outcome::Result::failed)},
                   {"not_attempted", r.result.not_attempted},
                   {"reclaimed_bytes", r.result.reclaimed_bytes()}});
    } catch (const engine::EngineError& e) {
      fail(name, "prune policy could not run", e.what());
    } catch (const docker::ParseError& e) {
      fail(name, "prune policy could not run", e.what());
    } catch (...) {
      running = false;
      stopped_run();
      throw;  // to the supervisor
    }
    running = false;
    stopped_run();
  }

  asio::awaitable<void> run() {
    for (;;) {
      if (slots.empty() || stop.requested) {  // stopping: wait to be destroyed, do not end (the supervisor restarts ended jobs)
        wake.expires_at(Clock::time_point::max());
        co_await wake.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      auto next = slots.front().fire_at;
      for (const auto& s : slots) next = std::min(next, s.fire_at);
      wake.expires_at(next);
      co_await wake.async_wait(asio::as_tuple(asio::use_awaitable));  // cancelled by reload(): look again
      // One at a time; a reload while one runs replaces `slots`, so walk by name.
      std::vector<std::string> due;
      for (const auto& s : slots)
        if (s.fire_at <= Clock::now()) due.push_back(s.policy->name);
      for (const auto& name : due) {
        if (stop.requested) break;
        const Slot* s = find(name);
        if (!s) continue;
        const auto previous_due = s->due;
        co_await run_policy_now(s->policy);
        Slot* after = find(name);
        if (!after || after->due != previous_due) {  // reloaded meanwhile: armed anew
          publish();
          continue;
        }
        arm(*after, previous_due, Clock::now());
        publish();
      }
    }
  }
};

PruneScheduler::PruneScheduler(asio::any_io_executor ex, engine::Endpoint endpoint, state::StateModel& model,
                               std::vector<config::PrunePolicyConfig> policies, PruneSchedulerOptions options)
    : impl_(std::make_unique<Impl>(std::move(ex), std::move(endpoint), model, std::move(options))) {
  impl_->set(std::move(policies));
}

PruneScheduler::~PruneScheduler() = default;

asio::awaitable<void> PruneScheduler::run() { return impl_->run(); }

void PruneScheduler::reload(std::vector<config::PrunePolicyConfig> policies) {
  if (!impl_->suspended.empty()) log::info("prune policies resumed", {{"policies", policies.size()}});
  impl_->suspended.clear();
  impl_->set(std::move(policies));
}

bool PruneScheduler::request_stop(std::function<void()> stopped) {
  impl_->stop.requested = true;
  impl_->wake.cancel();
  if (!impl_->running) return false;
  impl_->on_stopped = std::move(stopped);
  return true;
}

void PruneScheduler::suspend(std::string reason) {
  if (impl_->slots.empty()) return;  // nothing to hold back
  log::warn("prune policies suspended until the config file is valid again", {{"reason", reason}});
  impl_->suspended = std::move(reason);
  impl_->publish();
}

}  // namespace composewatch::jobs
