#pragma once
// The PromQL of the Grafana side, ready to send to a Prometheus: every query of a dashboard
// (grafana/dashboards/*.json) with its variables filled in, and every query of the
// Grafana-managed alert rules (grafana/provisioning/alerting/*.yml). Parsing only; the caller
// runs the queries (and the unit tests check the files with it).
//
// Error policy: std::runtime_error naming the file and the query, for a file that cannot be
// read or parsed, a query without its expression, or a variable the caller gave no value.
// Pure functions; thread-safe.

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace itest {

struct DashboardQuery {
  // "panel <title> / target <refId>", "variable <name>", "annotation <name>", or for an alert
  // rule "alert <title> / query <refId>".
  std::string where;
  std::string expr;
};

// Every PromQL expression of a dashboard, in the order of the file: each target of each panel
// (rows' nested panels included), each query variable, each annotation query.
//
// Dashboard variables ($name, ${name}, ${name:format}, [[name]]) are replaced by their value in
// `variables` as it stands: give a regex for a multi-value variable used as =~"$project" (".*"
// is Grafana's All here). Grafana's own $__rate_interval, $__interval and $__range become 1m
// ($__range_s 60, $__interval_ms and $__range_ms 60000). "$" before anything else (a "$1" of
// label_replace) stays.
//
// A variable's label_values(selector, label) gives its selector, query_result(expr) its expr;
// label_values(label), metrics(...) and label_names() query no series and give nothing.
// Targets of other data sources than Prometheus (Grafana's expressions) are left out.
std::vector<DashboardQuery> dashboard_queries(const std::filesystem::path& dashboard_json,
                                              const std::map<std::string, std::string>& variables);

// The PromQL of each rule of a Grafana alerting provisioning file: the model.expr of every data
// query (Grafana's expressions, datasourceUid __expr__, are left out).
std::vector<DashboardQuery> grafana_alert_queries(const std::filesystem::path& alerting_yaml);

// What dashboard_queries() does to each expression; `where` names it in the exception.
std::string interpolate_grafana_variables(std::string_view expr,
                                          const std::map<std::string, std::string>& variables,
                                          std::string_view where);

}  // namespace itest
