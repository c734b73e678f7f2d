// A fleet set up as docs/fleet.md says, with its commands: the blocks marked `fleet_test` there
// run here as written (the host's name and address set, /etc paths pointed at this test's
// directory). A CA signs one certificate per host; the agents take web.yml (TLS + the bcrypt
// hash of htpasswd) through config.yml; Prometheus runs deploy/prometheus/prometheus-fleet.yml
// as shipped (paths and intervals changed) with the guide's targets file: two hosts in the
// fleet's job by their certificates' IP SAN, the third in a job of its own,
// composewatch-vps-ci, whose certificate names another address and is checked by
// server_name (the commented-out job of prometheus-fleet.yml). Each instance is named by its
// host; the fleet dashboard shows one row per host and the host dashboard finds the host of
// the per-host job.

#include <fstream>
#include <regex>

#include "dashboard_queries.h"
#include "harness.h"
#include "prometheus_support.h"

namespace itest {
namespace {

namespace fs = std::filesystem;

std::string replaced_all(std::string text, const std::string& from, const std::string& to, const std::string& file) {
  const auto first = text.find(from);
  if (first == std::string::npos) throw std::runtime_error(file + " no longer holds '" + from + "'");
  for (auto at = first; at != std::string::npos; at = text.find(from, at + to.size())) text.replace(at, from.size(), to);
  return text;
}

// The code block after `<!-- fleet_test: NAME -->` in docs/fleet.md.
std::string guide_block(const std::string& name) {
  const std::string guide = read_text(source_dir() / "docs/fleet.md");
  const std::string mark = "<!-- fleet_test: " + name + " -->";
  const auto at = guide.find(mark);
  if (at == std::string::npos) throw std::runtime_error("docs/fleet.md has no block " + name);
  const auto open = guide.find("```", at);
  const auto body = guide.find('\n', open) + 1;
  const auto close = guide.find("\n```", body);
  if (open == std::string::npos || close == std::string::npos) throw std::runtime_error("docs/fleet.md: block " + name + " is not closed");
  return guide.substr(body, close - body + 1);
}

// Runs a shell block of the guide in `dir` with bash, as a user would paste it.
void run_block(const std::string& name, const fs::path& dir, const std::string& block) {
  const ShResult r = sh("cd " + quote(dir.string()) + " && bash -euo pipefail -c " + quote(block) + " 2>&1");
  if (r.code != 0) throw std::runtime_error("docs/fleet.md block " + name + " failed (" + std::to_string(r.code) + "):\n" + block + "\n" + r.out);
}

struct Host {
  std::string name, cert_ip;
  fs::path dir;
  std::unique_ptr<AgentProcess> agent;
};

}  // namespace

TEST(Fleet, ThreeHostsSetUpAsTheGuideSaysEachNamedByItsHost) {
  Cleanup cleanup;
  const fs::path dir = make_temp_dir(cleanup, "fleet");
  // The Prometheus host's /etc/prometheus/composewatch/.
  const fs::path prom = dir / "prom";
  fs::create_directories(prom);
  run_block("ca", prom, guide_block("ca"));
  run_block("password", prom, guide_block("password"));
  const std::string hash = read_text(prom / "password.hash");
  ASSERT_TRUE(hash.starts_with("$2y$10$")) << hash;

  // vps-ci's certificate names another address: only server_name makes it match.
  std::vector<Host> hosts;
  hosts.push_back({"vps-shop", "127.0.0.1", {}, {}});
  hosts.push_back({"vps-blog", "127.0.0.1", {}, {}});
  hosts.push_back({"vps-ci", "192.0.2.1", {}, {}});
  const std::string cert_block = guide_block("host-cert");
  ASSERT_NE(cert_block.find("HOST=vps-shop IP=203.0.113.11\n"), std::string::npos) << cert_block;
  for (auto& h : hosts) {
    run_block("host-cert", prom,
              replaced_all(cert_block, "HOST=vps-shop IP=203.0.113.11\n", "HOST=" + h.name + " IP=" + h.cert_ip + "\n",
                           "docs/fleet.md"));
    // The host's /etc/composewatch/: its certificate and key, web.yml and config.yml.
    h.dir = dir / h.name;
    fs::create_directories(h.dir / "tls");
    fs::copy_file(prom / (h.name + ".crt"), h.dir / "tls/server.crt");
    fs::copy_file(prom / (h.name + ".key"), h.dir / "tls/server.key");
    const std::string etc = h.dir.string() + "/";
    std::ofstream(h.dir / "web.yml") << replaced_all(
        replaced_all(guide_block("web-yml"), "/etc/composewatch/", etc, "docs/fleet.md"), "$2y$10$the-hash-in-password.hash",
        hash, "docs/fleet.md");
    // listen_address: the harness's --web.listen-address wins (a free port on loopback).
    std::ofstream(h.dir / "config.yml") << replaced_all(guide_block("agent-config"), "/etc/composewatch/", etc, "docs/fleet.md");
    h.agent = std::make_unique<AgentProcess>(AgentOptions{.args = {"--config.file=" + (h.dir / "config.yml").string()}});
  }

  // The guide's check from the Prometheus host: 401 without the password, 200 with it.
  const std::string url = "https://127.0.0.1:" + std::to_string(hosts[0].agent->port()) + "/metrics";
  const std::string curl = "curl -s -o /dev/null -w '%{http_code}' --cacert " + quote((prom / "ca.crt").string()) + " ";
  EXPECT_EQ(must(curl + url), "401");
  EXPECT_EQ(must(curl + "-u prometheus:$(cat " + quote((prom / "password").string()) + ") " + url), "200");

  // The targets file of the guide: vps-shop and vps-blog at their agents, vps-ci left out
  // (its own job below).
  std::string targets = guide_block("targets");
  targets = replaced_all(targets, "203.0.113.11:9469", "127.0.0.1:" + std::to_string(hosts[0].agent->port()), "docs/fleet.md");
  targets = replaced_all(targets, "203.0.113.12:9469", "127.0.0.1:" + std::to_string(hosts[1].agent->port()), "docs/fleet.md");
  targets = std::regex_replace(targets, std::regex(R"(- targets: \["203\.0\.113\.13:9469"\]\n  labels: \{host: vps-ci\}\n)"), "");
  ASSERT_EQ(targets.find("vps-ci"), std::string::npos) << targets;
  fs::create_directories(prom / "targets");
  std::ofstream(prom / "targets/composewatch.yml") << targets;

  // prometheus-fleet.yml, its per-host job uncommented for vps-ci.
  const std::string file = "prometheus-fleet.yml";
  std::string config = read_text(source_dir() / "deploy/prometheus/prometheus-fleet.yml");
  const auto job_at = config.find("  # - job_name: composewatch-vps-legacy");
  ASSERT_NE(job_at, std::string::npos) << "prometheus-fleet.yml no longer has the per-host job";
  config = config.substr(0, job_at) + std::regex_replace(config.substr(job_at), std::regex("\n  # ?"), "\n  ")
                                          .replace(0, 4, "  ");
  config = replaced_all(config, "composewatch-vps-legacy", "composewatch-vps-ci", file);
  config = replaced_all(config, "server_name: vps-legacy.example.com", "server_name: vps-ci", file);
  config = replaced_all(config, "203.0.113.20:9469", "127.0.0.1:" + std::to_string(hosts[2].agent->port()), file);
  config = replaced_all(config, "{host: vps-legacy}", "{host: vps-ci}", file);
  config = replaced_all(config, "/usr/share/composewatch/deploy/prometheus/rules.yml",
                        (source_dir() / "deploy/prometheus/rules.yml").string(), file);
  config = replaced_all(config, "/etc/prometheus/composewatch/", prom.string() + "/", file);
  config = replaced_all(config, "scrape_interval: 30s", "scrape_interval: 1s", file);
  config = replaced_all(config, "evaluation_interval: 30s", "evaluation_interval: 1s", file);
  config = replaced_all(config, "refresh_interval: 1m", "refresh_interval: 1s", file);
  std::ofstream(dir / "prometheus.yml") << config;
  const int port = free_port();
  const auto prometheus = start_prometheus(dir / "prometheus.yml", port, dir / "data");

  ASSERT_TRUE(eventually([&] { return series_count(port, "up{job=~\"composewatch.*\"} == 1") == 3; }, 60s,
                         "all three agents are up", [&] { return http_get("127.0.0.1", port, "/api/v1/targets").body; }));
  // The dashboards' instance variable: label_values(composewatch_build_info, instance).
  std::vector<std::string> names = label_values(port, "instance", "composewatch_build_info");
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"vps-blog", "vps-ci", "vps-shop"}));
  EXPECT_TRUE(label_values(port, "host", "up").empty()) << "the host label is dropped once it named the instance";
  std::vector<std::string> jobs = label_values(port, "job", "up");
  std::sort(jobs.begin(), jobs.end());
  EXPECT_EQ(jobs, (std::vector<std::string>{"composewatch", "composewatch-vps-ci"}));
  EXPECT_EQ(series_count(port, "up{job=\"composewatch-vps-ci\", instance=\"vps-ci\"} == 1"), 1u);

  // The fleet dashboard with All hosts: each column of its Hosts table has one row per host
  // (the recording rules need an evaluation or two first).
  const auto fleet = dashboard_queries(source_dir() / "grafana/dashboards/composewatch-fleet.json", {{"instance", ".*"}});
  for (const auto& q : fleet) {
    if (!q.where.starts_with("panel Hosts /")) continue;
    EXPECT_TRUE(eventually([&] { return series_count(port, q.expr) == 3; }, 30s, q.where + " has a row per host"))
        << q.expr << "\n" << series_count(port, q.expr) << " series";
  }
  // The host dashboard on the host of the per-host job: its panels on Prometheus's own
  // series (up, scrape_duration_seconds, process_*) select job=~"composewatch.*".
  const auto host = dashboard_queries(source_dir() / "grafana/dashboards/composewatch.json",
                                      {{"instance", "vps-ci"}, {"project", ".*"}, {"service", ".*"}});
  for (const std::string where : {"panel Agent scraped / target A", "panel Scrape duration / target A",
                                  "panel Agent memory / target A", "panel Agent CPU / target A"}) {
    const auto q = std::find_if(host.begin(), host.end(), [&](const auto& x) { return x.where == where; });
    ASSERT_NE(q, host.end()) << where;
    EXPECT_TRUE(eventually([&] { return series_count(port, q->expr) == 1; }, 30s, where + " for vps-ci")) << q->expr;
  }
}

}  // namespace itest
