#include "dashboard_queries.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace itest {
namespace {

namespace json = boost::json;
using Variables = std::map<std::string, std::string>;

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error(p.string() + ": cannot read");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

const json::value* member(const json::value& v, std::string_view key) {
  const auto* o = v.if_object();
  return o ? o->if_contains(key) : nullptr;
}

std::string string_member(const json::value& v, std::string_view key) {
  const auto* m = member(v, key);
  return m && m->is_string() ? std::string(m->get_string()) : std::string();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool is_name(std::string_view s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s.front()))) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

// Grafana's interval built-ins, at a fixed step that any scrape interval up to 15 s fills.
std::optional<std::string> builtin(std::string_view name) {
  if (name == "__rate_interval" || name == "__interval" || name == "__range") return "1m";
  if (name == "__range_s") return "60";
  if (name == "__range_ms" || name == "__interval_ms") return "60000";
  return std::nullopt;
}

std::string value_of(std::string_view name, const Variables& variables, std::string_view where) {
  if (name.starts_with("__")) {
    if (auto b = builtin(name)) return *b;
    throw std::runtime_error(std::string(where) + ": unknown Grafana built-in $" + std::string(name));
  }
  auto it = variables.find(std::string(name));
  if (it == variables.end())
    throw std::runtime_error(std::string(where) + ": no value given for $" + std::string(name));
  return it->second;
}

// The data source type a target or variable queries: its own, else the panel's; empty when
// neither says (Grafana's default data source, taken to be Prometheus).
std::string datasource_type(const json::value& v, const json::value* fallback = nullptr) {
  if (const auto* ds = member(v, "datasource"); ds && ds->is_object()) return string_member(*ds, "type");
  if (fallback) return datasource_type(*fallback);
  return {};
}

bool is_prometheus(const std::string& type) { return type.empty() || type == "prometheus"; }

// The series a query variable asks for, as PromQL; nullopt for the forms that ask for none.
std::optional<std::string> variable_promql(std::string_view query) {
  query = trim(query);
  auto call = [&](std::string_view fn) -> std::optional<std::string_view> {
    if (!query.starts_with(fn) || query.size() < fn.size() + 2 || query[fn.size()] != '(' || query.back() != ')')
      return std::nullopt;
    return trim(query.substr(fn.size() + 1, query.size() - fn.size() - 2));
  };
  if (auto args = call("label_values")) {
    // label_values(selector, label): the selector is everything before the last top-level comma.
    int depth = 0;
    char quote = 0;
    std::size_t comma = std::string_view::npos;
    for (std::size_t i = 0; i < args->size(); ++i) {
      char c = (*args)[i];
      if (quote) {
        if (c == '\\') ++i;
        else if (c == quote) quote = 0;
      } else if (c == '"' || c == '\'' || c == '`') {
        quote = c;
      } else if (c == '(' || c == '{' || c == '[') {
        ++depth;
      } else if (c == ')' || c == '}' || c == ']') {
        --depth;
      } else if (c == ',' && depth == 0) {
        comma = i;
      }
    }
    if (comma == std::string_view::npos) return std::nullopt;
    return std::string(trim(args->substr(0, comma)));
  }
  if (auto args = call("query_result")) return std::string(*args);
  if (call("label_names") || call("metrics")) return std::nullopt;
  return std::string(query);  // a series selector, which Grafana asks /api/v1/series for
}

void panel_queries(const json::value& panel, const Variables& variables, std::vector<DashboardQuery>& out) {
  const std::string title = string_member(panel, "title");
  if (const auto* targets = member(panel, "targets"); targets && targets->is_array()) {
    for (const auto& t : targets->get_array()) {
      if (!is_prometheus(datasource_type(t, &panel))) continue;
      std::string where = "panel " + title + " / target " + string_member(t, "refId");
      const auto* expr = member(t, "expr");
      if (!expr || !expr->is_string() || trim(expr->get_string()).empty())
        throw std::runtime_error(where + ": no expr");
      std::string e = interpolate_grafana_variables(std::string(expr->get_string()), variables, where);
      out.push_back({std::move(where), std::move(e)});
    }
  }
  if (const auto* nested = member(panel, "panels"); nested && nested->is_array())
    for (const auto& p : nested->get_array()) panel_queries(p, variables, out);
}

}  // namespace

