// Every long-lived job of `composewatch run` is supervised: a fault injected into each one
// (COMPOSEWATCH_TEST_FAULT, a test-only switch read once at start; see supervisor.h) is
// logged with the job's name and the exception, the job is started again and its work
// resumes, and /healthz turns 503 naming a job that keeps failing. The real agent on the
// real engine, with every optional job switched on: a compose project, a prune policy
// (a dry run on a 24 h schedule: nothing is deleted), a 1 s disk interval, and a
// NOTIFY_SOCKET of the test's own with a watchdog so the systemd job runs.

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "harness.h"

namespace itest {
namespace {

// A unix datagram socket standing in for systemd's notification socket.
class NotifySocket {
 public:
  explicit NotifySocket(std::filesystem::path path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, path_.c_str());
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("notify socket: " + std::string(std::strerror(errno)));
  }
  ~NotifySocket() { ::close(fd_); }
  // The datagrams received since the last call.
  std::vector<std::string> drain() {
    std::vector<std::string> out;
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd_, buf, sizeof buf, 0)) > 0;) out.emplace_back(buf, std::size_t(n));
    return out;
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

std::vector<std::string> lines_of(const std::string& log) {
  std::vector<std::string> out;
  std::istringstream in(log);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

bool has_all(const std::string& line, std::initializer_list<std::string> parts) {
  for (const auto& p : parts)
    if (line.find(p) == std::string::npos) return false;
  return true;
}

// Index of the first log line holding every part, or -1.
long find_line(const std::vector<std::string>& lines, std::initializer_list<std::string> parts, long from = 0) {
  for (long i = from; i < long(lines.size()); ++i)
    if (has_all(lines[std::size_t(i)], parts)) return i;
  return -1;
}

const std::vector<std::string> kJobs = {"events", "oom-folder", "compose-watcher", "disk",  "prune",   "images",
                                        "systemd", "heartbeat",  "expiry",          "autoheal"};

void write(const std::filesystem::path& p, const std::string& text) { std::ofstream(p) << text; }

TEST(JobSupervision, EveryJobOfRunIsStartedAgainAfterAFaultAndResumesItsWork) {
  Cleanup cleanup;
  const auto dir = make_temp_dir(cleanup, "supervision");
  const std::string project = unique_name("sup");
  const auto compose_file = dir / "docker-compose.yml";
  write(compose_file, "services:\n  web:\n    image: " + std::string(kImage) + "\n");
  write(dir / "config.yml", "disk: {interval: 1s}\n"
                            "compose:\n  projects:\n    - name: " + project + "\n      files: [" +
                                compose_file.string() + "]\n"
                            "prune:\n  policies:\n    - name: supervised\n      schedule: every 24h\n"
                            "      target: networks\n      dry_run: true\n");
  NotifySocket notify(dir / "notify.sock");

  std::string faults;
  for (const auto& j : kJobs) faults += (faults.empty() ? "" : ",") + j;
  faults += ",disk:3";  // disk fails three times in a row: a crash loop for /healthz
  AgentProcess agent({.args = {"--config.file=" + (dir / "config.yml").string()},
                      .env = {{"COMPOSEWATCH_TEST_FAULT", faults},
                              {"NOTIFY_SOCKET", notify.path().string()},
                              {"WATCHDOG_USEC", "2000000"},
                              {"WATCHDOG_PID", std::nullopt}}});

  // Each job fails once (disk three times), is logged by name with the exception, and is
  // started again.
  for (const auto& job : kJobs) {
    EXPECT_TRUE(eventually(
        [&] {
          const auto lines = lines_of(agent.log());
          return find_line(lines, {"job failed; restarting it", "job=" + job + " ", "injected fault"}) >= 0 &&
                 find_line(lines, {"job started again", "job=" + job + " "}) >= 0;
        },
        15s, "job " + job + " failed with the injected fault and was started again", [&] { return agent.log_tail(); }));
  }

  // The crash-looping job makes /healthz fail and names it; the jobs that failed once do not.
  EXPECT_TRUE(eventually([&] { return agent.get("/healthz").status == 503; }, 15s, "/healthz 503 for disk",
                         [&] { return agent.get("/healthz").body; }));
  const auto health = agent.get("/healthz");
  EXPECT_NE(health.body.find("job crash-looping: disk: failed 3 times"), std::string::npos) << health.body;
  EXPECT_NE(health.body.find("injected fault"), std::string::npos) << health.body;
  for (const auto& job : kJobs)
    if (job != "disk") EXPECT_EQ(health.body.find(job + ":"), std::string::npos) << health.body;

  // Their work resumes after the restart.
  // events: a container started now shows up.
  TestContainer c{.name = unique_name("sup-events")};
  run_container(cleanup, c);
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_container_info", {{"container", c.name}}, 1, 15s));
  // compose-watcher: an edit of the compose file is picked up.
  write(compose_file, "services:\n  web:\n    image: " + std::string(kImage) + "\n  worker:\n    image: " +
                          std::string(kImage) + "\n");
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_service_replicas_desired",
                                   {{"project", project}, {"service", "worker"}}, 1, 15s));
  // disk: /system/df is taken again (1 s interval) after its last restart: the time the
  // status page gives for it moves on.
  auto df_time = [&] {
    const std::string page = agent.get("/").body;
    const std::string marker = "As <code>docker system df</code> counts it, ";
    const auto at = page.find(marker);
    return at == std::string::npos ? std::string() : page.substr(at + marker.size(), 23);
  };
  EXPECT_TRUE(eventually(
      [&] {
        const auto lines = lines_of(agent.log());
        long last = -1;
        for (long i = 0; (i = find_line(lines, {"job started again", "job=disk "}, i)) >= 0; ++i) last = i;
        return last >= 0 && lines.size() > std::size_t(last) && lines[std::size_t(last)].find("restarts=3") != std::string::npos;
      },
      15s, "disk started again for the third time", [&] { return agent.log_tail(); }));
  const std::string df_before = df_time();
  EXPECT_TRUE(eventually([&] { return !df_before.empty() && df_time() != df_before; }, 10s,
                         "disk usage taken again after disk's last restart",
                         [&] { return "before: " + df_before + ", now: " + df_time(); }));
  // systemd: watchdog pings keep coming after its restart.
  notify.drain();
  EXPECT_TRUE(eventually(
      [&] {
        for (const auto& d : notify.drain())
          if (d.find("WATCHDOG=1") != std::string::npos) return true;
        return false;
      },
      5s, "WATCHDOG=1 after the systemd job's restart"));
  // heartbeat, expiry, oom-folder, prune and autoheal have no effect a test can see in
  // seconds (a 15 s stale heartbeat, a 15 min retention, a kill the events missed, a 24 h
  // schedule, nothing opted in; auto-heal's own restarts are Autoheal.*):
  // their restart line above and a clean stop are what is checked.
  EXPECT_TRUE(agent.running());
  for (const auto& job : kJobs) {
    if (job == "disk") continue;
    const auto lines = lines_of(agent.log());
    long failures = 0;
    for (long i = 0; (i = find_line(lines, {"job failed;", "job=" + job + " "}, i)) >= 0; ++i) ++failures;
    EXPECT_EQ(failures, 1) << job << " failed again after its restart:\n" << agent.log_tail();
  }
  EXPECT_EQ(agent.stop(), 0) << agent.log_tail();
}

TEST(JobSupervision, AMalformedFaultSpecIsAFatalStartUpError) {
  AgentProcess agent({.env = {{"COMPOSEWATCH_TEST_FAULT", "disk:0"}}, .wait_listening = false});
  ASSERT_TRUE(eventually([&] { return !agent.running(); }, 15s, "the agent exits"));
  EXPECT_EQ(agent.stop(), 1);
  EXPECT_NE(agent.log().find("COMPOSEWATCH_TEST_FAULT"), std::string::npos) << agent.log_tail();
}

}  // namespace
}  // namespace itest
