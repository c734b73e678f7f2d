// deploy/prometheus/rules.yml against its promises: every alert has a for:, a severity, a
// summary and description naming the host, a runbook that is a heading of docs/alerts.md,
// and a firing case in tests/rules_test.yml (promtool runs those: ctest -R promtool).

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace {

std::string source(const std::string& rel) { return std::string(COMPOSEWATCH_SOURCE_DIR) + "/" + rel; }

// GitHub's anchors of the "## " headings: lower case, spaces to '-', other punctuation dropped.
std::set<std::string> anchors(const std::string& markdown_file) {
  std::ifstream in(markdown_file);
  std::set<std::string> out;
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("## ")) continue;
    std::string a;
    for (char c : line.substr(3)) {
      if (std::isalnum(static_cast<unsigned char>(c))) a += char(std::tolower(static_cast<unsigned char>(c)));
      else if (c == ' ' || c == '-') a += '-';
    }
    out.insert(a);
  }
  return out;
}

std::vector<YAML::Node> alerts() {
  std::vector<YAML::Node> out;
  for (const auto& group : YAML::LoadFile(source("deploy/prometheus/rules.yml"))["groups"])
    for (const auto& rule : group["rules"])
      if (rule["alert"]) out.push_back(rule);
  return out;
}

}  // namespace

TEST(AlertRules, EveryAlertHasForSeveritySummaryDescriptionAndARunbookSection) {
  const auto sections = anchors(source("docs/alerts.md"));
  const auto all = alerts();
  ASSERT_GE(all.size(), 19u);
  for (const auto& a : all) {
    const std::string name = a["alert"].as<std::string>();
    SCOPED_TRACE(name);
    EXPECT_TRUE(a["for"]) << "no for:";
    const std::string severity = a["labels"]["severity"].as<std::string>("");
    EXPECT_TRUE(severity == "critical" || severity == "warning" || severity == "info") << severity;
    const std::string summary = a["annotations"]["summary"].as<std::string>("");
    const std::string description = a["annotations"]["description"].as<std::string>("");
    EXPECT_FALSE(summary.empty());
    if (name != "ComposewatchAgentAbsent")  // no target at all: no instance to name
      EXPECT_NE((summary + description).find("{{ $labels.instance }}"), std::string::npos);
    // Container alerts name the container with its project and service.
    if (a["expr"].as<std::string>().find("composewatch_container_") != std::string::npos &&
        name != "ComposewatchOrphanContainer") {
      for (const char* label : {"$labels.container", "$labels.project", "$labels.service"})
        EXPECT_NE(description.find(label), std::string::npos) << label;
    }
    const std::string runbook = a["annotations"]["runbook"].as<std::string>("");
    ASSERT_TRUE(runbook.starts_with("docs/alerts.md#")) << runbook;
    EXPECT_TRUE(sections.count(runbook.substr(std::string("docs/alerts.md#").size()))) << runbook << " is no heading";
  }
}

TEST(AlertRules, EveryAlertFiresInThePromtoolTests) {
  std::set<std::string> firing;
  for (const auto& t : YAML::LoadFile(source("deploy/prometheus/tests/rules_test.yml"))["tests"])
    for (const auto& c : t["alert_rule_test"])
      if (c["exp_alerts"].size() > 0) firing.insert(c["alertname"].as<std::string>());
  for (const auto& a : alerts()) EXPECT_TRUE(firing.count(a["alert"].as<std::string>())) << a["alert"];
}