std::string interpolate_grafana_variables(std::string_view expr, const Variables& variables, std::string_view where) {
  std::string out;
  out.reserve(expr.size());
  for (std::size_t i = 0; i < expr.size();) {
    if (expr.substr(i, 2) == "[[") {
      if (auto end = expr.find("]]", i + 2); end != std::string_view::npos) {
        auto inner = expr.substr(i + 2, end - i - 2);
        if (auto name = inner.substr(0, inner.find(':')); is_name(name)) {
          out += value_of(name, variables, where);
          i = end + 2;
          continue;
        }
      }
    }
    if (expr[i] == '$' && i + 1 < expr.size()) {
      if (expr[i + 1] == '{') {
        if (auto end = expr.find('}', i + 2); end != std::string_view::npos) {
          auto inner = expr.substr(i + 2, end - i - 2);
          if (auto name = inner.substr(0, inner.find_first_of(":.")); is_name(name)) {
            out += value_of(name, variables, where);
            i = end + 1;
            continue;
          }
        }
      } else {
        std::size_t j = i + 1;
        while (j < expr.size() && (std::isalnum(static_cast<unsigned char>(expr[j])) || expr[j] == '_')) ++j;
        if (auto name = expr.substr(i + 1, j - i - 1); is_name(name)) {
          out += value_of(name, variables, where);
          i = j;
          continue;
        }
      }
    }
    out += expr[i++];
  }
  return out;
}

std::vector<DashboardQuery> dashboard_queries(const std::filesystem::path& dashboard_json, const Variables& variables) {
  const std::string text = read_file(dashboard_json);
  json::value dashboard;
  try {
    dashboard = json::parse(text);
  } catch (const std::exception& e) {  // Boost.JSON's system_error
    throw std::runtime_error(dashboard_json.string() + ": " + e.what());
  }
  std::vector<DashboardQuery> out;

  if (const auto* panels = member(dashboard, "panels"); panels && panels->is_array())
    for (const auto& p : panels->get_array()) panel_queries(p, variables, out);

  if (const auto* templating = member(dashboard, "templating")) {
    if (const auto* list = member(*templating, "list"); list && list->is_array()) {
      for (const auto& v : list->get_array()) {
        if (string_member(v, "type") != "query" || !is_prometheus(datasource_type(v))) continue;
        std::string where = "variable " + string_member(v, "name");
        const auto* q = member(v, "query");
        std::string query = q && q->is_string() ? std::string(q->get_string())
                            : q             ? string_member(*q, "query")
                                            : std::string();
        if (trim(query).empty()) throw std::runtime_error(where + ": no query");
        if (auto promql = variable_promql(query)) {
          std::string e = interpolate_grafana_variables(*promql, variables, where);
          out.push_back({std::move(where), std::move(e)});
        }
      }
    }
  }

  if (const auto* annotations = member(dashboard, "annotations")) {
    if (const auto* list = member(*annotations, "list"); list && list->is_array()) {
      for (const auto& a : list->get_array()) {
        const std::string type = datasource_type(a);
        if (!is_prometheus(type) || type.empty()) continue;  // built-in Grafana annotations have no PromQL
        std::string where = "annotation " + string_member(a, "name");
        std::string expr;
        if (const auto* target = member(a, "target")) expr = string_member(*target, "expr");
        if (expr.empty()) expr = string_member(a, "expr");  // before Grafana moved it into target
        if (trim(expr).empty()) throw std::runtime_error(where + ": no expr");
        std::string e = interpolate_grafana_variables(expr, variables, where);
        out.push_back({std::move(where), std::move(e)});
      }
    }
  }
  return out;
}

std::vector<DashboardQuery> grafana_alert_queries(const std::filesystem::path& alerting_yaml) {
  YAML::Node file;
  try {
    file = YAML::LoadFile(alerting_yaml.string());
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(alerting_yaml.string() + ": " + e.what());
  }
  std::vector<DashboardQuery> out;
  for (const auto& group : file["groups"]) {
    for (const auto& rule : group["rules"]) {
      const std::string title = rule["title"].as<std::string>("");
      for (const auto& query : rule["data"]) {
        if (query["datasourceUid"].as<std::string>("") == "__expr__") continue;
        std::string where = "alert " + title + " / query " + query["refId"].as<std::string>("");
        const std::string expr = query["model"]["expr"].as<std::string>("");
        if (trim(expr).empty()) throw std::runtime_error(alerting_yaml.string() + ": " + where + ": no model.expr");
        out.push_back({std::move(where), expr});
      }
    }
  }
  return out;
}

}  // namespace itest
