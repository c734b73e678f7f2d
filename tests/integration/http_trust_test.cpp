// What a stranger who can reach the agent's port can and cannot do to it, on the real
// agent and the real engine: hold connections (at most --web.max-connections; events,
// inspects and state saves go on), make the accept loop fail (it is supervised and serves
// again), read secrets off the status page (hidden), and the headers of `/` and /metrics.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

#include "harness.h"

namespace itest {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

int connect_to(int port, bool blocking) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (blocking ? 0 : SOCK_NONBLOCK), 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    throw std::runtime_error("connect: " + why);
  }
  return fd;
}

// One keep-alive HTTP/1.1 connection, opened before the flood: the test's window onto
// the agent while every other connection is taken.
class KeepAlive {
 public:
  explicit KeepAlive(int port) : fd_(connect_to(port, true)) {
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~KeepAlive() { ::close(fd_); }
  KeepAlive(const KeepAlive&) = delete;
  KeepAlive& operator=(const KeepAlive&) = delete;

  HttpResponse get(const std::string& target) {
    const std::string request = "GET " + target + " HTTP/1.1\r\nHost: composewatch\r\n\r\n";
    if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size()))
      throw std::runtime_error("keep-alive connection: send failed");
    while (buffer_.find("\r\n\r\n") == std::string::npos) fill();
    const auto head_end = buffer_.find("\r\n\r\n") + 4;
    const std::string head = buffer_.substr(0, head_end);
    HttpResponse r;
    r.status = std::stoi(head.substr(9, 3));
    std::smatch m;
    if (!std::regex_search(head, m, std::regex("\r\n[Cc]ontent-[Ll]ength: *([0-9]+)")))
      throw std::runtime_error("keep-alive connection: no Content-Length in\n" + head);
    const std::size_t length = std::stoul(m[1]);
    while (buffer_.size() < head_end + length) fill();
    r.body = buffer_.substr(head_end, length);
    buffer_.erase(0, head_end + length);
    return r;
  }

 private:
  void fill() {
    char chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) throw std::runtime_error("keep-alive connection closed or timed out");
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
  int fd_;
  std::string buffer_;
};

// LimitNOFILE= of the packaged unit.
rlim_t unit_open_files_limit() {
  const std::string unit = read_text(source_dir() / "systemd" / "composewatch.service");
  std::smatch m;
  if (!std::regex_search(unit, m, std::regex("\nLimitNOFILE=([0-9]+)\n")))
    throw std::runtime_error("systemd/composewatch.service sets no LimitNOFILE=");
  return std::stoul(m[1]);
}

// The descriptors the test itself needs for `n` connections.
void allow_open_files(rlim_t n) {
  rlimit own{};
  ::getrlimit(RLIMIT_NOFILE, &own);
  if (own.rlim_cur >= n) return;
  if (own.rlim_max < n)
    throw std::runtime_error("the test needs " + std::to_string(n) + " open files; the hard limit is " +
                             std::to_string(own.rlim_max));
  own.rlim_cur = own.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &own);
}

// Whether the peer has closed `fd` (EOF or reset); data waiting counts as open.
bool closed_by_peer(int fd) {
  char c;
  const ssize_t n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

// Idle connections as a client that wants to hold them would make them: each connects and
// sends one request (so the server keeps it alive, idle, for a minute), and reads nothing.
class IdleConnections {
 public:
  IdleConnections(int port, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) fds_.push_back(connect_to(port, false));
    const std::string request = "GET /healthz HTTP/1.1\r\nHost: composewatch\r\n\r\n";
    // Each request goes out once its connect has completed (the kernel completes them from
    // the listen backlog whether or not the agent accepts).
    std::vector<bool> sent(n, false);
    std::size_t pending = n;
    for (auto until = std::chrono::steady_clock::now() + 20s; pending > 0 && std::chrono::steady_clock::now() < until;) {
      for (std::size_t i = 0; i < n; ++i) {
        if (sent[i]) continue;
        pollfd p{fds_[i], POLLOUT, 0};
        if (::poll(&p, 1, 0) == 1) {
          ::send(fds_[i], request.data(), request.size(), MSG_NOSIGNAL);
          sent[i] = true;
          --pending;
        }
      }
      std::this_thread::sleep_for(20ms);
    }
    not_sent_ = pending;
  }
  ~IdleConnections() {
    for (int fd : fds_) ::close(fd);
  }
  std::size_t not_sent() const { return not_sent_; }
  std::size_t still_open() const {
    std::size_t open = 0;
    for (int fd : fds_) open += closed_by_peer(fd) ? 0 : 1;
    return open;
  }

 private:
  std::vector<int> fds_;
  std::size_t not_sent_ = 0;
};

