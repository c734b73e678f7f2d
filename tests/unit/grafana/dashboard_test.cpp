// The Grafana side against its promises: the dashboards, grafana/dashboards/composewatch.json
// (one host) and composewatch-fleet.json (every host) (their shape, their data source variable,
// PromQL that names only metrics of docs/CONTRACT.md, recording rules of rules.yml or
// Prometheus's own per-target series, the fleet's job rule, the links between them), the
// Grafana-managed alert rules (one per alert of
// deploy/prometheus/rules.yml, the same in every respect), and the provisioning files in the
// shapes Grafana's documentation and provisioning code give. No Grafana runs here; promtool,
// which the build requires anyway, checks that the dashboard's queries parse.

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>

// The query extraction the end-to-end alerting test uses too (tests/support), tested here on
// the real files without an engine.
#include "dashboard_queries.h"

namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

const std::string kDatasourceVariable = "${datasource}";

std::string source(const std::string& rel) { return std::string(COMPOSEWATCH_SOURCE_DIR) + "/" + rel; }

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

const std::string kDashboard = source("grafana/dashboards/composewatch.json");
const std::string kFleetDashboard = source("grafana/dashboards/composewatch-fleet.json");
// What the tests of every dashboard run over.
const std::vector<std::string> kDashboards = {kDashboard, kFleetDashboard};
const std::string kAlerting = source("grafana/provisioning/alerting/composewatch.yml");

json::value dashboard(const std::string& path = kDashboard) { return json::parse(read(path)); }

std::string str(const json::value& v, std::string_view key) {
  const auto* m = v.as_object().if_contains(key);
  return m && m->is_string() ? std::string(m->get_string()) : std::string();
}

// Top-level panels and rows' nested panels.
void collect_panels(const json::value& v, std::vector<const json::value*>& out) {
  for (const auto& p : v.as_object().at("panels").as_array()) {
    out.push_back(&p);
    if (p.as_object().contains("panels")) collect_panels(p, out);
  }
}

std::vector<const json::value*> all_panels(const json::value& d) {
  std::vector<const json::value*> out;
  collect_panels(d, out);
  return out;
}

bool is_row(const json::value& p) { return str(p, "type") == "row"; }

const json::array& templating(const json::value& d) { return d.at("templating").at("list").as_array(); }

const json::value* variable(const json::value& d, std::string_view name) {
  for (const auto& v : templating(d))
    if (str(v, "name") == name) return &v;
  return nullptr;
}

std::string variable_query(const json::value& v) {
  const auto& q = v.at("query");
  return q.is_string() ? std::string(q.get_string()) : str(q, "query");
}

std::string normalise_space(const std::string& s) {
  std::istringstream in(s);
  std::string word, out;
  while (in >> word) out += (out.empty() ? "" : " ") + word;
  return out;
}

// Values for every variable of the dashboard, as a user with All selected would have them.
const std::map<std::string, std::string> kVariables = {{"instance", "h1"}, {"project", ".*"}, {"service", ".*"}};
// The fleet dashboard's instance variable is multi-valued: All is ".*".
const std::map<std::string, std::string> kFleetVariables = {{"instance", ".*"}};
const std::map<std::string, std::string>& variables_of(const std::string& path) {
  return path == kFleetDashboard ? kFleetVariables : kVariables;
}

// ------------------------------------------------------------------------------ PromQL names

// The metric names a PromQL expression selects: identifiers that are not functions,
// aggregations, keywords, label names (matchers, by/on/... lists) or durations, plus the names
// of __name__ matchers.
std::set<std::string> metric_names(std::string_view e) {
  static const std::set<std::string> keywords = {"offset", "bool", "and", "or", "unless", "atan2", "inf", "nan",
                                                 "Inf", "NaN", "sum", "min", "max", "avg", "group", "stddev",
                                                 "stdvar", "count", "count_values", "bottomk", "topk", "quantile",
                                                 "limitk", "limit_ratio"};
  static const std::set<std::string> label_lists = {"by", "without", "on", "ignoring", "group_left", "group_right"};
  static const std::regex name_matcher(R"re(__name__\s*(=~|=)\s*"([^"]*)")re");
  auto is_ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':'; };
  std::set<std::string> out;
  std::size_t i = 0;
  auto skip_space = [&](std::size_t j) {
    while (j < e.size() && std::isspace(static_cast<unsigned char>(e[j]))) ++j;
    return j;
  };
  auto skip_string = [&](std::size_t j) {  // j at the opening quote; returns past the closing one
    const char q = e[j++];
    while (j < e.size() && e[j] != q) j += (e[j] == '\\' && q != '`') ? 2 : 1;
    return j + 1;
  };
  while (i < e.size()) {
    const char c = e[i];
    if (c == '"' || c == '\'' || c == '`') {
      i = skip_string(i);
    } else if (c == '{') {
      std::size_t j = i + 1;
      while (j < e.size() && e[j] != '}') j = (e[j] == '"' || e[j] == '\'' || e[j] == '`') ? skip_string(j) : j + 1;
      const std::string block(e.substr(i + 1, j - i - 1));
      for (std::sregex_iterator m(block.begin(), block.end(), name_matcher), end; m != end; ++m) {
        std::string names = (*m)[2];
        if ((*m)[1] == "=") {
          out.insert(names);
        } else {
          std::stringstream alternatives(names);
          for (std::string n; std::getline(alternatives, n, '|');) out.insert(n);
        }
      }
      i = j + 1;
    } else if (c == '[') {
      i = e.find(']', i);
      i = i == std::string_view::npos ? e.size() : i + 1;
    } else if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      while (i < e.size() && (std::isalnum(static_cast<unsigned char>(e[i])) || e[i] == '.' || e[i] == '_')) ++i;
    } else if (is_ident(c)) {
      std::size_t j = i;
      while (j < e.size() && is_ident(e[j])) ++j;
      const std::string id(e.substr(i, j - i));
      const std::size_t next = skip_space(j);
      i = j;
      if (label_lists.count(id)) {
        if (next < e.size() && e[next] == '(') i = e.find(')', next) + 1;
      } else if (!keywords.count(id) && !(next < e.size() && e[next] == '(')) {
        out.insert(id);
      }
    } else {
      ++i;
    }
  }
  return out;
}

