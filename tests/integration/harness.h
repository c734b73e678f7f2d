#pragma once
// Integration test harness: shell commands, the real Docker engine, the built agent binary
// and its /metrics, with clean-up that runs whether a test passes or fails.
//
// Error policy: helpers that set things up (must(), AgentProcess's constructor, Cleanup
// registration) throw std::runtime_error with the command and its output; gtest reports
// the exception as the test's failure and the destructors still clean up. Predicates
// used in assertions return testing::AssertionResult with the evidence.
//
// Nothing here is thread-safe; a test drives one thread.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace itest {

using namespace std::chrono_literals;
using Labels = std::map<std::string, std::string>;

// The image scripts/test-image.sh builds: busybox-static with every applet.
inline constexpr const char* kImage = "composewatch-test/busybox:1";

// ---------------------------------------------------------------------------- shell

struct ShResult {
  int code = -1;    // exit status; 128+N when killed by signal N; 124 on timeout
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs `cmd` with /bin/sh -c, no stdin, and waits at most `timeout` (then kills its
// process group and returns code 124).
ShResult sh(const std::string& cmd, std::chrono::milliseconds timeout = 120s);
// Like sh() but throws unless the command exits 0. Returns stdout without the trailing
// newline.
std::string must(const std::string& cmd, std::chrono::milliseconds timeout = 120s);
// Single-quotes `s` for /bin/sh.
std::string quote(std::string_view s);

// The whole file at `p` as it is; empty when it cannot be read.
std::string read_text(const std::filesystem::path& p);

// "cwit-<pid>-<prefix>-<n>": unique per process and call. Docker and Compose v1 accept
// it as a container, network and project name (lower case, digits, '-').
std::string unique_name(std::string_view prefix);

// Polls pred every `poll` until it holds or `timeout` passes. On timeout the result
// carries `what` and, if given, describe()'s account of the last state.
testing::AssertionResult eventually(const std::function<bool()>& pred,
                                    std::chrono::milliseconds timeout, const std::string& what,
                                    const std::function<std::string()>& describe = {},
                                    std::chrono::milliseconds poll = 100ms);

// ------------------------------------------------------------------------- clean-up

// Removes, in reverse order of registration, what a test made: containers, Compose
// projects, networks, temp dirs. Runs in the destructor, pass or fail; a failed removal
// is printed, never thrown.
class Cleanup {
 public:
  Cleanup() = default;
  Cleanup(const Cleanup&) = delete;
  Cleanup& operator=(const Cleanup&) = delete;
  ~Cleanup();

  void container(const std::string& name);
  // `docker-compose -p project -f file down -v --remove-orphans`, then removes whatever
  // still carries the project's label.
  void compose(const std::filesystem::path& file, const std::string& project);
  void network(const std::string& name);
  void path(const std::filesystem::path& p);
  // Any other undo step.
  void add(std::function<void()> step);

  // Runs every step now (also done by the destructor).
  void run();

 private:
  std::vector<std::function<void()>> steps_;
};

// A fresh directory under /tmp, registered with `cleanup` for removal.
std::filesystem::path make_temp_dir(Cleanup& cleanup, std::string_view prefix);

// `docker inspect -f FORMAT NAME`, trimmed; throws when the object does not exist.
std::string inspect(const std::string& name, const std::string& format);
// inspect(name, format) == expected, eventually (polled every 100 ms).
testing::AssertionResult inspect_eventually(const std::string& name, const std::string& format,
                                            const std::string& expected,
                                            std::chrono::milliseconds timeout = 60s);
// The 12-hex short id of a container.
std::string short_id(const std::string& container);

// ----------------------------------------------------------------------------- HTTP

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;                             // de-chunked, still compressed if it was

  std::string header(const std::string& lower_name) const;
};

// One HTTP/1.1 GET with Connection: close. Throws on connect/read errors or timeout.
HttpResponse http_get(const std::string& host, int port, const std::string& target,
                      const std::map<std::string, std::string>& extra_headers = {},
                      std::chrono::milliseconds timeout = 10s);

// Inflates a gzip body; throws on malformed input.
std::string gunzip(std::string_view data);

// ------------------------------------------------------------------- metrics parsing

struct Sample {
  std::string name;
  Labels labels;
  double value = 0;
};

// Prometheus text exposition (format 0.0.4), parsed into samples; # lines are skipped.
class Metrics {
 public:
  // Throws std::runtime_error naming the line on malformed input.
  static Metrics parse(std::string_view text);