// The descriptors besides connections are bounded too: 2,000 clients holding connections
// to the agent, with the unit's LimitNOFILE=, leave the engine client (events, inspects)
// and the state saves working. Before --web.max-connections the agent accepted until the
// limit was reached: its inspects and state saves then failed with "Too many open files".
TEST(HttpConnections, TwoThousandIdleConnectionsLeaveEventsInspectsAndStateSavesWorking) {
  Cleanup cleanup;
  const rlim_t limit = unit_open_files_limit();
  constexpr std::size_t kConnections = 2000;
  ASSERT_GT(kConnections, limit) << "the flood must be able to exhaust the unit's limit";
  allow_open_files(kConnections + 256);
  const fs::path state = make_temp_dir(cleanup, "flood-state");
  AgentProcess agent({.state_dir = state, .log_level = "info"});
  // As systemd applies LimitNOFILE= to the service (prlimit(2): the same limits, set from outside).
  const rlimit as_in_unit{limit, limit};
  ASSERT_EQ(::prlimit(agent.pid(), RLIMIT_NOFILE, &as_in_unit, nullptr), 0) << std::strerror(errno);
  ASSERT_TRUE(eventually([&] { return agent.get("/readyz").status == 200; }, 30s, "the agent is ready"));

  KeepAlive window(agent.port());
  ASSERT_EQ(window.get("/healthz").status, 200);

  IdleConnections flood(agent.port(), kConnections);
  EXPECT_EQ(flood.not_sent(), 0u) << "every connection was established";
  std::this_thread::sleep_for(1s);
  const std::size_t held = flood.still_open();
  EXPECT_LE(held, 256u) << "beyond --web.max-connections (256, this test's window included) closed at once";
  EXPECT_GE(held, 200u) << "the connections within the limit are kept";

  // While they are held: a container with a memory limit (known only from inspect) is
  // started and killed.
  TestContainer c{.name = unique_name("flood"), .options = "-m 32m"};
  run_container(cleanup, c);
  must("docker kill " + c.name);
  const Labels series = container_series("", "", c.name);
  std::string last;
  auto metric = [&](const std::string& name, const Labels& labels) -> std::optional<double> {
    const auto r = window.get("/metrics");
    last = r.body;
    return Metrics::parse(r.body).value(name, labels);
  };
  EXPECT_TRUE(eventually([&] { return metric("composewatch_container_exits_total", with(series, "exit_code", "137")) == 1.0; },
                         20s, "the kill is counted (events)", [&] { return Metrics::parse(last).lines("composewatch_container_", {{"container", c.name}}); }));
  EXPECT_TRUE(eventually([&] { return metric("composewatch_container_state", with(series, "state", "exited")) == 1.0; },
                         20s, "the container is exited", [&] { return Metrics::parse(last).lines("composewatch_container_state", {{"container", c.name}}); }));
  std::string row;
  EXPECT_TRUE(eventually(
      [&] {
        const std::string page = window.get("/").body;
        const auto at = page.find("data-container=\"" + c.name + "\"");
        row = at == std::string::npos ? "" : page.substr(at, page.find("</tr>", at) - at);
        return row.find("limit 32MiB") != std::string::npos;
      },
      20s, "the status page shows the memory limit from inspect", [&] { return row; }));
  EXPECT_TRUE(eventually([&] { return read_text(state / "state.json").find(c.name) != std::string::npos; }, 30s,
                         "the state file is written with the container's counters"));

  const std::string log = agent.log();
  EXPECT_EQ(log.find("Too many open files"), std::string::npos) << agent.log_tail();
  EXPECT_NE(log.find("connections closed at once: too many open"), std::string::npos) << agent.log_tail();
  EXPECT_TRUE(agent.running());
  EXPECT_EQ(agent.stop(), 0) << agent.log_tail();
}