TEST(GrafanaPromQLNames, FindsMetricsNotFunctionsLabelsOrKeywords) {
  EXPECT_EQ(metric_names(R"q(sum by (project, service) (rate(a_total{job="x", instance=~"h.*"}[5m])) / on (project) group_left () b offset 10m > bool 0.9)q"),
            (std::set<std::string>{"a_total", "b"}));
  EXPECT_EQ(metric_names(R"q(predict_linear(c_bytes[6h], 24 * 3600) < 0 or time() - d_seconds)q"),
            (std::set<std::string>{"c_bytes", "d_seconds"}));
  EXPECT_EQ(metric_names(R"q({__name__=~"e_info|f:ratio", instance="h1"})q"), (std::set<std::string>{"e_info", "f:ratio"}));
  EXPECT_EQ(metric_names(R"q(max(g) without (x) and absent(up{job="a b"}) unless h{l="{not}"} == 1e3)q"),
            (std::set<std::string>{"g", "up", "h"}));
}

// The metric names of docs/CONTRACT.md.
std::set<std::string> contract_metrics() {
  const std::string text = read(source("docs/CONTRACT.md"));
  static const std::regex name("`((?:composewatch|process)_[a-z0-9_]*[a-z0-9])");
  std::set<std::string> out;
  for (std::sregex_iterator m(text.begin(), text.end(), name), end; m != end; ++m) out.insert((*m)[1]);
  return out;
}

YAML::Node prometheus_rules() { return YAML::LoadFile(source("deploy/prometheus/rules.yml")); }

std::map<std::string, std::string> recording_rules() {  // name -> expr
  std::map<std::string, std::string> out;
  for (const auto& g : prometheus_rules()["groups"])
    for (const auto& r : g["rules"])
      if (r["record"]) out[r["record"].as<std::string>()] = r["expr"].as<std::string>();
  return out;
}

std::vector<YAML::Node> prometheus_alerts() {
  std::vector<YAML::Node> out;
  for (const auto& g : prometheus_rules()["groups"])
    for (const auto& r : g["rules"])
      if (r["alert"]) out.push_back(r);
  return out;
}

// Prometheus's own series of every target (up and the scrape_* of its scrape).
const std::set<std::string> kTargetSeries = {"up", "scrape_duration_seconds", "scrape_samples_scraped",
                                             "scrape_series_added", "scrape_samples_post_metric_relabeling"};

std::set<std::string> known_series() {
  auto known = contract_metrics();
  for (const auto& [name, expr] : recording_rules()) known.insert(name);
  known.insert(kTargetSeries.begin(), kTargetSeries.end());
  return known;
}

// ------------------------------------------------------------------------------- dashboard

TEST(GrafanaDashboard, ParsesWithUidTitleAndACurrentSchemaVersion) {
  EXPECT_EQ(str(dashboard(kDashboard), "uid"), "composewatch");
  EXPECT_EQ(str(dashboard(kFleetDashboard), "uid"), "composewatch-fleet");
  for (const auto& path : kDashboards) {
    SCOPED_TRACE(path);
    const auto d = dashboard(path);
    EXPECT_FALSE(str(d, "title").empty());
    // 39 is Grafana 11.0's; a file below it is migrated at every load.
    ASSERT_TRUE(d.at("schemaVersion").is_int64());
    EXPECT_GE(d.at("schemaVersion").as_int64(), 39);
    // Provisioned dashboards carry no database id.
    const auto* id = d.as_object().if_contains("id");
    EXPECT_TRUE(!id || id->is_null());
  }
}

TEST(GrafanaDashboard, EveryPanelHasAUniqueIdATypeAndAGridPos) {
  for (const auto& path : kDashboards) {
    SCOPED_TRACE(path);
    const auto d = dashboard(path);
    std::set<std::int64_t> ids;
    std::set<std::pair<std::int64_t, std::int64_t>> cells;
    for (const auto* p : all_panels(d)) {
      SCOPED_TRACE(str(*p, "title"));
      ASSERT_TRUE(p->at("id").is_int64());
      EXPECT_TRUE(ids.insert(p->at("id").as_int64()).second) << "id " << p->at("id").as_int64() << " twice";
      EXPECT_FALSE(str(*p, "type").empty());
      EXPECT_FALSE(str(*p, "title").empty());
      const auto& g = p->at("gridPos");
      for (const char* k : {"x", "y", "w", "h"}) ASSERT_TRUE(g.at(k).is_int64()) << k;
      const auto x = g.at("x").as_int64(), y = g.at("y").as_int64(), w = g.at("w").as_int64(), h = g.at("h").as_int64();
      EXPECT_GE(x, 0);
      EXPECT_GT(w, 0);
      EXPECT_GT(h, 0);
      EXPECT_LE(x + w, 24) << "wider than the grid";
      for (auto cx = x; cx < x + w; ++cx)
        for (auto cy = y; cy < y + h; ++cy)
          EXPECT_TRUE(cells.insert({cx, cy}).second) << "overlaps at " << cx << "," << cy;
    }
    EXPECT_GE(ids.size(), path == kDashboard ? 20u : 8u);
  }
}

TEST(GrafanaDashboard, EveryPanelTargetVariableAndAnnotationUsesTheDatasourceVariable) {
  for (const auto& path : kDashboards) {
    SCOPED_TRACE(path);
    const auto d = dashboard(path);
    const auto* ds = variable(d, "datasource");
    ASSERT_TRUE(ds);
    EXPECT_EQ(str(*ds, "type"), "datasource");
    EXPECT_EQ(str(*ds, "query"), "prometheus");

    auto expect_variable = [](const json::value& v, const std::string& what) {
      const auto* ref = v.as_object().if_contains("datasource");
      ASSERT_TRUE(ref && ref->is_object()) << what << ": no datasource";
      EXPECT_EQ(str(*ref, "uid"), kDatasourceVariable) << what;
      EXPECT_EQ(str(*ref, "type"), "prometheus") << what;
    };
    for (const auto* p : all_panels(d)) {
      if (is_row(*p)) continue;
      const std::string title = str(*p, "title");
      expect_variable(*p, "panel " + title);
      ASSERT_TRUE(p->as_object().contains("targets")) << title;
      EXPECT_FALSE(p->at("targets").as_array().empty()) << title;
      for (const auto& t : p->at("targets").as_array())
        expect_variable(t, "panel " + title + " / target " + str(t, "refId"));
    }
    for (const auto& v : templating(d))
      if (str(v, "type") == "query") expect_variable(v, "variable " + str(v, "name"));
    for (const auto& a : d.at("annotations").at("list").as_array()) expect_variable(a, "annotation " + str(a, "name"));
  }
}

