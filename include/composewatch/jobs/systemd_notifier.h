#pragma once
// The agent as a systemd Type=notify service (sd_notify through $NOTIFY_SOCKET):
// READY=1 once the HTTP endpoint serves (the job is started after it, and says so at its
// first tick), whether or not the Docker engine answers — like an exporter, so that a
// host with a broken Docker still boots; STATUS= saying what it waits for (the engine)
// or what it watches (/readyz turns 200 once the engine answered), WATCHDOG=1 from the
// writer's event loop (a hung loop is restarted, not only a dead process), RELOADING=1
// around SIGHUP, STOPPING=1 on the way out. Outside systemd every call does nothing.
//
// Members on the writer's thread.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "composewatch/state/model.h"

namespace composewatch::jobs {

// What STATUS= says for this snapshot: pure, so its wording is tested without systemd.
std::string service_status(const state::Snapshot& s, const std::string& engine);

class SystemdNotifier {
 public:
  // `engine` names the engine in STATUS= (its address).
  SystemdNotifier(const state::StateModel& model, std::string engine);

  // $NOTIFY_SOCKET is set: systemd listens.
  bool enabled() const { return enabled_; }
  // WatchdogSec= of the unit, when set for this process.
  std::optional<std::chrono::microseconds> watchdog() const { return watchdog_; }

  // The job: READY=1 once, at its first tick, STATUS= when it changes, WATCHDOG=1 at half
  // the watchdog period (or every second). Start it only when enabled(), and only once the
  // HTTP endpoint serves: READY=1 says so.
  boost::asio::awaitable<void> run();

  void reloading() const;  // RELOADING=1, before a SIGHUP reload (once ready)
  void reloaded() const;   // READY=1 after it (once ready)
  void stopping() const;   // STOPPING=1

 private:
  void send(const std::string& state) const;

  const state::StateModel& model_;
  std::string engine_;
  bool enabled_ = false;
  std::optional<std::chrono::microseconds> watchdog_;
  bool ready_sent_ = false;
  std::string status_;
};

}  // namespace composewatch::jobs