// Out of descriptors all the same (a limit below --web.max-connections), the agent says
// so once, with how often, instead of ten lines a second for as long as it lasts.
TEST(HttpConnections, AnAgentOutOfDescriptorsWarnsOnceAMinuteNotTenTimesASecond) {
  allow_open_files(1500);
  AgentProcess agent({.args = {"--web.max-connections=4000"}, .log_level = "info"});
  const rlimit low{256, 256};
  ASSERT_EQ(::prlimit(agent.pid(), RLIMIT_NOFILE, &low, nullptr), 0) << std::strerror(errno);
  IdleConnections flood(agent.port(), 400);
  std::this_thread::sleep_for(3s);  // accept fails (EMFILE) and is retried every 100 ms meanwhile
  std::size_t warnings = 0;
  std::istringstream in(agent.log());
  for (std::string l; std::getline(in, l);)
    if (l.find("accept") != std::string::npos && l.find("Too many open files") != std::string::npos) ++warnings;
  EXPECT_EQ(warnings, 1u) << agent.log_tail();
  EXPECT_NE(agent.log().find("msg=\"http: accept failed\" address=127.0.0.1:" + std::to_string(agent.port()) +
                             " error=\"Too many open files\" failures=1"),
            std::string::npos)
      << agent.log_tail();
}

// A limit that cannot hold --web.max-connections and the rest is said at start, with the
// figures to fix it by.
TEST(HttpConnections, AStartWithTooFewDescriptorsForMaxConnectionsIsWarnedAbout) {
  Cleanup cleanup;
  const fs::path state = make_temp_dir(cleanup, "nofile-state");
  const int port = free_port();
  ServiceProcess agent("agent", {"/bin/sh", "-c",
                                 "ulimit -n 300 && exec " + quote(agent_binary().string()) +
                                     " run --web.listen-address=127.0.0.1:" + std::to_string(port) +
                                     " --state.dir=" + quote(state.string()) + " --web.max-connections=256"},
                       {.wait_port = port});
  EXPECT_TRUE(eventually(
      [&] {
        return agent.log().find("msg=\"the open-files limit is below what --web.max-connections needs; raise "
                                "LimitNOFILE= or lower it\" open_files_limit=300 max_connections=256 needed=384") !=
               std::string::npos;
      },
      10s, "the warning", [&] { return agent.log_tail(); }));
  EXPECT_EQ(agent.stop(), 0) << agent.log_tail();
}

// The accept loop is a job like the others, on the server's own thread: a fault that ends
// it is logged, it is started again with backoff, /healthz names it while it crash-loops,
// and the agent serves again. Before, an exception ended it for good while the agent ran on
// (and it was no job the fault injection could name).
TEST(HttpAcceptLoop, IsStartedAgainAfterAFaultAndTheAgentServesAgain) {
  AgentProcess agent({.env = {{"COMPOSEWATCH_TEST_FAULT", "http:3"}}});
  std::vector<std::string> failures;
  EXPECT_TRUE(eventually(
      [&] {
        failures.clear();
        std::istringstream in(agent.log());
        for (std::string l; std::getline(in, l);)
          if (l.find("job failed; restarting it") != std::string::npos && l.find("job=http ") != std::string::npos &&
              l.find("injected fault") != std::string::npos)
            failures.push_back(l);
        return failures.size() == 3;
      },
      20s, "the accept loop failed three times, each logged with job=http and the error", [&] { return agent.log_tail(); }));
  EXPECT_TRUE(eventually([&] { return agent.log().find("job started again\" job=http restarts=3") != std::string::npos; }, 20s,
                         "started again after the third failure", [&] { return agent.log_tail(); }));
  // Connections made while it was down waited in the backlog; now it serves, and names
  // itself as crash-looping.
  const auto health = agent.get("/healthz");
  EXPECT_EQ(health.status, 503);
  EXPECT_NE(health.body.find("job crash-looping: http: failed 3 times"), std::string::npos) << health.body;
  EXPECT_EQ(agent.get("/metrics").status, 200);
  EXPECT_TRUE(agent.running());
  EXPECT_EQ(agent.stop(), 0) << agent.log_tail();
}