// Every "datasource" anywhere in the file, object or old-style string, is the variable: the
// dashboard works with whatever uid the user's Prometheus data source has.
void expect_no_fixed_datasource(const json::value& v, const std::string& path) {
  if (const auto* o = v.if_object()) {
    for (const auto& [key, value] : *o) {
      const std::string here = path + "/" + std::string(key);
      if (key == "datasource") {
        if (value.is_string()) {
          EXPECT_EQ(std::string(value.get_string()), kDatasourceVariable) << here;
        } else if (value.is_object()) {
          EXPECT_EQ(str(value, "uid"), kDatasourceVariable) << here;
        }
      }
      EXPECT_NE(key, "datasourceUid") << here;
      EXPECT_NE(key, "__inputs") << here << ": an import template, not a provisionable dashboard";
      expect_no_fixed_datasource(value, here);
    }
  } else if (const auto* a = v.if_array()) {
    for (std::size_t i = 0; i < a->size(); ++i) expect_no_fixed_datasource((*a)[i], path + "/" + std::to_string(i));
  }
}

TEST(GrafanaDashboard, NoDatasourceUidIsHardCoded) {
  for (const auto& path : kDashboards) {
    SCOPED_TRACE(path);
    expect_no_fixed_datasource(dashboard(path), "");
    EXPECT_EQ(read(path).find("-- Grafana --"), std::string::npos);
  }
}

TEST(GrafanaDashboard, InstanceProjectAndServiceAreChainedVariables) {
  const auto d = dashboard();
  const auto* instance = variable(d, "instance");
  const auto* project = variable(d, "project");
  const auto* service = variable(d, "service");
  ASSERT_TRUE(instance && project && service);
  EXPECT_EQ(normalise_space(variable_query(*instance)), "label_values(composewatch_build_info, instance)");
  EXPECT_NE(variable_query(*project).find("$instance"), std::string::npos);
  EXPECT_TRUE(variable_query(*project).ends_with(", project)"));
  EXPECT_NE(variable_query(*service).find("$instance"), std::string::npos);
  EXPECT_NE(variable_query(*service).find("$project"), std::string::npos);
  EXPECT_TRUE(variable_query(*service).ends_with(", service)"));
  for (const auto* v : {project, service}) {
    SCOPED_TRACE(str(*v, "name"));
    EXPECT_TRUE(v->at("multi").as_bool());
    EXPECT_TRUE(v->at("includeAll").as_bool());
    // Not Grafana's default of every value found: ".*" also matches the empty project and
    // service of containers that Compose did not make.
    EXPECT_EQ(str(*v, "allValue"), ".*");
  }
  // The order of the list is the order Grafana resolves them in.
  std::vector<std::string> order;
  for (const auto& v : templating(d)) order.push_back(str(v, "name"));
  EXPECT_EQ(order, (std::vector<std::string>{"datasource", "instance", "project", "service"}));
}

TEST(GrafanaDashboard, EveryQueryNamesOnlyContractMetricsRecordingRulesOrUp) {
  const auto known = known_series();
  ASSERT_GT(known.size(), 50u);
  for (const auto& path : kDashboards) {
    SCOPED_TRACE(path);
    const auto queries = itest::dashboard_queries(path, variables_of(path));
    ASSERT_FALSE(queries.empty());
    for (const auto& q : queries) {
      const auto names = metric_names(q.expr);
      EXPECT_FALSE(names.empty()) << q.where << ": " << q.expr;
      for (const auto& n : names)
        EXPECT_TRUE(known.count(n)) << q.where << ": " << n << " is in neither the contract nor rules.yml";
    }
  }
}

TEST(GrafanaDashboard, UsesTheRecordingRulesRatherThanTheirExpressions) {
  // Label matchers stripped: a panel's selector adds them to what the rule computes.
  auto bare = [](const std::string& e) {
    return normalise_space(std::regex_replace(e, std::regex(R"q(\{[^}]*\})q"), ""));
  };
  const auto rules = recording_rules();
  for (const auto& path : kDashboards) {
    SCOPED_TRACE(path);
    const auto queries = itest::dashboard_queries(path, variables_of(path));
    ASSERT_FALSE(rules.empty()) << "rules.yml has no recording rules: nothing to check";
    ASSERT_FALSE(queries.empty());
    std::size_t used = 0;
    for (const auto& [name, expr] : rules) {
      for (const auto& q : queries) {
        EXPECT_EQ(bare(q.expr).find(bare(expr)), std::string::npos) << q.where << " computes " << name << " itself";
        if (q.expr.find(name) != std::string::npos) ++used;
      }
    }
    EXPECT_GT(used, 0u) << "no panel reads a recording rule";
  }
}

TEST(GrafanaDashboard, RatesUseTheRateInterval) {
  // Raw expressions: the window as written, before Grafana's variables are filled in.
  for (const auto& path : kDashboards) {
    SCOPED_TRACE(path);
    const auto d = dashboard(path);
    const std::regex counter_fn(R"q(\b(rate|irate|increase)\()q");
    for (const auto* p : all_panels(d)) {
      if (!p->as_object().contains("targets")) continue;
      for (const auto& t : p->at("targets").as_array()) {
        const std::string e = str(t, "expr");
        for (std::sregex_iterator m(e.begin(), e.end(), counter_fn), end; m != end; ++m) {
          const auto open = e.find('[', m->position());
          ASSERT_NE(open, std::string::npos) << e;
          const std::string window = e.substr(open + 1, e.find(']', open) - open - 1);
          SCOPED_TRACE(str(*p, "title") + ": " + e);
          // increase() over the dashboard's range is "in range"; every rate is per $__rate_interval.
          if ((*m)[1] == "increase") {
            EXPECT_TRUE(window == "$__rate_interval" || window == "$__range") << window;
          } else {
            EXPECT_EQ(window, "$__rate_interval");
          }
        }
      }
    }
  }
}

TEST(GrafanaDashboard, OomKillsAreAnAnnotation) {
  const auto d = dashboard();
  bool found = false;
  for (const auto& a : d.at("annotations").at("list").as_array()) {
    const std::string expr = str(a.at("target"), "expr");
    if (expr.find("composewatch_container_oom_kills_total") == std::string::npos) continue;
    found = true;
    EXPECT_TRUE(a.at("enable").as_bool());
    EXPECT_NE(expr.find("> 0"), std::string::npos) << expr;
    EXPECT_NE(expr.find("$instance"), std::string::npos) << expr;
    EXPECT_NE(str(a, "textFormat").find("{{container}}"), std::string::npos);
  }
  EXPECT_TRUE(found);
}

