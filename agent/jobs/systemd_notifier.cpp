#include "composewatch/jobs/systemd_notifier.h"

#include <systemd/sd-daemon.h>

#include <algorithm>
#include <cstdlib>

#include "composewatch/compose/discovery.h"
#include "composewatch/jobs/repeat.h"
#include "composewatch/log/log.h"

namespace composewatch::jobs {

namespace asio = boost::asio;

std::string service_status(const state::Snapshot& s, const std::string& engine) {
  if (!s.engine.ready)
    return "waiting for the Docker engine at " + engine + (s.engine.error.empty() ? "" : ": " + s.engine.error);
  if (!s.engine.up)
    return "lost the Docker engine at " + engine + ", reconnecting" +
           (s.engine.error.empty() ? "" : ": " + s.engine.error);
  std::size_t present = 0, running = 0;
  for (const auto& c : s.containers) {
    present += c.present;
    running += c.present && c.state == "running";
  }
  const std::size_t projects = s.compose ? s.compose->projects.size() : 0;
  return "watching " + std::to_string(present) + " containers (" + std::to_string(running) + " running), " +
         std::to_string(projects) + " compose project" + (projects == 1 ? "" : "s");
}

SystemdNotifier::SystemdNotifier(const state::StateModel& model, std::string engine)
    : model_(model), engine_(std::move(engine)) {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  enabled_ = socket != nullptr && *socket != '\0';
  std::uint64_t usec = 0;
  if (enabled_ && sd_watchdog_enabled(0, &usec) > 0 && usec > 0) watchdog_ = std::chrono::microseconds(usec);
}

void SystemdNotifier::send(const std::string& state) const {
  if (!enabled_) return;
  if (const int r = sd_notify(0, state.c_str()); r < 0)
    log::warn("systemd notification failed", {{"state", state.substr(0, state.find('\n'))}, {"errno", -r}});
}

// Before READY=1 (the first tick) a reload is part of the start: systemd waits for
// READY=1 anyway.
void SystemdNotifier::reloading() const {
  if (ready_sent_) send("RELOADING=1");
}
void SystemdNotifier::reloaded() const {
  if (ready_sent_) send("READY=1");
}
void SystemdNotifier::stopping() const { send("STOPPING=1"); }

asio::awaitable<void> SystemdNotifier::run() {
  // Half the watchdog period leaves room for a slow tick; without one, a second keeps
  // READY=1 and STATUS= close to what /readyz says.
  auto tick = std::chrono::duration_cast<std::chrono::milliseconds>(
      watchdog_ ? std::min<std::chrono::microseconds>(*watchdog_ / 2, std::chrono::seconds(1))
                : std::chrono::microseconds(std::chrono::seconds(1)));
  co_await repeat([&]() -> asio::awaitable<std::chrono::milliseconds> {
    const auto snap = model_.snapshot();
    std::string state;
    if (const std::string status = service_status(*snap, engine_); status != status_) {
      status_ = status;
      state += "STATUS=" + status + "\n";
    }
    // Started once the HTTP endpoint serves: ready at the first tick, engine or not, as
    // exporters are. A host whose Docker is broken still boots and `systemctl restart`
    // returns; STATUS= and composewatch_engine_up say the engine is missing, /readyz
    // turns 200 once it answered.
    if (!ready_sent_) {
      ready_sent_ = true;
      state += "READY=1\n";
      log::info("told systemd the agent is ready", {{"status", status_}, {"engine_ready", snap->engine.ready}});
    }
    if (watchdog_) state += "WATCHDOG=1\n";
    if (!state.empty()) send(state);
    co_return tick;
  });
}

}  // namespace composewatch::jobs