TEST(HttpHeaders, ThePageAndTheMetricsAreNotCachedSniffedOrFramed) {
  AgentProcess agent;
  const auto page = agent.get("/");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.header("cache-control"), "no-store");
  EXPECT_EQ(page.header("x-content-type-options"), "nosniff");
  EXPECT_EQ(page.header("content-security-policy"), "default-src 'none'; style-src 'unsafe-inline'");
  EXPECT_EQ(page.header("x-frame-options"), "DENY");
  const auto metrics = agent.get("/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.header("cache-control"), "no-store");
  EXPECT_EQ(metrics.header("x-content-type-options"), "nosniff");
}

TEST(HttpAuth, AWebConfigWithABcryptCostAbove14StopsTheStart) {
  Cleanup cleanup;
  const fs::path dir = make_temp_dir(cleanup, "web-cost");
  // A real bcrypt hash (htpasswd's "$2y$"), its cost field raised to 15.
  write(dir / "web.yml", "basic_auth_users:\n  prometheus: $2y$15$X0h1gDsPszWURQaxFh.zoubFi6DXncSjhoQNJgRrnGs7EsimhC7zG\n");
  AgentProcess agent({.args = {"--web.config.file=" + (dir / "web.yml").string()}, .wait_listening = false});
  ASSERT_TRUE(eventually([&] { return !agent.running(); }, 15s, "the agent exits"));
  EXPECT_NE(agent.stop(), 0);
  EXPECT_NE(agent.log().find((dir / "web.yml").string() + ":2: basic_auth_users.prometheus: bcrypt cost 15 is above 14"),
            std::string::npos)
      << agent.log_tail();
}

