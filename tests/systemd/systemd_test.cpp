// The package under a real systemd: a Debian 12 root with systemd as PID 1
// (scripts/systemd-image.sh) booted in a container with the host's cgroups and Docker
// socket, the way these machines allow it (no --privileged: SYS_ADMIN, no seccomp). Inside,
// the .deb is installed with dpkg, the unit reaches active (running) only through READY=1,
// /metrics carries every family, a reload applies a changed config, a stopped agent is
// restarted by the watchdog, the unit scores <= 1.5 in systemd-analyze security, and an
// upgrade keeps the config while a purge leaves nothing behind. The unit file is also
// checked offline (systemd-analyze verify, security --offline=true).

#include <sys/stat.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "harness.h"

namespace itest {
namespace {

namespace fs = std::filesystem;

fs::path package() {
  for (const auto& e : fs::directory_iterator(COMPOSEWATCH_BUILD_DIR))
    if (e.path().extension() == ".deb" && e.path().filename().string().starts_with("composewatch_")) return e.path();
  throw std::runtime_error(std::string("no composewatch_*.deb in ") + COMPOSEWATCH_BUILD_DIR +
                           ": run cmake --build build --target package (scripts/dev.sh does)");
}

fs::path unit_file() { return source_dir() / "systemd/composewatch.service"; }

// "Overall exposure level for composewatch.service: 1.5 OK" -> 1.5
double exposure(const std::string& text) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex(R"(Overall exposure level for \S+: ([0-9.]+))")))
    throw std::runtime_error("no exposure level in:\n" + text);
  return std::stod(m[1]);
}

TEST(SystemdUnitFile, VerifiesAndScoresOffline) {
  Cleanup cleanup;
  const fs::path dir = make_temp_dir(cleanup, "unit");
  // The unit as installed, but for where the binary and its man page are.
  std::ifstream in(unit_file());
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = std::regex_replace(ss.str(), std::regex("/usr/bin/composewatch"), agent_binary().string());
  std::ofstream(dir / "composewatch.service") << text;
  fs::create_directories(dir / "man/man1");
  const fs::path man = fs::path(COMPOSEWATCH_BUILD_DIR) / "package/composewatch.1.gz";
  ASSERT_TRUE(fs::exists(man)) << man;
  fs::copy_file(man, dir / "man/man1/composewatch.1.gz");

  const ShResult verify = sh("cd " + quote(dir.string()) + " && MANPATH=" + quote((dir / "man").string()) +
                             " systemd-analyze verify composewatch.service");
  EXPECT_EQ(verify.code, 0) << verify.out << verify.err;
  EXPECT_EQ(verify.err, "") << "verify warns";
  const ShResult security =
      sh("cd " + quote(dir.string()) + " && systemd-analyze security --offline=true composewatch.service");
  EXPECT_LE(exposure(security.out + security.err), 1.5) << security.out;
}

// One container, booted for the test below, removed at the end. Set up per test, not per
// suite: a suite set-up that fails shows in ctest as a skipped test, this one as a failure.
class SystemdHost : public ::testing::Test {
 protected:
  void SetUp() override {
    deb_ = package();
    image_ = must(quote((source_dir() / "scripts/systemd-image.sh").string()) + " " + quote(deb_.string()), 900s);
    name_ = unique_name("systemd");
    struct stat st {};
    ASSERT_EQ(::stat("/var/run/docker.sock", &st), 0);
    // The engine's socket at another path first: the unit waits for it (READY=1 later).
    must("docker run -d --name " + name_ +
         " --network none --cap-add SYS_ADMIN --security-opt seccomp=unconfined"
         " -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock"
         " -v /var/run/docker.sock:/host/docker.sock -v /var/lib/docker:/var/lib/docker:ro"
         " -v /proc:/host/proc:ro " +
         image_ + " /lib/systemd/systemd");
    ASSERT_TRUE(eventually(
        [] {
          const auto s = sh(exec("systemctl is-system-running")).out;
          return s.starts_with("running") || s.starts_with("degraded");
        },
        60s, "systemd boots in the container", [] { return sh(exec("systemctl --failed --no-legend")).out; }));
    // The host socket's group, as the docker group the unit's SupplementaryGroups= names.
    must(exec("groupadd -g " + std::to_string(st.st_gid) + " docker"));
    // Containers' PIDs are the host's: their /proc is mounted at /host/proc.
    must(exec("sh -c 'echo ARGS=--path.procfs=/host/proc > /etc/default/composewatch'"));
    must("docker cp " + quote(deb_.string()) + " " + name_ + ":/tmp/composewatch.deb");
  }
  void TearDown() override {
    if (!name_.empty()) sh("docker rm -f " + name_, 60s);
  }