// Row title -> the expressions of its panels, one a line; a panel is in the last row above it.
std::map<std::string, std::string> queries_by_row(const json::value& d) {
  std::vector<const json::value*> panels;
  for (const auto& p : d.at("panels").as_array()) panels.push_back(&p);
  std::stable_sort(panels.begin(), panels.end(), [](const json::value* a, const json::value* b) {
    const auto& ga = a->at("gridPos");
    const auto& gb = b->at("gridPos");
    return std::pair(ga.at("y").as_int64(), ga.at("x").as_int64()) < std::pair(gb.at("y").as_int64(), gb.at("x").as_int64());
  });
  std::map<std::string, std::string> out;
  std::string row;
  for (const auto* p : panels) {
    if (is_row(*p)) {
      row = str(*p, "title");
      continue;
    }
    for (const auto& t : p->at("targets").as_array()) out[row] += str(t, "expr") + "\n";
  }
  return out;
}

TEST(GrafanaDashboard, RowsShowWhatTheyPromise) {
  const auto d = dashboard();
  std::vector<std::string> rows;
  for (const auto& p : d.at("panels").as_array())
    if (is_row(p)) rows.push_back(str(p, "title"));
  EXPECT_EQ(rows, (std::vector<std::string>{"Host overview", "Projects and services", "Containers", "Agent"}));

  const auto exprs = queries_by_row(d);
  const std::map<std::string, std::vector<std::string>> promised = {
      {"Host overview",
       {"composewatch_disk_usage_bytes", "composewatch_disk_reclaimable_bytes", "composewatch:filesystem_avail:ratio",
        "predict_linear(composewatch_filesystem_avail_bytes", "composewatch_prune_runs_total",
        "composewatch_prune_reclaimed_bytes_total", "composewatch_prune_candidate_bytes", "composewatch_prune_failures_total",
        "composewatch_engine_up", "composewatch_build_info"}},
      {"Projects and services",
       {"composewatch_container_state", "composewatch_container_health_status",
        "composewatch:container_memory_working_set:ratio", "composewatch_container_oom_kills_total",
        "composewatch_container_restarts_total", "composewatch_service_drift", "composewatch:service_drift:fields",
        "composewatch_compose_lint_finding", "composewatch_service_replicas_running",
        "composewatch_service_replicas_desired", "composewatch_container_orphan", "composewatch_image_finding",
        "composewatch_autoheal_actions_total", "composewatch_autoheal_suppressed_total", "composewatch_autoheal_given_up"}},
      {"Containers",
       {"composewatch:container_memory_working_set:ratio", "composewatch_container_memory_working_set_bytes",
        "composewatch_container_memory_limit_bytes", "rate(composewatch_container_cpu_seconds_total",
        "rate(composewatch_container_cpu_throttled_seconds_total", "composewatch:container_restarts:increase15m",
        "composewatch:container_oom_kills:increase10m", "rate(composewatch_container_blkio_read_bytes_total",
        "rate(composewatch_container_blkio_write_bytes_total", "composewatch_container_pids",
        "rate(composewatch_container_cpu_throttled_periods_total", "rate(composewatch_container_cpu_periods_total",
        "exit_code, reason) (increase(composewatch_container_exits_total", "composewatch_container_last_exit_reason"}},
      {"Agent",
       {"composewatch_collector_success", "composewatch_collector_duration_seconds",
        "composewatch_event_stream_reconnects_total", "composewatch_event_gap_seconds", "scrape_duration_seconds{",
        "process_resident_memory_bytes{", "rate(process_cpu_seconds_total{"}},
  };
  for (const auto& [row, needles] : promised) {
    ASSERT_TRUE(exprs.count(row)) << row;
    for (const auto& n : needles) EXPECT_NE(exprs.at(row).find(n), std::string::npos) << row << " lacks " << n;
  }
  // predict_linear exactly as the alert has it.
  EXPECT_NE(exprs.at("Host overview").find("[6h], 24 * 3600)"), std::string::npos);
}

// The fleet rule: every composewatch scrape job is named composewatch or composewatch-<host>.
// Series that other exporters export too (up, scrape_*, process_*) are selected by
// job=~"composewatch.*", so that a node_exporter on the same instance is not mixed in and a
// job per host is not left out; no dashboard asks for job="composewatch" alone.
TEST(GrafanaDashboard, SharedSeriesAreSelectedByTheComposewatchJobs) {
  const std::regex shared(R"q(\b(up|scrape_[a-z_]+|process_[a-z_]+)\{([^}]*)\})q");
  for (const auto& path : kDashboards) {
    SCOPED_TRACE(path);
    std::size_t selected = 0;
    for (const auto& q : itest::dashboard_queries(path, variables_of(path))) {
      for (std::sregex_iterator m(q.expr.begin(), q.expr.end(), shared), end; m != end; ++m) {
        ++selected;
        EXPECT_NE((*m)[2].str().find(R"q(job=~"composewatch.*")q"), std::string::npos) << q.where << ": " << q.expr;
      }
      // A bare name without a selector would match every job's series.
      for (const std::string bare : {"up", "process_resident_memory_bytes", "process_cpu_seconds_total"})
        EXPECT_FALSE(std::regex_search(q.expr, std::regex("\\b" + bare + "\\b(?![{_])"))) << q.where << ": " << q.expr;
    }
    EXPECT_GT(selected, 0u);
    EXPECT_EQ(read(path).find(R"q(job=\"composewatch\")q"), std::string::npos);
  }
}

TEST(GrafanaFleetDashboard, InstanceIsMultiValuedWithAllAndEveryQueryUsesIt) {
  const auto d = dashboard(kFleetDashboard);
  std::vector<std::string> order;
  for (const auto& v : templating(d)) order.push_back(str(v, "name"));
  EXPECT_EQ(order, (std::vector<std::string>{"datasource", "instance"}));
  const auto* instance = variable(d, "instance");
  ASSERT_TRUE(instance);
  EXPECT_EQ(normalise_space(variable_query(*instance)), "label_values(composewatch_build_info, instance)");
  EXPECT_TRUE(instance->at("multi").as_bool());
  EXPECT_TRUE(instance->at("includeAll").as_bool());
  EXPECT_EQ(str(*instance, "allValue"), ".*");
  for (const auto* p : all_panels(d))
    for (const auto& t : p->at("targets").as_array()) {
      const std::string e = str(t, "expr");
      EXPECT_NE(e.find(R"q(instance=~"$instance")q"), std::string::npos) << str(*p, "title") << ": " << e;
      EXPECT_EQ(e.find(R"q(instance="$instance")q"), std::string::npos) << str(*p, "title") << ": a multi-value variable needs =~";
    }
}