// Healthcheck commands and compose load errors on the status page, in the log and from
// `composewatch status` and `check` carry no value from the environment: not a secret's
// (by key: DB_PASSWORD, ADMIN_PASSWORD, API_TOKEN), not any other interpolated one
// (HEALTH_USER), from the agent's environment or the project's .env.
TEST(StatusPageSecrets, HealthchecksAndLoadErrorsShowNoEnvironmentValue) {
  Cleanup cleanup;
  const std::map<std::string, std::string> secrets = {{"DB_PASSWORD", "db-pw-0451-from-env"},
                                                      {"ADMIN_PASSWORD", "adm-pw-0452-from-env"},
                                                      {"HEALTH_USER", "monitor-0453-from-env"}};
  const std::string dotenv_token = "tok-0454-from-dotenv";

  // Project one loads; its container runs another healthcheck than the file declares, so
  // the page shows both tests in "what differs".
  const std::string good = unique_name("secret");
  const fs::path good_dir = make_temp_dir(cleanup, "secret-good");
  write(good_dir / ".env", "API_TOKEN=" + dotenv_token + "\n");
  write(good_dir / "docker-compose.yml",
        std::string("services:\n  db:\n    image: ") + kImage +
            "\n    network_mode: none\n    healthcheck:\n"
            "      test: [\"CMD-SHELL\", \"PGPASSWORD=${DB_PASSWORD} pg_isready -h localhost || "
            "curl -fsu ${HEALTH_USER}:${ADMIN_PASSWORD} -H 'Authorization: Bearer ${API_TOKEN}' http://localhost/new\"]\n");
  const std::string container = good + "_db_1";
  cleanup.container(container);
  must("docker run -d --name " + container + " --network none " + compose_labels(good, "db") + " --label " +
       quote("com.docker.compose.project.working_dir=" + good_dir.string()) + " --label " +
       quote("com.docker.compose.project.config_files=docker-compose.yml") + " --health-cmd " +
       quote("PGPASSWORD=" + secrets.at("DB_PASSWORD") + " pg_isready -h localhost || curl -fsu " +
             secrets.at("HEALTH_USER") + ":" + secrets.at("ADMIN_PASSWORD") + " -H 'Authorization: Bearer " +
             dotenv_token + "' http://localhost/old") +
       " " + kImage + " sleep 3600");

  // Project two does not load: the error quotes its healthcheck, secret included.
  const std::string broken = unique_name("secret-broken");
  const fs::path broken_dir = make_temp_dir(cleanup, "secret-broken");
  write(broken_dir / "docker-compose.yml", std::string("services:\n  app:\n    image: ") + kImage +
                                               "\n    healthcheck:\n      test: [\"curl -fsu admin:${ADMIN_PASSWORD} "
                                               "http://localhost/\"]\n");

  const fs::path config = good_dir / "config.yml";
  write(config, "compose:\n  projects:\n    - name: " + good + "\n      files: [" +
                    (good_dir / "docker-compose.yml").string() + "]\n    - name: " + broken + "\n      files: [" +
                    (broken_dir / "docker-compose.yml").string() + "]\n");
  std::map<std::string, std::optional<std::string>> env;
  for (const auto& [k, v] : secrets) env[k] = v;
  AgentProcess agent({.args = {"--config.file=" + config.string()}, .env = env});

  auto leaks = [&](const std::string& text) {
    std::string found;
    for (const auto& [k, v] : secrets)
      if (text.find(v) != std::string::npos) found += " " + k;
    if (text.find(dotenv_token) != std::string::npos) found += " API_TOKEN";
    return found;
  };
  std::string page;
  ASSERT_TRUE(eventually(
      [&] {
        page = agent.get("/").body;
        return page.find("what differs") != std::string::npos && page.find("load-error") != std::string::npos;
      },
      30s, "the page shows the drift details and the load error", [&] { return page; }));
  EXPECT_EQ(leaks(page), "") << page;
  // What is shown instead: the commands, their secrets masked.
  EXPECT_NE(page.find("PGPASSWORD=***** pg_isready -h localhost || curl -fsu *****:***** -H &#39;Authorization: Bearer "
                      "*****&#39; http://localhost/new"),
            std::string::npos)
      << page;
  EXPECT_NE(page.find("http://localhost/old"), std::string::npos) << page;
  EXPECT_NE(page.find("healthcheck.test must start with NONE, CMD or CMD-SHELL, got &#39;curl -fsu admin:***** "
                      "http://localhost/&#39;"),
            std::string::npos)
      << page;
  EXPECT_EQ(leaks(agent.log()), "") << agent.log_tail();

  std::string with_env;
  for (const auto& [k, v] : secrets) with_env += k + "=" + quote(v) + " ";
  const std::string bin = quote(agent_binary().string());
  const auto status = sh(with_env + bin + " status --config.file=" + quote(config.string()) + " 2>&1");
  EXPECT_EQ(status.code, 0) << status.out;
  EXPECT_NE(status.out.find(container), std::string::npos) << status.out;
  EXPECT_EQ(leaks(status.out), "") << status.out;
  const auto check = sh(with_env + bin + " check --config.file=" + quote(config.string()) + " 2>&1");
  EXPECT_NE(check.out.find("healthcheck"), std::string::npos) << check.out;
  EXPECT_EQ(leaks(check.out), "") << check.out;
}

}  // namespace
}  // namespace itest
