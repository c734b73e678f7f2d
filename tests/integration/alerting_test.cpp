// The alerts end to end on the real engine: Debian's Prometheus scrapes a real agent over
// TLS with basic auth (as in production), evaluates deploy/prometheus/rules.yml (its
// windows and for: shortened to seconds) and sends to Debian's Alertmanager, whose
// webhook receiver here records what arrives. A compose stack is driven into an OOM kill,
// a restart loop and an unhealthy state; each alert arrives with its project, service,
// container, instance and severity, and every alert that fired resolves once its cause is
// removed.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <fstream>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "harness.h"
#include "dashboard_queries.h"
#include "prometheus_support.h"

namespace itest {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;



// rules.yml with its windows, offsets, for: and keep_firing_for:, and the ages it compares
// with time() (time() - a timestamp < 600), in seconds, so that the test takes a minute
// or two rather than hours. All but the filesystem trend: over seconds a busy disk's free
// space always looks like it is running out.
std::string shortened_rules() {
  const std::string rules = read_text(source_dir() / "deploy/prometheus/rules.yml");
  const std::string keep_from = "      - alert: ComposewatchFilesystemFullIn24h";
  const auto a = rules.find(keep_from);
  const auto b = rules.find("      - alert:", a + keep_from.size());
  auto shorten = [](std::string r) {
    r = std::regex_replace(r, std::regex(R"(for: \d+[smh])"), "for: 3s");
    r = std::regex_replace(r, std::regex(R"(\[\d+[mh]\])"), "[40s]");
    r = std::regex_replace(r, std::regex(R"((time\(\) - [a-z_:]+ (?:<|>=)) \d+)"), "$1 40");
    return std::regex_replace(r, std::regex(R"(offset \d+[mh])"), "offset 40s");
  };
  return shorten(rules.substr(0, a)) + rules.substr(a, b - a) + shorten(rules.substr(b));
}

// A webhook receiver for Alertmanager: one thread, HTTP/1.1 POSTs with a Content-Length,
// every alert of every notification kept (status, labels, fingerprint).
class WebhookReceiver {
 public:
  struct Alert {
    std::string status;  // firing | resolved
    std::map<std::string, std::string> labels;
    std::string fingerprint;
  };

  WebhookReceiver() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 16) != 0)
      throw std::runtime_error("webhook: cannot listen");
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~WebhookReceiver() {
    stopping_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  std::vector<Alert> alerts() {
    std::lock_guard lock(mu_);
    return alerts_;
  }

 private:
  void serve() {
    while (!stopping_) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string req;
      char buf[8192];
      std::size_t need = std::string::npos;
      for (ssize_t n; (n = ::recv(c, buf, sizeof buf, 0)) > 0;) {
        req.append(buf, std::size_t(n));
        const auto head_end = req.find("\r\n\r\n");
        if (head_end == std::string::npos) continue;
        if (need == std::string::npos) {
          std::smatch m;
          const std::string head = req.substr(0, head_end);
          need = std::regex_search(head, m, std::regex("[Cc]ontent-[Ll]ength: *(\\d+)"))
                     ? head_end + 4 + std::stoul(m[1])
                     : head_end + 4;
        }
        if (req.size() >= need) break;
      }
      const std::string ok = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      ::send(c, ok.data(), ok.size(), MSG_NOSIGNAL);
      ::close(c);
      const auto body_at = req.find("\r\n\r\n");
      if (body_at == std::string::npos) continue;
      try {
        const auto doc = json::parse(req.substr(body_at + 4));
        std::lock_guard lock(mu_);
        for (const auto& a : doc.at("alerts").as_array()) {
          Alert alert;
          alert.status = json::value_to<std::string>(a.at("status"));
          alert.fingerprint = json::value_to<std::string>(a.at("fingerprint"));
          for (const auto& [k, v] : a.at("labels").as_object()) alert.labels[std::string(k)] = json::value_to<std::string>(v);
          alerts_.push_back(std::move(alert));
        }
      } catch (const std::exception&) {
        // not a notification: ignored
      }
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<Alert> alerts_;
};


std::string describe(const std::vector<WebhookReceiver::Alert>& alerts) {
  std::string s;
  for (const auto& a : alerts) {
    s += a.status + " " + a.labels.at("alertname");
    for (const auto& [k, v] : a.labels)
      if (k != "alertname") s += " " + k + "=" + v;
    s += "\n";
  }
  return s.empty() ? "(nothing received)\n" : s;
}

}  // namespace