const json::value* panel_titled(const json::value& d, std::string_view title) {
  for (const auto* p : all_panels(d))
    if (str(*p, "title") == title) return p;
  return nullptr;
}

// Every value the brief of the fleet table promises, one column each, by instance.
TEST(GrafanaFleetDashboard, HostsTableHasOneColumnPerConcernByInstance) {
  const auto d = dashboard(kFleetDashboard);
  const auto* hosts = panel_titled(d, "Hosts");
  ASSERT_TRUE(hosts);
  EXPECT_EQ(str(*hosts, "type"), "table");
  std::string all;
  for (const auto& t : hosts->at("targets").as_array()) {
    const std::string e = str(t, "expr");
    SCOPED_TRACE(e);
    EXPECT_EQ(str(t, "format"), "table");
    EXPECT_TRUE(t.at("instant").as_bool());
    EXPECT_NE(e.find("by (instance)"), std::string::npos) << "one row per host";
    all += e + "\n";
  }
  for (const char* needle :
       {"max by (instance) (up{", "composewatch_engine_up", "increase(composewatch_container_oom_kills_total",
        "increase(composewatch_container_restarts_total", R"q(composewatch_container_health_status{instance=~"$instance", status="unhealthy"})q",
        "composewatch_service_drift", "composewatch_compose_lint_finding", "composewatch:filesystem_avail:ratio",
        "increase(composewatch_prune_failures_total", "composewatch_autoheal_given_up"})
    EXPECT_NE(all.find(needle), std::string::npos) << needle;
  // The tables's transformations merge the queries into one row per instance.
  ASSERT_TRUE(hosts->as_object().contains("transformations"));
  EXPECT_EQ(str(hosts->at("transformations").as_array().at(0), "id"), "merge");
}

// A row of the fleet opens that host in the host dashboard: a data link to its uid with
// var-instance set to the row's instance, keeping the data source and the time range.
TEST(GrafanaFleetDashboard, RowsLinkToTheHostDashboardOfTheirInstance) {
  const auto d = dashboard(kFleetDashboard);
  const std::string host_uid = str(dashboard(kDashboard), "uid");
  const auto* hosts = panel_titled(d, "Hosts");
  ASSERT_TRUE(hosts);
  const auto& links = hosts->at("fieldConfig").at("defaults").at("links").as_array();
  ASSERT_FALSE(links.empty());
  const std::string url = str(links.at(0), "url");
  EXPECT_TRUE(url.starts_with("/d/" + host_uid + "/")) << url;
  EXPECT_NE(url.find("var-instance=${__data.fields.instance}"), std::string::npos) << url;
  EXPECT_NE(url.find("${datasource:queryparam}"), std::string::npos) << url;
  EXPECT_NE(url.find("${__url_time_range}"), std::string::npos) << url;
  // The field the link reads is the table's instance column (the label of every query).
  bool instance_column = false;
  for (const auto& o : hosts->at("fieldConfig").at("overrides").as_array())
    instance_column |= str(o.at("matcher"), "options") == "instance";
  EXPECT_TRUE(instance_column);
}

TEST(GrafanaFleetDashboard, TheTwoDashboardsLinkToEachOther) {
  const auto host = dashboard(kDashboard);
  const auto fleet = dashboard(kFleetDashboard);
  auto links_to = [](const json::value& from, const std::string& uid) {
    for (const auto& l : from.at("links").as_array())
      if (str(l, "url").starts_with("/d/" + uid + "/") && l.at("keepTime").as_bool()) return true;
    return false;
  };
  EXPECT_TRUE(links_to(host, str(fleet, "uid")));
  EXPECT_TRUE(links_to(fleet, str(host, "uid")));
}

// promtool parses every expression as a recording rule's: the syntax Prometheus will see.
TEST(GrafanaDashboard, EveryQueryIsValidPromQL) {
  ASSERT_EQ(std::system("promtool --version >/dev/null 2>&1"), 0)
      << "promtool is missing: scripts/dev.sh setup installs it";
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "groups" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << "dashboard" << YAML::Key << "rules" << YAML::Value << YAML::BeginSeq;
  int n = 0;
  for (const auto& path : kDashboards)
    for (const auto& q : itest::dashboard_queries(path, variables_of(path))) {
      out << YAML::BeginMap << YAML::Key << "record" << YAML::Value << "dashboard:query" + std::to_string(n++);
      out << YAML::Key << "expr" << YAML::Value << q.expr << YAML::EndMap;
    }
  out << YAML::EndSeq << YAML::EndMap << YAML::EndSeq << YAML::EndMap;
  const std::string file = testing::TempDir() + "grafana_dashboard_queries.yml";
  std::ofstream(file) << out.c_str();
  const std::string cmd = "promtool check rules " + file + " 2>&1";
  std::string output;
  FILE* pipe = popen(cmd.c_str(), "r");
  ASSERT_TRUE(pipe);
  char buf[4096];
  while (std::fgets(buf, sizeof buf, pipe)) output += buf;
  const int status = pclose(pipe);
  EXPECT_EQ(status, 0) << output;
  std::remove(file.c_str());
}

// ------------------------------------------------------------------- dashboard_queries()

TEST(GrafanaDashboardQueries, ReturnsEveryTargetVariableAndAnnotationFilledIn) {
  const auto d = dashboard();
  std::size_t targets = 0;
  for (const auto* p : all_panels(d))
    if (p->as_object().contains("targets")) targets += p->at("targets").as_array().size();
  const auto queries = itest::dashboard_queries(kDashboard, kVariables);
  std::size_t panel = 0, var = 0, annotation = 0;
  for (const auto& q : queries) {
    if (q.where.starts_with("panel ")) ++panel;
    if (q.where.starts_with("variable ")) ++var;
    if (q.where.starts_with("annotation ")) ++annotation;
    EXPECT_EQ(q.expr.find('$'), std::string::npos) << q.where << ": " << q.expr;
  }
  EXPECT_EQ(panel, targets);
  EXPECT_EQ(var, 3u);  // instance, project, service; the data source variable has no PromQL
  EXPECT_EQ(annotation, d.at("annotations").at("list").as_array().size());
  EXPECT_EQ(panel + var + annotation, queries.size());

  const auto find = [&](const std::string& where) {
    auto it = std::find_if(queries.begin(), queries.end(), [&](const auto& q) { return q.where == where; });
    return it == queries.end() ? std::string("(none)") : it->expr;
  };
  EXPECT_EQ(find("variable instance"), "composewatch_build_info");
  EXPECT_NE(find("variable service").find(R"q(instance="h1", project=~".*")q"), std::string::npos) << find("variable service");
  EXPECT_NE(find("panel CPU / target A").find("[1m])"), std::string::npos) << find("panel CPU / target A");
  EXPECT_NE(find("annotation OOM kills").find("composewatch_container_oom_kills_total{"), std::string::npos);
}