  // Every sample called `name` whose labels include every pair in `labels` (a subset
  // match: the sample may carry more labels than those passed).
  std::vector<const Sample*> find(const std::string& name, const Labels& labels = {}) const;
  // The value of the one sample matched as find() does; nullopt when none matches.
  // Throws when more than one matches, so a test cannot read the wrong series.
  std::optional<double> value(const std::string& name, const Labels& labels = {}) const;
  // The exposition lines of samples whose name starts with `prefix` and that carry every
  // pair in `labels`: for failure messages.
  std::string lines(const std::string& prefix, const Labels& labels = {}) const;

  const std::vector<Sample>& samples() const { return samples_; }

 private:
  std::vector<Sample> samples_;
};

std::string format_sample(const Sample& s);
std::string format_labels(const Labels& labels);

// ------------------------------------------------------------------------ processes

// A free TCP port on 127.0.0.1 (bound and released: another process may take it first,
// as with every such helper).
int free_port();

struct ServiceOptions {
  // Environment changes: a value sets the variable, nullopt unsets it.
  std::map<std::string, std::optional<std::string>> env;
  int wait_port = 0;  // the constructor returns once 127.0.0.1:wait_port accepts (0: at once)
  std::chrono::milliseconds wait = 30s;
};

// A program the test runs in the background (the agent, Prometheus, Alertmanager), its
// stdout and stderr in a log file whose tail is printed when the test has failed; killed
// if the test process dies, stopped (SIGTERM, then SIGKILL) by stop() or the destructor.
class ServiceProcess {
 public:
  ServiceProcess(std::string name, std::vector<std::string> args, ServiceOptions options = {});
  ~ServiceProcess();
  ServiceProcess(const ServiceProcess&) = delete;
  ServiceProcess& operator=(const ServiceProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  // SIGTERM, wait up to 10 s (then SIGKILL). Returns the exit status as sh() does.
  // Idempotent: later calls return the first status.
  int stop();
  std::string log() const;
  std::string log_tail(std::size_t lines = 60) const;
  const std::filesystem::path& dir() const { return dir_; }  // a temp dir of its own, removed at the end

 private:
  int reap(std::chrono::milliseconds timeout);

  std::string name_;
  std::filesystem::path dir_, log_path_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// ---------------------------------------------------------------------------- agent

struct AgentOptions {
  std::vector<std::string> args;  // after the harness's own flags
  // Environment changes for the agent: a value sets the variable, nullopt unsets it.
  std::map<std::string, std::optional<std::string>> env;
  // Wait for the listener to accept connections before the constructor returns.
  bool wait_listening = true;
  // --state.dir: empty for a fresh temp dir removed with the agent; else this one, kept
  // (an agent restarted on the same state).
  std::filesystem::path state_dir;
  std::string log_level = "debug";
};

// The built agent, `composewatch run --web.listen-address=127.0.0.1:<free port>
// --log.level=<debug> --state.dir=<temp dir> [args]`, a ServiceProcess.
class AgentProcess {
 public:
  explicit AgentProcess(AgentOptions options = {});
  ~AgentProcess();
  AgentProcess(const AgentProcess&) = delete;
  AgentProcess& operator=(const AgentProcess&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return process_.pid(); }
  bool running() { return process_.running(); }

  HttpResponse get(const std::string& target,
                   const std::map<std::string, std::string>& headers = {}) const;
  // GET /metrics, checked for status 200, parsed.
  Metrics scrape() const;

  // SIGTERM, wait up to 10 s (then SIGKILL). Returns the exit status as sh() does.
  // Idempotent: later calls return the first status.
  int stop() { return process_.stop(); }

  std::string log() const;
  std::string log_tail(std::size_t lines = 60) const;

 private:
  int port_ = 0;
  std::filesystem::path state_;
  bool own_state_ = true;  // state_ is the agent's own temp dir, removed with it
  ServiceProcess process_;
};

// Scrapes until value(name, labels) satisfies `ok`. On timeout the failure shows
// `expectation` and the last scrape's lines for `name` with `labels`.
testing::AssertionResult metric_eventually(const AgentProcess& agent, const std::string& name,
                                           const Labels& labels,
                                           const std::function<bool(std::optional<double>)>& ok,
                                           const std::string& expectation,
                                           std::chrono::milliseconds timeout = 30s);
// value(name, labels) == expected, eventually.
testing::AssertionResult metric_eventually_eq(const AgentProcess& agent, const std::string& name,
                                              const Labels& labels, double expected,
                                              std::chrono::milliseconds timeout = 30s);
// value(name, labels) == expected at every scrape for `duration`.
testing::AssertionResult metric_stays_eq(const AgentProcess& agent, const std::string& name,
                                         const Labels& labels, double expected,
                                         std::chrono::milliseconds duration);
// No sample called `name` carries `labels`, eventually.
testing::AssertionResult metric_eventually_absent(const AgentProcess& agent,
                                                  const std::string& name, const Labels& labels,
                                                  std::chrono::milliseconds timeout = 30s);

// The families the agent exports on a local engine with a running, memory- and
// CPU-limited container (-m 64m --cpus 0.5) and the disk collected: what "every family"
// means for the packaged unit and the container image. Families that need an event to
// have happened (last_exit_reason, last_oom_kill_timestamp_seconds,
// event_gap_timestamp_seconds) are not among them.
const std::vector<std::string>& host_metric_families();

// --------------------------------------------------------------------------- engine

// The engine the tests drive: the host's, or a nested one of another Debian release
// (scripts/nested-engine.sh), named by COMPOSEWATCH_NESTED_ENGINE=<release> (the ctest
// labels engine-26 and engine-28 set it). For a nested engine the harness sets DOCKER_HOST
// to its socket and puts the release's Compose v2 first in PATH as `docker-compose`, before
// any test runs: `docker`, `docker-compose` and the agent all follow them, so most tests
// run unchanged; the few that touch the engine's process or files, or Compose's naming,
// ask here.
struct TestEngine {
  std::string release;      // empty: the host's engine
  std::string docker_host;  // unix://... of a nested engine; empty for the host's
  bool nested() const { return !release.empty(); }
  // The socket's path (/var/run/docker.sock for the host's).
  std::string socket() const;
  // The cgroup directory its containers are under, below a controller's root: "docker" for
  // the host's (cgroupfs driver), the nested engine's --cgroup-parent otherwise.
  std::string cgroup_parent() const;
  // The name Compose gives the n-th container of a service: v1 (the host's 1.29)
  // project_service_n, v2 (a nested release's) project-service-n.
  std::string compose_container(const std::string& project, const std::string& service, int n = 1) const;
  // `scripts/nested-engine.sh VERB RELEASE`, quoted for sh(); only for a nested engine.
  std::string script(const std::string& verb) const;
};
// Throws std::runtime_error when COMPOSEWATCH_NESTED_ENGINE names an engine
// scripts/nested-engine.sh does not know.
const TestEngine& test_engine();

// ------------------------------------------------------------------------- fixtures

std::filesystem::path source_dir();
std::filesystem::path fixtures_dir();  // tests/fixtures/integration
std::filesystem::path agent_binary();

// The labels of a container's series: project, service, container.
Labels container_series(const std::string& project, const std::string& service,
                        const std::string& container);
// `labels` plus key=value.
Labels with(Labels labels, const std::string& key, const std::string& value);

// The labels Compose puts on a container, for `docker create`/`run` of a fake member of
// project/service ("--label com.docker.compose.project=... --label ...service=...").
std::string compose_labels(const std::string& project, const std::string& service);

// A container command that runs the shell script `before` (quoted by the caller for
// single quotes), then grows a variable until a memory limit kills the shell; and the
// limit for it (no swap).
std::string memory_hog(std::string_view before = "");
inline constexpr const char* kMemoryLimit = "-m 16m --memory-swap 16m";

struct TestContainer {
  std::string name;
  std::string project, service;  // labelled as Compose would when project is set
  std::string options;           // more `docker run` flags; the network is none
  std::string command = "sleep 3600";
};
// `docker run -d` the container from kImage, registered with `cleanup` first.
void run_container(Cleanup& cleanup, const TestContainer& c);
// `docker create` it, registered with `cleanup` first.
void create_container(Cleanup& cleanup, const TestContainer& c);

}  // namespace itest
