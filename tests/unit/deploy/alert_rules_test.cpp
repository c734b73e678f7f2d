// deploy/prometheus/rules.yml against its promises: every alert has a for:, a severity, a
// summary and description naming the host, an absolute runbook_url whose anchor is a heading
// of docs/alerts.md (the base the operator sets with set-runbook-base.sh, which rewrites the
// Prometheus and the Grafana-managed rules alike), agent-down alerts for every composewatch*
// job, Alertmanager inhibitions that name alerts that exist, and a firing case in
// tests/rules_test.yml (promtool runs those: ctest -R promtool).

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

namespace {

std::string source(const std::string& rel) { return std::string(COMPOSEWATCH_SOURCE_DIR) + "/" + rel; }

// Where the package installs docs/ (cmake/package.cmake): the runbook links' default base.
const std::string kDefaultBase = "file:///usr/share/doc/composewatch/docs/alerts.md";

std::string read(const std::string& file) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

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

std::vector<YAML::Node> alerts_of(const YAML::Node& doc) {
  std::vector<YAML::Node> out;
  for (const auto& group : doc["groups"])
    for (const auto& rule : group["rules"])
      if (rule["alert"] || rule["title"]) out.push_back(rule);
  return out;
}

std::vector<YAML::Node> alerts() { return alerts_of(YAML::LoadFile(source("deploy/prometheus/rules.yml"))); }

struct CommandResult {
  int code = -1;
  std::string out;  // stdout and stderr
};

CommandResult run(const std::string& cmd) {
  CommandResult r;
  FILE* pipe = popen((cmd + " 2>&1").c_str(), "r");
  if (!pipe) return r;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) r.out.append(buf, n);
  const int status = pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// The rules file written by set-runbook-base.sh with `base`, from `file`.
CommandResult set_runbook_base(const std::string& base, const std::string& file) {
  return run("sh " + quote(source("deploy/prometheus/set-runbook-base.sh")) + " " + quote(base) + " " + quote(file));
}

std::string alert_name(const YAML::Node& a) { return a["alert"] ? a["alert"].as<std::string>() : a["title"].as<std::string>(); }

}  // namespace

TEST(AlertRules, EveryAlertHasForSeveritySummaryDescriptionAndARunbookSection) {
  const auto sections = anchors(source("docs/alerts.md"));
  const auto all = alerts();
  ASSERT_GE(all.size(), 25u);
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
    EXPECT_FALSE(a["annotations"]["runbook"]) << "runbook: is runbook_url now";
    const std::string url = a["annotations"]["runbook_url"].as<std::string>("");
    // Absolute: the installed copy of docs/alerts.md until the operator sets another base.
    ASSERT_TRUE(url.starts_with(kDefaultBase + "#")) << url;
    EXPECT_TRUE(sections.count(url.substr(kDefaultBase.size() + 1))) << url << ": no such heading in docs/alerts.md";
  }
}

// The default base is the file the package installs: docs/ under /usr/share/doc/composewatch.
TEST(AlertRules, TheDefaultRunbookBaseIsWhereThePackageInstallsTheDocs) {
  const std::string cmake = read(source("cmake/package.cmake"));
  EXPECT_NE(cmake.find("set(PKG_DOC share/doc/composewatch)"), std::string::npos);
  EXPECT_NE(cmake.find("install(DIRECTORY docs/ DESTINATION ${PKG_DOC}/docs"), std::string::npos);
  EXPECT_NE(cmake.find("set(CPACK_PACKAGING_INSTALL_PREFIX /usr)"), std::string::npos);
  EXPECT_TRUE(std::ifstream(source("docs/alerts.md")).good());
}

TEST(AlertRules, SetRunbookBaseRewritesOnlyTheLinksOfBothRuleFiles) {
  const std::string base = "https://git.example.com/ops/composewatch/src/branch/main/docs/alerts.md?plain=1&x=2";
  for (const std::string rel : {"deploy/prometheus/rules.yml", "grafana/provisioning/alerting/composewatch.yml"}) {
    SCOPED_TRACE(rel);
    const CommandResult r = set_runbook_base(base, source(rel));
    ASSERT_EQ(r.code, 0) << r.out;
    const auto before = alerts_of(YAML::LoadFile(source(rel)));
    const auto after = alerts_of(YAML::Load(r.out));
    ASSERT_EQ(after.size(), before.size());
    ASSERT_GE(after.size(), 25u);
    for (std::size_t i = 0; i < after.size(); ++i) {
      SCOPED_TRACE(alert_name(after[i]));
      const std::string was = before[i]["annotations"]["runbook_url"].as<std::string>();
      const std::string now = after[i]["annotations"]["runbook_url"].as<std::string>("");
      EXPECT_EQ(now, base + was.substr(was.find('#')));
    }
    // Nothing else changed: the files are the same line by line but for runbook_url lines.
    std::istringstream a(read(source(rel))), b(r.out);
    std::string la, lb;
    int changed = 0;
    while (std::getline(a, la)) {
      ASSERT_TRUE(std::getline(b, lb));
      if (la != lb) {
        EXPECT_NE(la.find("runbook_url: "), std::string::npos) << la;
        ++changed;
      }
    }
    EXPECT_FALSE(std::getline(b, lb)) << "more lines than the input";
    EXPECT_EQ(changed, int(after.size()));
  }
}