TEST(GrafanaDashboardQueries, FillsInVariablesAndGrafanasBuiltIns) {
  const std::map<std::string, std::string> vars = {{"instance", "h1"}, {"project", "(shop|blog)"}};
  EXPECT_EQ(itest::interpolate_grafana_variables(
                R"q(rate(x{instance="$instance", project=~"${project}", p2=~"${project:regex}", i="[[instance]]"}[$__rate_interval]))q",
                vars, "t"),
            R"q(rate(x{instance="h1", project=~"(shop|blog)", p2=~"(shop|blog)", i="h1"}[1m]))q");
  EXPECT_EQ(itest::interpolate_grafana_variables("increase(x[$__range]) / $__range_s + $__interval_ms", vars, "t"),
            "increase(x[1m]) / 60 + 60000");
  // label_replace's $1 and a lone $ are PromQL, not variables.
  EXPECT_EQ(itest::interpolate_grafana_variables(R"q(label_replace(x, "a", "$1", "b", "(.*)$"))q", vars, "t"),
            R"q(label_replace(x, "a", "$1", "b", "(.*)$"))q");
  EXPECT_THROW(itest::interpolate_grafana_variables("x{service=~\"$service\"}", vars, "t"), std::runtime_error);
  EXPECT_THROW(itest::interpolate_grafana_variables("x[$__unknown]", vars, "t"), std::runtime_error);
}

TEST(GrafanaDashboardQueries, ThrowsForAMissingOrBrokenFile) {
  EXPECT_THROW(itest::dashboard_queries(source("grafana/dashboards/none.json"), kVariables), std::runtime_error);
  const std::string broken = testing::TempDir() + "grafana_broken.json";
  std::ofstream(broken) << R"q({"panels": [{"title": "p", "targets": [{"refId": "A"}]}]})q";
  EXPECT_THROW(itest::dashboard_queries(broken, kVariables), std::runtime_error);
  std::ofstream(broken) << "{not json";
  EXPECT_THROW(itest::dashboard_queries(broken, kVariables), std::runtime_error);
  std::remove(broken.c_str());
}

// ------------------------------------------------------------------ Grafana-managed alerts

YAML::Node alerting() { return YAML::LoadFile(kAlerting); }

std::vector<YAML::Node> grafana_rules() {
  std::vector<YAML::Node> out;
  for (const auto& g : alerting()["groups"])
    for (const auto& r : g["rules"]) out.push_back(r);
  return out;
}

// Prometheus durations ("1h30m", "90s") in seconds; -1 when it is none.
long long seconds(const std::string& d) {
  static const std::regex part(R"q((\d+)(ms|s|m|h|d|w|y))q");
  static const std::map<std::string, long long> unit = {{"ms", 0}, {"s", 1}, {"m", 60}, {"h", 3600},
                                                        {"d", 86400}, {"w", 604800}, {"y", 31536000}};
  if (!std::regex_match(d, std::regex(R"q((\d+(ms|s|m|h|d|w|y))+)q"))) return -1;
  long long total = 0;
  for (std::sregex_iterator m(d.begin(), d.end(), part), end; m != end; ++m) total += std::stoll((*m)[1]) * unit.at((*m)[2]);
  return total;
}

// Grafana's $value is the labels and values of every query and expression of the rule as one
// string ("[ var='A' labels={...} value=3 ], ..."), not the number Prometheus gives; the value
// of the rule's query for the alert's series is $values.A.Value.
std::string as_grafana_template(const std::string& prometheus_template) {
  return std::regex_replace(prometheus_template, std::regex(R"q(\$value\b)q"), "$$values.A.Value");
}

const YAML::Node* data_query(const YAML::Node& rule, std::vector<YAML::Node>& keep) {
  keep.clear();
  for (const auto& q : rule["data"])
    if (q["datasourceUid"].as<std::string>("") != "__expr__") keep.push_back(q);
  return keep.size() == 1 ? &keep.front() : nullptr;
}

TEST(GrafanaAlerting, EveryPrometheusAlertHasOneGrafanaRuleThatIsTheSame) {
  const auto alerts = prometheus_alerts();
  const auto rules = grafana_rules();
  ASSERT_GE(alerts.size(), 20u);
  for (const auto& a : alerts) {
    const std::string name = a["alert"].as<std::string>();
    SCOPED_TRACE(name);
    std::vector<YAML::Node> same;
    for (const auto& r : rules)
      if (r["title"].as<std::string>("") == name) same.push_back(r);
    ASSERT_EQ(same.size(), 1u) << "Grafana rules titled " << name;
    const auto& r = same.front();

    std::vector<YAML::Node> keep;
    const auto* query = data_query(r, keep);
    ASSERT_TRUE(query) << "not exactly one data source query";
    EXPECT_EQ(normalise_space((*query)["model"]["expr"].as<std::string>("")), normalise_space(a["expr"].as<std::string>()));

    EXPECT_EQ(seconds(r["for"].as<std::string>("")), seconds(a["for"].as<std::string>("0s")));
    EXPECT_GE(seconds(r["for"].as<std::string>("")), 0) << r["for"];
    // Prometheus's keep_firing_for is Grafana's keepFiringFor.
    EXPECT_EQ(seconds(r["keepFiringFor"].as<std::string>("0s")), seconds(a["keep_firing_for"].as<std::string>("0s")));

    std::map<std::string, std::string> prom_labels, grafana_labels;
    for (const auto& kv : a["labels"]) prom_labels[kv.first.as<std::string>()] = kv.second.as<std::string>();
    for (const auto& kv : r["labels"]) grafana_labels[kv.first.as<std::string>()] = kv.second.as<std::string>();
    EXPECT_EQ(grafana_labels, prom_labels);
    EXPECT_FALSE(grafana_labels["severity"].empty());

    std::map<std::string, std::string> prom_annotations, grafana_annotations;
    for (const auto& kv : a["annotations"])
      prom_annotations[kv.first.as<std::string>()] = as_grafana_template(kv.second.as<std::string>());
    for (const auto& kv : r["annotations"]) grafana_annotations[kv.first.as<std::string>()] = kv.second.as<std::string>();
    EXPECT_EQ(grafana_annotations, prom_annotations);
    for (const char* k : {"summary", "description", "runbook_url"}) EXPECT_TRUE(grafana_annotations.count(k)) << k;
  }
}