  static std::string exec(const std::string& cmd) { return "docker exec " + name_ + " " + cmd; }
  static std::string in(const std::string& cmd, std::chrono::milliseconds t = 120s) { return must(exec(cmd), t); }
  static std::string show(const std::string& property) {
    return in("systemctl show -p " + property + " --value composewatch.service");
  }
  static std::string journal() { return sh(exec("journalctl -u composewatch.service --no-pager")).out; }
  static Metrics scrape() { return Metrics::parse(in("curl -sf http://127.0.0.1:9469/metrics")); }

  static fs::path deb_;
  static std::string image_, name_;
};

fs::path SystemdHost::deb_;
std::string SystemdHost::image_;
std::string SystemdHost::name_;

// The steps depend on each other (install before scrape before upgrade): one test.
TEST_F(SystemdHost, InstallReadyMetricsReloadWatchdogSecurityUpgradePurge) {
  Cleanup cleanup;

  // Install: postinst enables and starts the unit without waiting for it.
  const auto t0 = std::chrono::steady_clock::now();
  in("dpkg -i /tmp/composewatch.deb");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 30s) << "the install must not wait for the engine";
  ASSERT_TRUE(eventually([] { return show("ActiveState") == "activating"; }, 30s, "the unit is activating",
                         [] { return show("ActiveState") + "\n" + journal(); }));
  // No engine yet: still activating, and the status says what it waits for.
  std::this_thread::sleep_for(3s);
  EXPECT_EQ(show("ActiveState"), "activating") << journal();
  EXPECT_NE(show("StatusText").find("waiting for the Docker engine at unix:///var/run/docker.sock"), std::string::npos)
      << show("StatusText");
  EXPECT_NE(in("sh -c 'curl -s -o /dev/null -w %{http_code} http://127.0.0.1:9469/readyz'"), "200");

  // The engine appears: READY=1 makes it active (running), as /readyz turns 200.
  const std::string busy = unique_name("busy");
  cleanup.container(busy);
  must("docker run -d --name " + busy + " --network none -m 64m --cpus 0.5 " + std::string(kImage) + " sleep 600");
  in("ln -s /host/docker.sock /run/docker.sock");
  ASSERT_TRUE(eventually([] { return show("ActiveState") == "active"; }, 30s, "the unit is active",
                         [] { return show("ActiveState") + "\n" + journal(); }));
  EXPECT_EQ(show("SubState"), "running");
  EXPECT_EQ(in("sh -c 'curl -s -o /dev/null -w %{http_code} http://127.0.0.1:9469/readyz'"), "200");
  EXPECT_NE(show("StatusText").find("watching "), std::string::npos) << show("StatusText");
  EXPECT_NE(journal().find("told systemd the agent is ready"), std::string::npos);
  EXPECT_EQ(show("DynamicUser"), "yes");
  EXPECT_NE(in("sh -c 'ps -o user= -p $(systemctl show -p MainPID --value composewatch)'"), "root");

  // Every family under the hardening: cgroups, /proc (network, through --path.procfs), the
  // Docker root dir's filesystem, the socket. The disk collector retries within 30 s of a
  // first failure (there was no engine at start).
  ASSERT_TRUE(eventually([] { return scrape().value("composewatch_collector_success", {{"collector", "disk"}}) == 1; },
                         60s, "the disk collector answers", [] { return journal(); }));
  const Metrics m = scrape();
  std::set<std::string> names;
  for (const auto& s : m.samples()) names.insert(s.name);
  for (const auto& family : host_metric_families())
    EXPECT_TRUE(names.count(family)) << family << " is missing under the unit\n" << m.lines("composewatch_collector");
  for (const auto& s : m.find("composewatch_collector_success")) EXPECT_EQ(s->value, 1) << format_sample(*s);
  EXPECT_EQ(m.value("composewatch_container_memory_limit_bytes", {{"container", busy}}), 64 << 20);
  EXPECT_TRUE(m.value("composewatch_container_network_receive_bytes_total", {{"container", busy}}).has_value());

  // On a real host the agent reads containers' counters through the unit's own /proc
  // (ProcSubset=pid), not a /host/proc: a root process in another network namespace,
  // read from a transient service with the installed unit's user and sandbox.
  in("sh -c 'unshare --net sleep 600 >/dev/null 2>&1 &'");
  const std::string netns_pid = in("sh -c 'sleep 1; pgrep -f \"^sleep 600\" | head -n 1'");
  std::string sandbox;
  {
    std::istringstream unit(in("cat /lib/systemd/system/composewatch.service"));
    const std::regex property(
        R"(^(DynamicUser|SupplementaryGroups|CapabilityBoundingSet|NoNewPrivileges|Protect\w+|Private\w+|)"
        R"(Restrict\w+|ProcSubset|LockPersonality|MemoryDenyWriteExecute|SystemCall\w+|UMask)=.*)");
    bool service = false;
    for (std::string line; std::getline(unit, line);) {
      if (line.starts_with("[")) service = line == "[Service]";
      if (service && std::regex_match(line, property)) sandbox += " -p " + quote(line);
    }
  }
  ASSERT_NE(sandbox.find("ProcSubset=pid"), std::string::npos) << sandbox;
  const ShResult net_dev = sh(exec("systemd-run --wait --pipe -q" + sandbox + " cat /proc/" + netns_pid + "/net/dev"));
  EXPECT_EQ(net_dev.code, 0) << sandbox << "\n" << net_dev.out << net_dev.err;
  EXPECT_NE(net_dev.out.find("lo:"), std::string::npos) << net_dev.out << net_dev.err;

  // Reload: a policy added to the config is running after `systemctl reload`.
  in("sh -c 'printf \"prune:\\n  policies:\\n    - {name: reloaded, schedule: every 1h, target: images}\\n\""
     " > /etc/composewatch/config.yml'");
  in("systemctl reload composewatch.service");
  EXPECT_EQ(show("ActiveState"), "active");
  EXPECT_TRUE(scrape().value("composewatch_prune_runs_total", {{"policy", "reloaded"}, {"mode", "dry_run"}}).has_value())
      << journal();
  EXPECT_NE(journal().find("Reloaded composewatch.service"), std::string::npos);

  // Watchdog: a stopped agent (its event loop with it) is killed and started again.
  const std::string pid = show("MainPID");
  in("kill -STOP " + pid);
  ASSERT_TRUE(eventually([&] { return show("MainPID") != pid && show("ActiveState") == "active"; }, 90s,
                         "the watchdog restarts the agent", [] { return journal(); }, 1s));
  EXPECT_NE(journal().find("Watchdog timeout"), std::string::npos);
  EXPECT_EQ(show("NRestarts"), "1");

  // The installed unit's exposure, as systemd itself sees it.
  const std::string security = sh(exec("systemd-analyze security --no-pager composewatch.service")).out;
  EXPECT_LE(exposure(security), 1.5) << security;

  // Upgrade: the same payload as a newer version; the edited config stays, the state
  // directory too, and the new version runs.
  in("sh -c 'echo \"# edited by hand\" >> /etc/composewatch/config.yml'");
  in("sh -c 'mkdir -p /tmp/up && dpkg-deb -R /tmp/composewatch.deb /tmp/up && "
     "sed -i \"s/^Version: .*/&+upgrade1/\" /tmp/up/DEBIAN/control && dpkg-deb -b /tmp/up /tmp/up.deb'");
  in("dpkg -i /tmp/up.deb");
  EXPECT_NE(in("dpkg-query -W -f='${Version}' composewatch").find("+upgrade1"), std::string::npos);
  EXPECT_NE(in("tail -n 1 /etc/composewatch/config.yml").find("# edited by hand"), std::string::npos);
  EXPECT_EQ(sh(exec("test -d /var/lib/private/composewatch")).code, 0) << "the state directory is kept";
  ASSERT_TRUE(eventually([] { return show("ActiveState") == "active"; }, 30s, "active after the upgrade",
                         [] { return journal(); }));

  // Remove, then purge: the unit stops, and nothing of the package is left.
  in("dpkg -r composewatch");
  EXPECT_NE(show("ActiveState"), "active");
  EXPECT_EQ(sh(exec("test -e /usr/bin/composewatch")).code, 1);
  EXPECT_EQ(sh(exec("test -e /etc/composewatch/config.yml")).code, 0) << "remove keeps the conffile";
  in("dpkg -P composewatch");
  for (const char* gone : {"/etc/composewatch", "/var/lib/private/composewatch", "/var/lib/composewatch",
                           "/lib/systemd/system/composewatch.service",
                           "/etc/systemd/system/multi-user.target.wants/composewatch.service"})
    EXPECT_NE(sh(exec(std::string("test -e ") + gone)).code, 0) << gone << " is left after purge";
  EXPECT_NE(sh(exec("dpkg-query -W composewatch")).code, 0) << "dpkg still knows the package";
}

}  // namespace
}  // namespace itest