TEST(Alerting, StackTroublesReachAlertmanagerWithTheirLabelsAndResolve) {
  Cleanup cleanup;
  const fs::path dir = make_temp_dir(cleanup, "alerting");

  // The agent as in production: TLS and basic auth.
  write_agent_tls_and_auth(dir);

  // The stack: one service OOM-killed once (after a first scrape has seen it at 0), one
  // in a restart loop, one unhealthy until a file exists.
  const std::string project = unique_name("alerts");
  const fs::path stack = dir / "stack/docker-compose.yml";
  fs::create_directories(stack.parent_path());
  std::ofstream(stack) << "services:\n"
                          "  oomer:\n    image: " << kImage << "\n    mem_limit: 16m\n    memswap_limit: 16m\n"
                          "    network_mode: none\n"
                          "    command: [\"sh\", \"-c\", \"sleep 8; x=aaaaaaaa; while true; do x=$$x$$x; done\"]\n"
                          "  looper:\n    image: " << kImage << "\n    mem_limit: 32m\n    restart: always\n"
                          "    network_mode: none\n"
                          "    command: [\"sh\", \"-c\", \"echo crash >&2; sleep 1; exit 3\"]\n"
                          "  sick:\n    image: " << kImage << "\n    mem_limit: 32m\n    network_mode: none\n"
                          "    command: [\"sleep\", \"3600\"]\n"
                          "    healthcheck: {test: [\"CMD-SHELL\", \"test -f /tmp/ok\"], interval: 1s, timeout: 1s, retries: 1}\n";
  cleanup.compose(stack, project);
  std::ofstream(dir / "agent.yml") << "disk: {interval: 2s, timeout: 30s}\ncompose:\n  projects:\n    - {name: "
                                   << project << ", files: [" << stack.string() << "]}\n";
  AgentProcess agent({.args = {web_config_flag(dir), "--config.file=" + (dir / "agent.yml").string()},
                      .wait_listening = true});

  WebhookReceiver hook;
  const int am_port = free_port();
  std::ofstream(dir / "alertmanager.yml")
      << "route:\n  receiver: hook\n  group_by: [alertname, container]\n  group_wait: 1s\n  group_interval: 1s\n"
         "  repeat_interval: 1h\nreceivers:\n  - name: hook\n    webhook_configs:\n      - url: http://127.0.0.1:"
      << hook.port() << "/\n        send_resolved: true\n";
  ServiceProcess alertmanager(
      "alertmanager",
      {"/usr/bin/prometheus-alertmanager", "--config.file=" + (dir / "alertmanager.yml").string(),
       "--storage.path=" + (dir / "am-data").string(), "--web.listen-address=127.0.0.1:" + std::to_string(am_port),
       "--cluster.listen-address="},
      {.wait_port = am_port});

  std::ofstream(dir / "rules.yml") << shortened_rules();
  const int prom_port = free_port();
  std::ofstream(dir / "prometheus.yml")
      << "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
         "rule_files: [" << (dir / "rules.yml").string() << "]\n"
         "alerting:\n  alertmanagers:\n    - static_configs: [{targets: ['127.0.0.1:" << am_port << "']}]\n"
         "scrape_configs:\n  - job_name: composewatch\n    scheme: https\n"
         "    tls_config: {ca_file: " << (dir / "agent.crt").string() << "}\n"
         "    basic_auth: {username: prometheus, password_file: " << (dir / "password").string() << "}\n"
         "    static_configs: [{targets: ['127.0.0.1:" << agent.port() << "'], labels: {host: e2e}}]\n"
         "    relabel_configs:\n      - {source_labels: [host], target_label: instance}\n      - {regex: host, action: labeldrop}\n";
  const auto prometheus = start_prometheus(dir / "prometheus.yml", prom_port, dir / "prom-data");

  // Prometheus reaches the agent through TLS and basic auth.
  ASSERT_TRUE(eventually([&] { return series_count(prom_port, "up{job=\"composewatch\",instance=\"e2e\"} == 1") == 1; },
                         30s, "Prometheus scrapes the agent over TLS with basic auth",
                         [&] { return http_get("127.0.0.1", prom_port, "/api/v1/targets").body; }));
  EXPECT_EQ(must("curl -sk -o /dev/null -w '%{http_code}' https://127.0.0.1:" + std::to_string(agent.port()) + "/metrics"),
            "401")
      << "the agent refuses a scrape without credentials";

  must("docker-compose -p " + project + " -f " + quote(stack.string()) + " up -d 2>&1", 120s);
  const std::string oomer = project + "_oomer_1", looper = project + "_looper_1", sick = project + "_sick_1";

  struct Expected {
    std::string alertname, container, service, severity;
  };
  const std::vector<Expected> expected = {{"ComposewatchContainerOOMKilled", oomer, "oomer", "warning"},
                                          {"ComposewatchContainerRestartLoop", looper, "looper", "warning"},
                                          {"ComposewatchContainerUnhealthy", sick, "sick", "critical"}};
  auto received = [&](const Expected& e, const std::string& status) {
    for (const auto& a : hook.alerts())
      if (a.status == status && a.labels.at("alertname") == e.alertname && a.labels.count("container") &&
          a.labels.at("container") == e.container)
        return true;
    return false;
  };
  for (const auto& e : expected)
    ASSERT_TRUE(eventually([&] { return received(e, "firing"); }, 120s, e.alertname + " for " + e.container + " arrives",
                           [&] { return describe(hook.alerts()); }, 500ms));
  for (const auto& e : expected)
    for (const auto& a : hook.alerts())
      if (a.labels.at("alertname") == e.alertname && a.labels.count("container") && a.labels.at("container") == e.container) {
        EXPECT_EQ(a.labels.at("project"), project);
        EXPECT_EQ(a.labels.at("service"), e.service);
        EXPECT_EQ(a.labels.at("severity"), e.severity);
        EXPECT_EQ(a.labels.at("instance"), "e2e");
        EXPECT_EQ(a.labels.at("job"), "composewatch");
      }
  // A SIGKILL is no OOM kill: the looper exits 3 and the oomer 137, but only the oomer's
  // kill was an OOM kill.
  for (const auto& a : hook.alerts())
    if (a.labels.at("alertname") == "ComposewatchContainerOOMKilled") EXPECT_EQ(a.labels.at("container"), oomer);

  // Every query a user copies from us returns data in this scenario, or is listed here with
  // why it has none: each panel, variable and annotation of the dashboard, each Grafana
  // alert rule (the same expressions as rules.yml).
  const std::vector<std::pair<std::string, std::string>> may_be_empty = {
      {"Prune", "no prune policy is configured"},
      {"prune", "no prune policy is configured"},
      {"Drift from the compose file", "the stack runs as its file says"},
      {"Orphan", "no container of a removed service"},
      {"Docker filesystem full in", "the free space is not falling"},
      {"Network", "every container runs with network_mode none"},
      {"CPU throttled", "no container has a CPU quota"},
      {"CPU periods throttled", "no container has a CPU quota"},
      {"ComposewatchContainerMemoryNearLimit", "nothing stays at 90 % of its limit"},
      {"ComposewatchServiceWithoutMemoryLimit", "every service has a limit"},
      {"ComposewatchReplicasBelowDesired", "every service runs its replicas"},
      {"ComposewatchServiceDrift", "no drift"},
      {"ComposewatchServiceImageStale", "no tag is moved under a running container"},
      {"ComposewatchServiceGaveUp", "no service runs under restart: on-failure:N"},
      {"ComposewatchComposeProjectInvalid", "the files load"},
      {"ComposewatchOrphanContainer", "no orphans"},
      {"ComposewatchFilesystemLow", "the disk has room"},
      {"ComposewatchFilesystemFullIn24h", "the disk is not filling"},
      {"ComposewatchDeadVolume", "no volumes"},
      {"ComposewatchEngineDown", "the engine answers"},
      {"ComposewatchAgentDown", "the agent is up"},
      {"ComposewatchAgentAbsent", "the agent is up"},
      {"ComposewatchEventStreamReconnecting", "the stream does not break"},
      {"ComposewatchEventsMissed", "the agent misses no event"},
      {"ComposewatchAutohealGaveUp", "nothing is opted in to auto-heal"},
      {"Auto-heal in range", "nothing is opted in to auto-heal"},
      {"ComposewatchCollectorFailing", "every collector succeeds"},
      {"ComposewatchContainerExitedNonZero", "the OOM-killed container may not have been exited for long"},
      {"ComposewatchContainerCPUThrottled", "no container has a CPU quota"},
      {"ComposewatchContainerWithoutHealthcheck", "the one healthcheck declared runs"},
  };
  auto allowed_empty = [&](const std::string& where) -> std::string {
    for (const auto& [part, why] : may_be_empty)
      if (where.find(part) != std::string::npos) return why;
    return "";
  };
  const std::map<std::string, std::string> variables = {
      {"datasource", "prometheus"}, {"instance", "e2e"}, {"project", project}, {"service", ".*"}};
  auto queries = dashboard_queries(source_dir() / "grafana/dashboards/composewatch.json", variables);
  // The fleet dashboard, its hosts variable on this one host.
  for (auto q : dashboard_queries(source_dir() / "grafana/dashboards/composewatch-fleet.json",
                                  {{"datasource", "prometheus"}, {"instance", "e2e"}})) {
    q.where = "fleet: " + q.where;
    queries.push_back(std::move(q));
  }
  const auto alert_queries = grafana_alert_queries(source_dir() / "grafana/provisioning/alerting/composewatch.yml");
  queries.insert(queries.end(), alert_queries.begin(), alert_queries.end());
  ASSERT_GT(queries.size(), 40u);
  std::size_t with_data = 0;
  std::string missing;
  for (const auto& q : queries) {
    const std::size_t n = series_count(prom_port, q.expr);
    with_data += n > 0;
    const bool variable = q.where.starts_with("variable");
    if (n == 0 && (variable || allowed_empty(q.where).empty())) missing += q.where + ": " + q.expr + "\n";
  }
  EXPECT_EQ(missing, "") << "these queries return no series in a scenario where they should";
  EXPECT_GT(with_data, queries.size() / 2);

  // Remove the causes as a user would: the file fixed (no more memory hog, no more crash)
  // and applied, the healthcheck's file created.
  {
    std::string fixed = read_text(stack);
    fixed = std::regex_replace(fixed, std::regex(R"(command: \["sh", "-c", "(sleep 8; x=|echo crash)[^\n]*)"),
                               "command: [\"sleep\", \"3600\"]");
    std::ofstream(stack) << fixed;
  }
  must("docker-compose -p " + project + " -f " + quote(stack.string()) + " up -d 2>&1", 120s);
  must("docker exec " + sick + " touch /tmp/ok");

  // Everything that fired resolves: the last notification of every alert says resolved.
  ASSERT_TRUE(eventually(
      [&] {
        std::map<std::string, std::string> last;
        for (const auto& a : hook.alerts()) last[a.fingerprint] = a.status;
        if (last.empty()) return false;
        for (const auto& [fingerprint, status] : last)
          if (status != "resolved") return false;
        return true;
      },
      150s, "every alert resolves", [&] { return describe(hook.alerts()); }, 1s));
  for (const auto& e : expected) EXPECT_TRUE(received(e, "resolved")) << e.alertname;
}