TEST(GrafanaAlerting, NoGrafanaRuleWithoutItsPrometheusAlert) {
  std::set<std::string> names;
  for (const auto& a : prometheus_alerts()) names.insert(a["alert"].as<std::string>());
  for (const auto& r : grafana_rules()) EXPECT_TRUE(names.count(r["title"].as<std::string>(""))) << r["title"];
  EXPECT_EQ(grafana_rules().size(), names.size());
}

TEST(GrafanaAlerting, TheAnnotationTemplateChangeTouchesOnlyValue) {
  EXPECT_EQ(as_grafana_template("{{ $value | humanize }} and {{ $values.B.Value }} of {{ $labels.x }}"),
            "{{ $values.A.Value | humanize }} and {{ $values.B.Value }} of {{ $labels.x }}");
}

// Like Prometheus, each rule fires for every series its expression returns, whatever the value
// (0 included), and is quiet when it returns none: Grafana's own conversion of Prometheus
// rules, a math expression that is 1 for any number and a threshold above 0 on it.
TEST(GrafanaAlerting, EveryRuleFiresForEachSeriesItsExpressionReturns) {
  for (const auto& r : grafana_rules()) {
    SCOPED_TRACE(r["title"].as<std::string>(""));
    std::map<std::string, YAML::Node> by_ref;
    for (const auto& q : r["data"]) by_ref.emplace(q["refId"].as<std::string>(), static_cast<const YAML::Node&>(q));
    ASSERT_EQ(by_ref.size(), 3u);
    const auto& a = by_ref["A"];
    const auto& b = by_ref["B"];
    const auto& c = by_ref["C"];
    ASSERT_TRUE(a && b && c);
    EXPECT_TRUE(a["model"]["instant"].as<bool>(false));
    EXPECT_FALSE(a["model"]["range"].as<bool>(true));
    EXPECT_EQ(b["model"]["type"].as<std::string>(""), "math");
    EXPECT_EQ(normalise_space(b["model"]["expression"].as<std::string>("")), "is_number($A) || is_nan($A) || is_inf($A)");
    EXPECT_EQ(c["model"]["type"].as<std::string>(""), "threshold");
    EXPECT_EQ(c["model"]["expression"].as<std::string>(""), "B");
    ASSERT_EQ(c["model"]["conditions"].size(), 1u);
    EXPECT_EQ(c["model"]["conditions"][0]["evaluator"]["type"].as<std::string>(""), "gt");
    EXPECT_EQ(c["model"]["conditions"][0]["evaluator"]["params"][0].as<double>(-1), 0.0);
    EXPECT_EQ(r["condition"].as<std::string>(""), "C");
    EXPECT_EQ(r["noDataState"].as<std::string>(""), "OK");
  }
}

TEST(GrafanaAlerting, FileHasTheShapeOfGrafanasAlertRuleProvisioning) {
  const auto file = alerting();
  EXPECT_EQ(file["apiVersion"].as<int>(0), 1);
  ASSERT_TRUE(file["groups"].IsSequence());
  std::set<std::string> uids;
  const std::regex uid_form("[A-Za-z0-9_-]{1,40}");
  for (const auto& g : file["groups"]) {
    for (const char* k : {"orgId", "name", "folder", "interval", "rules"}) EXPECT_TRUE(g[k]) << "group without " << k;
    EXPECT_GE(g["orgId"].as<int>(0), 1);
    const auto interval = seconds(g["interval"].as<std::string>(""));
    EXPECT_GT(interval, 0);
    EXPECT_EQ(interval % 10, 0) << "Grafana evaluates in multiples of 10 s";
    for (const auto& r : g["rules"]) {
      const std::string title = r["title"].as<std::string>("");
      SCOPED_TRACE(title);
      for (const char* k : {"uid", "title", "condition", "data", "for", "labels", "annotations", "noDataState", "execErrState"})
        EXPECT_TRUE(r[k]) << "rule without " << k;
      const std::string uid = r["uid"].as<std::string>("");
      EXPECT_TRUE(std::regex_match(uid, uid_form)) << uid;
      EXPECT_TRUE(uids.insert(uid).second) << uid << " twice";
      const std::set<std::string> no_data = {"Alerting", "NoData", "OK", "KeepLast"};
      const std::set<std::string> exec_err = {"Alerting", "Error", "OK", "KeepLast"};
      EXPECT_TRUE(no_data.count(r["noDataState"].as<std::string>(""))) << r["noDataState"];
      EXPECT_TRUE(exec_err.count(r["execErrState"].as<std::string>(""))) << r["execErrState"];
      const auto pending = seconds(r["for"].as<std::string>(""));
      EXPECT_EQ(pending % interval, 0) << "for: is not a multiple of the group's interval";

      std::set<std::string> refs;
      for (const auto& q : r["data"]) {
        const std::string ref = q["refId"].as<std::string>("");
        EXPECT_TRUE(refs.insert(ref).second) << ref;
        EXPECT_FALSE(q["datasourceUid"].as<std::string>("").empty()) << ref;
        EXPECT_TRUE(q["model"].IsMap()) << ref;
        EXPECT_EQ(q["model"]["refId"].as<std::string>(""), ref);
        EXPECT_TRUE(q["relativeTimeRange"]["from"] && q["relativeTimeRange"]["to"]) << ref;
        EXPECT_GE(q["relativeTimeRange"]["from"].as<long long>(-1), q["relativeTimeRange"]["to"].as<long long>(0)) << ref;
        if (q["datasourceUid"].as<std::string>("") == "__expr__") {
          const std::set<std::string> types = {"math", "reduce", "resample", "classic_conditions", "threshold", "sql"};
          EXPECT_TRUE(types.count(q["model"]["type"].as<std::string>(""))) << ref;
          EXPECT_EQ(q["model"]["datasource"]["uid"].as<std::string>(""), "__expr__") << ref;
        } else {
          EXPECT_EQ(q["model"]["datasource"]["uid"].as<std::string>(""), q["datasourceUid"].as<std::string>(""));
          EXPECT_EQ(q["model"]["datasource"]["type"].as<std::string>(""), "prometheus");
        }
      }
      EXPECT_TRUE(refs.count(r["condition"].as<std::string>(""))) << "the condition is no refId of data";
      for (const char* k : {"labels", "annotations"}) {
        ASSERT_TRUE(r[k].IsMap()) << k;
        for (const auto& kv : r[k]) EXPECT_TRUE(kv.second.IsScalar()) << k << "." << kv.first.as<std::string>();
      }
    }
  }
}

