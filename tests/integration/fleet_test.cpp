// A fleet: deploy/prometheus/prometheus-fleet.yml as shipped (paths pointed at this test's
// files, intervals shortened), three agents on one engine under three host names in a
// file_sd file, each behind TLS and basic auth. Prometheus scrapes all three and names
// each instance by its host; the dashboard's instance variable lists all three.

#include <fstream>
#include <regex>

#include "harness.h"
#include "prometheus_support.h"

namespace itest {
namespace {

namespace fs = std::filesystem;

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  if (at == std::string::npos) throw std::runtime_error("prometheus-fleet.yml no longer holds '" + from + "'");
  return text.replace(at, from.size(), to);
}

}  // namespace

TEST(Fleet, ThreeHostsThroughFileSdEachNamedByItsHost) {
  Cleanup cleanup;
  const fs::path dir = make_temp_dir(cleanup, "fleet");
  write_agent_tls_and_auth(dir);
  std::vector<std::unique_ptr<AgentProcess>> agents;
  for (int i = 0; i < 3; ++i) agents.push_back(std::make_unique<AgentProcess>(AgentOptions{.args = {web_config_flag(dir)}}));

  fs::create_directories(dir / "targets");
  std::ofstream(dir / "targets/composewatch.yml")
      << "- targets: ['127.0.0.1:" << agents[0]->port() << "']\n  labels: {host: vps-shop}\n"
      << "- targets: ['127.0.0.1:" << agents[1]->port() << "']\n  labels: {host: vps-blog}\n"
      << "- targets: ['127.0.0.1:" << agents[2]->port() << "']\n  labels: {host: vps-ci}\n";
  std::string config = read_text(source_dir() / "deploy/prometheus/prometheus-fleet.yml");
  config = replaced(config, "/usr/share/composewatch/deploy/prometheus/rules.yml",
                    (source_dir() / "deploy/prometheus/rules.yml").string());
  config = replaced(config, "/etc/prometheus/composewatch/ca.crt", (dir / "agent.crt").string());
  config = replaced(config, "/etc/prometheus/composewatch/password", (dir / "password").string());
  config = replaced(config, "/etc/prometheus/composewatch/targets/*.yml", (dir / "targets").string() + "/*.yml");
  config = std::regex_replace(config, std::regex("scrape_interval: 30s"), "scrape_interval: 1s");
  config = std::regex_replace(config, std::regex("refresh_interval: 1m"), "refresh_interval: 1s");
  std::ofstream(dir / "prometheus.yml") << config;
  const int port = free_port();
  const auto prometheus = start_prometheus(dir / "prometheus.yml", port, dir / "data");

  ASSERT_TRUE(eventually([&] { return series_count(port, "up{job=\"composewatch\"} == 1") == 3; }, 60s,
                         "all three agents are up",
                         [&] { return http_get("127.0.0.1", port, "/api/v1/targets").body; }));
  // The dashboard's instance variable: label_values(composewatch_build_info, instance).
  std::vector<std::string> hosts;
  ASSERT_TRUE(eventually(
      [&] {
        hosts = label_values(port, "instance", "composewatch_build_info");
        return hosts.size() == 3;
      },
      30s, "three instances of composewatch_build_info"));
  std::sort(hosts.begin(), hosts.end());
  EXPECT_EQ(hosts, (std::vector<std::string>{"vps-blog", "vps-ci", "vps-shop"}));
  EXPECT_TRUE(label_values(port, "host", "up").empty()) << "the host label is dropped once it named the instance";
}

}  // namespace itest