// The shipped deploy/alertmanager/alertmanager.yml in Debian's Alertmanager: alerts of one
// failure posted as Prometheus would send them; the second page of each is held back
// (inhibited) and unrelated alerts are not.
TEST(AlertingInhibitions, TheShippedConfigHoldsBackTheSecondPageOfOneFailure) {
  Cleanup cleanup;
  const fs::path dir = make_temp_dir(cleanup, "inhibitions");
  // The shipped receivers' webhook port may be taken on this machine: a closed one instead.
  std::string config = read_text(source_dir() / "deploy/alertmanager/alertmanager.yml");
  const std::string shipped_hook = "http://127.0.0.1:5001/";
  ASSERT_NE(config.find(shipped_hook), std::string::npos);
  for (std::size_t at; (at = config.find(shipped_hook)) != std::string::npos;)
    config.replace(at, shipped_hook.size(), "http://127.0.0.1:" + std::to_string(free_port()) + "/");
  std::ofstream(dir / "alertmanager.yml") << config;
  const int am_port = free_port();
  ServiceProcess alertmanager(
      "alertmanager",
      {"/usr/bin/prometheus-alertmanager", "--config.file=" + (dir / "alertmanager.yml").string(),
       "--storage.path=" + (dir / "am-data").string(), "--web.listen-address=127.0.0.1:" + std::to_string(am_port),
       "--cluster.listen-address="},
      {.wait_port = am_port});

  const std::string add = "amtool --alertmanager.url=http://127.0.0.1:" + std::to_string(am_port) + " alert add ";
  const std::string host = " instance=h1 job=composewatch-h1 project=shop";
  // An OOM kill that left cache down; api down after an error of its own.
  must(add + "ComposewatchContainerOOMKilled severity=warning" + host + " service=cache container=shop_cache_1");
  must(add + "ComposewatchContainerExitedNonZero severity=warning reason=oom" + host + " service=cache container=shop_cache_1");
  must(add + "ComposewatchContainerExitedNonZero severity=warning reason=error" + host + " service=api container=shop_api_1");
  // seed: on-failure:N used up.
  must(add + "ComposewatchServiceGaveUp severity=critical" + host + " service=seed");
  must(add + "ComposewatchContainerExitedNonZero severity=warning reason=error" + host + " service=seed container=shop_seed_1");
  must(add + "ComposewatchReplicasBelowDesired severity=critical" + host + " service=seed");
  // web: the declared healthcheck does not run (a healthcheck drift too); its image drifts as well.
  must(add + "ComposewatchContainerWithoutHealthcheck severity=warning status=none" + host + " service=web container=shop_web_1");
  must(add + "ComposewatchServiceDrift severity=warning field=healthcheck" + host + " service=web");
  must(add + "ComposewatchServiceDrift severity=warning field=image" + host + " service=web");

  const std::set<std::string> expected_inhibited = {"ComposewatchContainerExitedNonZero/cache",
                                                    "ComposewatchContainerExitedNonZero/seed",
                                                    "ComposewatchReplicasBelowDesired/seed",
                                                    "ComposewatchServiceDrift/web/healthcheck"};
  std::set<std::string> inhibited, active;
  ASSERT_TRUE(eventually(
      [&] {
        inhibited.clear();
        active.clear();
        const auto alerts = json::parse(http_get("127.0.0.1", am_port, "/api/v2/alerts").body).as_array();
        for (const auto& a : alerts) {
          const auto& labels = a.at("labels").as_object();
          std::string key = json::value_to<std::string>(labels.at("alertname")) + "/" +
                            json::value_to<std::string>(labels.at("service"));
          if (labels.contains("field")) key += "/" + json::value_to<std::string>(labels.at("field"));
          (a.at("status").at("inhibitedBy").as_array().empty() ? active : inhibited).insert(key);
        }
        return inhibited.size() + active.size() == 9 && inhibited == expected_inhibited;
      },
      30s, "the second page of each failure is inhibited",
      [&] {
        std::string s = "inhibited:";
        for (const auto& k : inhibited) s += " " + k;
        s += "\nactive:";
        for (const auto& k : active) s += " " + k;
        return s + "\n" + alertmanager.log_tail(20);
      }));
  EXPECT_EQ(active, (std::set<std::string>{"ComposewatchContainerOOMKilled/cache", "ComposewatchContainerExitedNonZero/api",
                                           "ComposewatchServiceGaveUp/seed", "ComposewatchContainerWithoutHealthcheck/web",
                                           "ComposewatchServiceDrift/web/image"}));
}

}  // namespace itest