TEST(AlertRules, SetRunbookBaseWritesRulesPromtoolAccepts) {
  ASSERT_EQ(std::system("promtool --version >/dev/null 2>&1"), 0) << "promtool is missing: scripts/dev.sh setup installs it";
  const CommandResult r = set_runbook_base("https://wiki.example.org/ops/composewatch-alerts", source("deploy/prometheus/rules.yml"));
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string file = testing::TempDir() + "composewatch_rules_with_base.yml";
  std::ofstream(file) << r.out;
  const CommandResult check = run("promtool check rules " + quote(file));
  EXPECT_EQ(check.code, 0) << check.out;
  std::remove(file.c_str());
}

TEST(AlertRules, SetRunbookBaseRefusesWhatIsNoUsableBaseAndFilesWithoutLinks) {
  const std::string rules = source("deploy/prometheus/rules.yml");
  for (const std::string bad : {"docs/alerts.md", "wiki.example.org/alerts", "https://x.example/a b",
                                "https://x.example/alerts.md#top", "https://x.example/$PATH", "https://x.example/\"q\"",
                                "https://x.example/a|b"}) {
    SCOPED_TRACE(bad);
    const CommandResult r = set_runbook_base(bad, rules);
    EXPECT_EQ(r.code, 2);
    EXPECT_NE(r.out.find("BASE '" + bad + "' is not an absolute URL"), std::string::npos) << r.out;
  }
  const CommandResult usage = run("sh " + quote(source("deploy/prometheus/set-runbook-base.sh")));
  EXPECT_EQ(usage.code, 2);
  EXPECT_NE(usage.out.find("usage:"), std::string::npos) << usage.out;

  const CommandResult not_rules = set_runbook_base("https://x.example/alerts.md", source("deploy/alertmanager/alertmanager.yml"));
  EXPECT_EQ(not_rules.code, 1);
  EXPECT_NE(not_rules.out.find("alertmanager.yml has no runbook_url annotation"), std::string::npos) << not_rules.out;
  const CommandResult missing = set_runbook_base("https://x.example/alerts.md", source("deploy/prometheus/none.yml"));
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.out.find("cannot read"), std::string::npos) << missing.out;
}

// A fleet names its scrape jobs composewatch or composewatch-<something>: no rule may select
// one job by its exact name, and the agent-down alerts select them all.
TEST(AlertRules, AgentAlertsSelectEveryComposewatchJob) {
  const std::regex exact_job(R"q(job\s*=\s*")q");
  std::map<std::string, std::string> exprs;
  for (const auto& a : alerts()) exprs[a["alert"].as<std::string>()] = a["expr"].as<std::string>();
  for (const auto& [name, expr] : exprs) EXPECT_FALSE(std::regex_search(expr, exact_job)) << name << ": " << expr;
  EXPECT_NE(exprs["ComposewatchAgentDown"].find(R"(up{job=~"composewatch.*"})"), std::string::npos);
  EXPECT_NE(exprs["ComposewatchAgentAbsent"].find(R"(absent(up{job=~"composewatch.*"}))"), std::string::npos);
}

TEST(AlertRules, EveryAlertFiresInThePromtoolTests) {
  std::set<std::string> firing;
  for (const auto& t : YAML::LoadFile(source("deploy/prometheus/tests/rules_test.yml"))["tests"])
    for (const auto& c : t["alert_rule_test"])
      if (c["exp_alerts"].size() > 0) firing.insert(c["alertname"].as<std::string>());
  for (const auto& a : alerts()) EXPECT_TRUE(firing.count(a["alert"].as<std::string>())) << a["alert"];
}

// Each inhibition's alertname matchers name alerts of rules.yml (a regex matches at least
// one), so that renaming an alert cannot silently leave a page un-inhibited.
TEST(AlertmanagerConfig, InhibitionsNameAlertsThatExist) {
  std::set<std::string> names;
  for (const auto& a : alerts()) names.insert(a["alert"].as<std::string>());
  const auto am = YAML::LoadFile(source("deploy/alertmanager/alertmanager.yml"));
  ASSERT_TRUE(am["inhibit_rules"].IsSequence());
  const std::regex matcher(R"q(^\s*alertname\s*(=~|=|!=|!~)\s*"([^"]*)"\s*$)q");
  int checked = 0;
  for (const auto& rule : am["inhibit_rules"]) {
    for (const char* side : {"source_matchers", "target_matchers"}) {
      for (const auto& m : rule[side]) {
        const std::string text = m.as<std::string>();
        std::smatch g;
        if (!std::regex_match(text, g, matcher) || g[1] == "!=" || g[1] == "!~") continue;
        SCOPED_TRACE(text);
        ++checked;
        if (g[1] == "=") {
          EXPECT_TRUE(names.count(g[2])) << g[2] << " is no alert of rules.yml";
        } else {
          const std::regex re(g[2].str());
          EXPECT_TRUE(std::any_of(names.begin(), names.end(), [&](const std::string& n) { return std::regex_match(n, re); }))
              << g[2] << " matches no alert of rules.yml";
        }
      }
    }
    EXPECT_TRUE(rule["equal"] && rule["equal"].size() > 0) << "an inhibition without equal: silences every host";
  }
  EXPECT_GE(checked, 10);
}