// Grafana expands environment variables ($NAME, ${NAME}) in a provisioned rule's fields, all
// but its annotations and query models: a "$" anywhere else would be lost.
TEST(GrafanaAlerting, OnlyAnnotationsAndModelsHoldADollar) {
  std::function<void(const YAML::Node&, const std::string&)> walk = [&](const YAML::Node& n, const std::string& path) {
    if (n.IsMap()) {
      for (const auto& kv : n) {
        const std::string key = kv.first.as<std::string>();
        if (key == "annotations" || key == "model") continue;
        walk(kv.second, path + "/" + key);
      }
    } else if (n.IsSequence()) {
      for (std::size_t i = 0; i < n.size(); ++i) walk(n[i], path + "/" + std::to_string(i));
    } else if (n.IsScalar()) {
      EXPECT_EQ(n.as<std::string>().find('$'), std::string::npos) << path << ": " << n.as<std::string>();
    }
  };
  walk(alerting(), "");
}

TEST(GrafanaAlerting, QueriesAskTheExampleDatasource) {
  const auto example = YAML::LoadFile(source("grafana/provisioning/datasources/prometheus.yml.example"));
  const std::string uid = example["datasources"][0]["uid"].as<std::string>("");
  ASSERT_FALSE(uid.empty());
  for (const auto& r : grafana_rules()) {
    for (const auto& q : r["data"]) {
      const std::string ds = q["datasourceUid"].as<std::string>("");
      if (ds == "__expr__") continue;
      EXPECT_EQ(ds, uid) << r["title"];
    }
  }
}

TEST(GrafanaAlerting, QueriesNameOnlyContractMetricsRecordingRulesOrUp) {
  const auto known = known_series();
  const auto queries = itest::grafana_alert_queries(kAlerting);
  EXPECT_EQ(queries.size(), prometheus_alerts().size());
  for (const auto& q : queries) {
    EXPECT_TRUE(q.where.starts_with("alert Composewatch")) << q.where;
    EXPECT_TRUE(q.where.ends_with(" / query A")) << q.where;
    for (const auto& n : metric_names(q.expr)) EXPECT_TRUE(known.count(n)) << q.where << ": " << n;
  }
}

// ---------------------------------------------------------------------------- provisioning

void expect_only_keys(const YAML::Node& n, const std::set<std::string>& allowed, const std::string& what) {
  for (const auto& kv : n) EXPECT_TRUE(allowed.count(kv.first.as<std::string>())) << what << ": unknown key " << kv.first;
}

TEST(GrafanaProvisioning, DashboardProviderLoadsThePackagedDashboards) {
  const auto file = YAML::LoadFile(source("grafana/provisioning/dashboards/composewatch.yml"));
  EXPECT_EQ(file["apiVersion"].as<int>(0), 1);
  ASSERT_EQ(file["providers"].size(), 1u);
  const auto p = file["providers"][0];
  expect_only_keys(p, {"name", "orgId", "folder", "folderUid", "type", "disableDeletion", "updateIntervalSeconds",
                       "allowUiUpdates", "options"},
                   "provider");
  EXPECT_FALSE(p["name"].as<std::string>("").empty());
  EXPECT_EQ(p["type"].as<std::string>(""), "file");
  EXPECT_EQ(p["folder"].as<std::string>(""), alerting()["groups"][0]["folder"].as<std::string>(""))
      << "dashboard and alert rules in one folder";
  expect_only_keys(p["options"], {"path", "foldersFromFilesStructure"}, "options");

  // The path is where the package puts this repository's grafana/dashboards.
  const std::string prefix = "/usr/share/composewatch/";
  const std::string path = p["options"]["path"].as<std::string>("");
  ASSERT_TRUE(path.starts_with(prefix)) << path;
  const std::string rel = path.substr(prefix.size());
  EXPECT_TRUE(fs::exists(source(rel) + "/composewatch.json")) << rel;
  EXPECT_TRUE(fs::exists(source(rel) + "/composewatch-fleet.json")) << rel;
  const std::string package = read(source("cmake/package.cmake"));
  EXPECT_NE(package.find("share/composewatch/${dir}"), std::string::npos);
  EXPECT_TRUE(std::regex_search(package, std::regex(R"q(foreach\(dir [^)]*\bgrafana\b)q"))) << "package.cmake installs no grafana/";
  // Every file the provider reads is a dashboard.
  for (const auto& f : fs::directory_iterator(source(rel))) EXPECT_EQ(f.path().extension(), ".json") << f.path();
}

TEST(GrafanaProvisioning, ExampleDatasourceIsAPrometheusDatasource) {
  const auto file = YAML::LoadFile(source("grafana/provisioning/datasources/prometheus.yml.example"));
  EXPECT_EQ(file["apiVersion"].as<int>(0), 1);
  ASSERT_EQ(file["datasources"].size(), 1u);
  const auto ds = file["datasources"][0];
  expect_only_keys(ds, {"name", "type", "access", "orgId", "uid", "url", "user", "database", "basicAuth", "basicAuthUser",
                        "withCredentials", "isDefault", "jsonData", "secureJsonData", "version", "editable"},
                   "datasource");
  EXPECT_FALSE(ds["name"].as<std::string>("").empty());
  EXPECT_EQ(ds["type"].as<std::string>(""), "prometheus");
  EXPECT_EQ(ds["access"].as<std::string>(""), "proxy");
  EXPECT_TRUE(ds["url"].as<std::string>("").starts_with("http"));
}

// Grafana reads *.yaml, *.yml and *.json in provisioning/alerting and refuses the whole
// directory for any other file; elsewhere it skips what is not YAML (the .example).
TEST(GrafanaProvisioning, AlertingDirectoryHoldsOnlyWhatGrafanaReads) {
  for (const auto& f : fs::directory_iterator(source("grafana/provisioning/alerting"))) {
    const auto ext = f.path().extension();
    EXPECT_TRUE(ext == ".yml" || ext == ".yaml" || ext == ".json") << f.path();
  }
}

}  // namespace
