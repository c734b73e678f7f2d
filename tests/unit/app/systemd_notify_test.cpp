// The agent as a Type=notify service: libsystemd's sd_notify talks to a datagram socket
// this test binds as systemd would ($NOTIFY_SOCKET, $WATCHDOG_USEC, $WATCHDOG_PID). A real
// systemd runs the installed unit in tests/integration/systemd_test.cpp.

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdlib>
#include <filesystem>

#include "composewatch/compose/discovery.h"
#include "composewatch/jobs/systemd_notifier.h"
#include "container_events.h"

using namespace composewatch;
using namespace std::chrono_literals;

namespace {

// A bound datagram socket standing in for systemd's notify socket, and the environment
// that points sd_notify at it; restored afterwards.
class FakeSystemd {
 public:
  explicit FakeSystemd(std::optional<std::chrono::microseconds> watchdog) {
    path_ = (std::filesystem::temp_directory_path() / ("cw-notify-" + std::to_string(::getpid()))).string();
    ::unlink(path_.c_str());
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("bind");
    ::setenv("NOTIFY_SOCKET", path_.c_str(), 1);
    if (watchdog) {
      ::setenv("WATCHDOG_USEC", std::to_string(watchdog->count()).c_str(), 1);
      ::setenv("WATCHDOG_PID", std::to_string(::getpid()).c_str(), 1);
    }
  }
  ~FakeSystemd() {
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  // Every datagram received so far.
  std::vector<std::string> received() {
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd_, buf, sizeof buf, 0)) > 0;) got_.emplace_back(buf, std::size_t(n));
    return got_;
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::vector<std::string> got_;
};

std::size_t count_with(const std::vector<std::string>& msgs, const std::string& part) {
  std::size_t n = 0;
  for (const auto& m : msgs) n += m.find(part) != std::string::npos;
  return n;
}

}  // namespace

TEST(ServiceStatus, SaysWhatItWaitsForAndWhatItWatches) {
  state::Snapshot s;
  s.engine.error = "cannot connect to unix:///var/run/docker.sock: no such file";
  EXPECT_EQ(jobs::service_status(s, "unix:///var/run/docker.sock"),
            "waiting for the Docker engine at unix:///var/run/docker.sock: cannot connect to "
            "unix:///var/run/docker.sock: no such file");
  s.engine.ready = s.engine.up = true;
  s.engine.error.clear();
  state::ContainerRecord a, b, gone;
  a.state = "running";
  b.state = "exited";
  gone.state = "removing";
  gone.present = false;
  s.containers = {a, b, gone};
  auto compose = std::make_shared<compose::ComposeState>();
  compose->projects.resize(1);
  s.compose = compose;
  EXPECT_EQ(jobs::service_status(s, "unix:///x"), "watching 2 containers (1 running), 1 compose project");
  s.engine.up = false;
  s.engine.error = "the engine closed the event stream";
  EXPECT_EQ(jobs::service_status(s, "unix:///x"),
            "lost the Docker engine at unix:///x, reconnecting: the engine closed the event stream");
}

// READY=1 means the HTTP endpoint serves (the notifier is started after it), not that the
// engine answered: with no engine the unit is active and says what it waits for, so a
// host with a broken Docker boots and `systemctl restart` returns.
TEST(SystemdNotifier, ReadyAtOnceWithoutTheEngineStatusSaysWhatItWaitsForWatchdogFromTheLoop) {
  FakeSystemd systemd(std::chrono::microseconds(400'000));
  state::StateModel model;
  jobs::SystemdNotifier notifier(model, "unix:///x.sock");
  ASSERT_TRUE(notifier.enabled());
  ASSERT_TRUE(notifier.watchdog());
  EXPECT_EQ(*notifier.watchdog(), std::chrono::microseconds(400'000));

  model.set_engine_up(false, "no such file");
  model.publish();
  boost::asio::io_context ioc;
  notifier.reloading();  // a SIGHUP before the first tick is part of the start: nothing sent
  EXPECT_TRUE(systemd.received().empty());
  boost::asio::co_spawn(ioc, notifier.run(), boost::asio::detached);
  ioc.run_for(500ms);
  auto msgs = systemd.received();
  ASSERT_FALSE(msgs.empty());
  EXPECT_EQ(count_with(msgs, "READY=1"), 1u) << "ready once serving, with no engine";
  EXPECT_NE(msgs.front().find("READY=1"), std::string::npos) << "at the first tick: " << msgs.front();
  EXPECT_NE(msgs.front().find("STATUS=waiting for the Docker engine at unix:///x.sock: no such file"),
            std::string::npos)
      << "the first status, with READY=1, says what it waits for: " << msgs.front();
  EXPECT_EQ(count_with(msgs, "STATUS=waiting for the Docker engine at unix:///x.sock: no such file"), 1u)
      << "a status is sent when it changes, not at every tick";
  EXPECT_GE(count_with(msgs, "WATCHDOG=1"), 2u) << "every 200 ms: half the period";

  // The engine answers: the status follows; READY=1 is not sent again.
  model.set_engine_up(true);
  model.set_ready(true);
  model.publish();
  ioc.run_for(500ms);
  msgs = systemd.received();
  EXPECT_EQ(count_with(msgs, "READY=1"), 1u);
  EXPECT_EQ(count_with(msgs, "STATUS=watching 0 containers (0 running), 0 compose projects"), 1u);

  notifier.reloading();
  notifier.reloaded();
  notifier.stopping();
  msgs = systemd.received();
  EXPECT_EQ(count_with(msgs, "RELOADING=1"), 1u);
  EXPECT_EQ(count_with(msgs, "READY=1"), 2u);
  EXPECT_EQ(count_with(msgs, "STOPPING=1"), 1u);
}

TEST(SystemdNotifier, OutsideSystemdNothingHappens) {
  ::unsetenv("NOTIFY_SOCKET");
  state::StateModel model;
  jobs::SystemdNotifier notifier(model, "unix:///x.sock");
  EXPECT_FALSE(notifier.enabled());
  EXPECT_FALSE(notifier.watchdog());
  notifier.reloading();  // no socket: no effect, no error
  notifier.stopping();
}
