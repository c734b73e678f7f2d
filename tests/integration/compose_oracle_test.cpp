// `composewatch compose` against Debian's docker-compose v1 (`docker-compose config`) on
// every case of tests/fixtures/compose/oracle/. Both run in the case's directory with a
// clean environment; both outputs are reduced to the same flat "service.field = value"
// form over the fields composewatch covers (of the environment, the keys only: composewatch
// never prints values), and compared with a readable diff.
//
// A case directory holds docker-compose.yml and optionally:
//   args         the command-line arguments, one per line (default: -f docker-compose.yml;
//                an empty file: none, the files come from COMPOSE_FILE or the defaults)
//   environment  KEY=VALUE lines given to both as the process environment
//   expect-error both must exit non-zero
//
// docker-compose v1 prints every service whatever the profiles, keeps memory and
// durations as written (or re-spelt: "1m30s" -> "90s"), re-escapes '$' as "$$", and
// sorts volumes by target when it merges; the normaliser below undoes all of that.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <yaml-cpp/yaml.h>

#include <boost/json.hpp>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

using Facts = std::map<std::string, std::string>;  // "web.image" -> "\"nginx\""

const fs::path kCases = fs::path(COMPOSEWATCH_FIXTURES) / "compose" / "oracle";

struct Outcome {
  int code = -1;
  std::string out;
  std::string err;
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::vector<std::string> read_lines(const fs::path& p) {
  std::vector<std::string> lines;
  std::ifstream in(p);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// Runs `argv` in `dir` with only PATH and `env` set; stdout captured, stderr to a file.
Outcome run_in(const fs::path& dir, const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  const fs::path err_file = fs::temp_directory_path() / ("cw-oracle-" + std::to_string(::getpid()) + ".err");
  std::string cmd = "cd " + quote(dir.string()) + " && env -i PATH=/usr/local/bin:/usr/bin:/bin";
  for (const auto& e : env) cmd += " " + quote(e);
  for (const auto& a : argv) cmd += " " + quote(a);
  cmd += " 2>" + quote(err_file.string());
  Outcome r;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(err_file);
  r.err.assign(std::istreambuf_iterator<char>(in), {});
  fs::remove(err_file);
  return r;
}

// ---- the oracle's own readers, independent of the loader's ----

std::int64_t bytes_of(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  std::size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  const long double n = std::stold(s.substr(0, i));
  const std::string unit = s.substr(i);
  const std::map<std::string, long double> units = {{"", 1},        {"b", 1},        {"k", 1024},
                                                    {"kb", 1024},   {"m", 1 << 20},  {"mb", 1 << 20},
                                                    {"g", 1 << 30}, {"gb", 1 << 30}};
  return static_cast<std::int64_t>(n * units.at(unit));
}

double seconds_of(const std::string& s) {
  double total = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t j = i;
    while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '.')) ++j;
    const double n = std::stod(s.substr(i, j - i));
    std::size_t k = j;
    while (k < s.size() && std::isalpha(static_cast<unsigned char>(s[k]))) ++k;
    const std::string unit = s.substr(j, k - j);
    const std::map<std::string, double> units = {{"h", 3600}, {"m", 60}, {"s", 1}, {"ms", 1e-3}, {"us", 1e-6}};
    total += n * units.at(unit);
    i = k;
  }
  return total;
}

std::string num(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

std::string str(const std::string& s) { return json::serialize(json::value(s)); }

std::string unescape_dollars(std::string s) {
  for (auto pos = s.find("$$"); pos != std::string::npos; pos = s.find("$$", pos + 1)) s.erase(pos, 1);
  return s;
}

std::string list_json(const std::vector<std::string>& items) {
  json::array a;
  for (const auto& i : items) a.emplace_back(i);
  return json::serialize(a);
}

// ---- docker-compose config (YAML) -> facts ----

struct Mount {
  std::string type, source, target;
  bool operator<(const Mount& o) const { return target < o.target; }
};

Mount mount_of(const YAML::Node& v) {
  if (v.IsMap()) {
    return {v["type"] ? v["type"].as<std::string>() : "volume", v["source"] ? v["source"].as<std::string>() : "",
            v["target"].as<std::string>()};
  }
  std::vector<std::string> parts;
  std::stringstream ss(v.as<std::string>());
  for (std::string p; std::getline(ss, p, ':');) parts.push_back(p);
  if (parts.size() == 1) return {"volume", "", parts[0]};
  const bool host = parts[0].starts_with("/") || parts[0].starts_with(".");
  return {host ? "bind" : "volume", parts[0], parts[1]};
}

std::string mounts_json(std::vector<Mount> mounts) {
  std::sort(mounts.begin(), mounts.end());
  json::array a;
  for (const auto& m : mounts) a.push_back(json::object{{"type", m.type}, {"source", m.source}, {"target", m.target}});
  return json::serialize(a);
}

Facts facts_from_v1(const std::string& yaml, const std::set<std::string>& profiles) {
  Facts f;
  const YAML::Node root = YAML::Load(yaml);
  for (const auto& kv : root["services"]) {
    const std::string name = kv.first.as<std::string>();
    const YAML::Node s = kv.second;
    std::vector<std::string> own_profiles;
    if (s["profiles"]) own_profiles = s["profiles"].as<std::vector<std::string>>();
    std::sort(own_profiles.begin(), own_profiles.end());
    const bool active = own_profiles.empty() || std::any_of(own_profiles.begin(), own_profiles.end(),
                                                            [&](const auto& p) { return profiles.contains(p); });
    if (!active) continue;
    const std::string p = name + ".";
    f[p + "image"] = str(s["image"] ? unescape_dollars(s["image"].as<std::string>()) : "");
    const YAML::Node deploy = s["deploy"];
    int replicas = 1;
    if (deploy && deploy["replicas"]) {
      replicas = deploy["replicas"].as<int>();
    } else if (s["scale"]) {
      replicas = s["scale"].as<int>();
    }
    f[p + "replicas"] = std::to_string(replicas);
    std::string restart = "no";
    if (s["restart"]) {
      restart = s["restart"].as<std::string>();
    } else if (deploy && deploy["restart_policy"] && deploy["restart_policy"]["condition"]) {
      const auto c = deploy["restart_policy"]["condition"].as<std::string>();
      const auto max = deploy["restart_policy"]["max_attempts"];
      restart = c == "any" ? "always" : c == "none" ? "no" : max ? "on-failure:" + max.as<std::string>() : c;
    }
    f[p + "restart"] = str(restart);
    const auto memory = [&](const char* legacy, const char* kind) -> std::string {
      std::optional<std::int64_t> v;
      if (s[legacy]) v = bytes_of(s[legacy].as<std::string>());
      if (deploy && deploy["resources"] && deploy["resources"][kind] && deploy["resources"][kind]["memory"]) {
        const auto d = bytes_of(deploy["resources"][kind]["memory"].as<std::string>());
        if (d != 0) v = d;
      }
      return v ? std::to_string(*v) : "null";
    };
    f[p + "memory_limit_bytes"] = memory("mem_limit", "limits");
    f[p + "memory_reservation_bytes"] = memory("mem_reservation", "reservations");
    if (const YAML::Node hc = s["healthcheck"]) {
      std::vector<std::string> test;
      if (hc["test"] && hc["test"].IsScalar()) {
        test = {"CMD-SHELL", hc["test"].as<std::string>()};
      } else if (hc["test"]) {
        test = hc["test"].as<std::vector<std::string>>();
      }
      if (hc["disable"] && hc["disable"].as<bool>()) test = {"NONE"};
      for (auto& t : test) t = unescape_dollars(t);
      f[p + "healthcheck.test"] = list_json(test);
      f[p + "healthcheck.interval_seconds"] = num(hc["interval"] ? seconds_of(hc["interval"].as<std::string>()) : 30);
      f[p + "healthcheck.timeout_seconds"] = num(hc["timeout"] ? seconds_of(hc["timeout"].as<std::string>()) : 30);
      f[p + "healthcheck.retries"] = hc["retries"] ? hc["retries"].as<std::string>() : "3";
      f[p + "healthcheck.start_period_seconds"] =
          num(hc["start_period"] ? seconds_of(hc["start_period"].as<std::string>()) : 0);
      f[p + "healthcheck.disabled"] = !test.empty() && test[0] == "NONE" ? "true" : "false";
    } else {
      f[p + "healthcheck"] = "null";
    }
    if (const YAML::Node deps = s["depends_on"]) {
      for (const auto& d : deps) {
        f[p + "depends_on." + d.first.as<std::string>()] = str(d.second["condition"].as<std::string>());
      }
    }
    std::vector<Mount> mounts;
    if (const YAML::Node vols = s["volumes"]) {
      for (const auto& v : vols) mounts.push_back(mount_of(v));
    }
    f[p + "volumes"] = mounts_json(mounts);
    f[p + "profiles"] = list_json(own_profiles);
    // Names only: composewatch never prints environment values.
    std::vector<std::string> env_keys;
    if (const YAML::Node env = s["environment"]) {
      for (const auto& e : env) env_keys.push_back(e.first.as<std::string>());
    }
    std::sort(env_keys.begin(), env_keys.end());
    f[p + "environment_keys"] = list_json(env_keys);
  }
  return f;
}

// ---- composewatch compose (JSON) -> facts ----

std::string json_num(const json::value& v) {
  if (v.is_int64()) return num(static_cast<double>(v.as_int64()));
  if (v.is_uint64()) return num(static_cast<double>(v.as_uint64()));
  return num(v.as_double());
}

Facts facts_from_composewatch(const std::string& text) {
  Facts f;
  const json::object root = json::parse(text).as_object();
  for (const auto& kv : root.at("services").as_object()) {
    const std::string p = std::string(kv.key()) + ".";
    const json::object& s = kv.value().as_object();
    f[p + "image"] = json::serialize(s.at("image"));
    f[p + "replicas"] = json::serialize(s.at("replicas"));
    f[p + "restart"] = json::serialize(s.at("restart"));
    f[p + "memory_limit_bytes"] = json::serialize(s.at("memory_limit_bytes"));
    f[p + "memory_reservation_bytes"] = json::serialize(s.at("memory_reservation_bytes"));
    if (s.at("healthcheck").is_null()) {
      f[p + "healthcheck"] = "null";
    } else {
      const json::object& hc = s.at("healthcheck").as_object();
      f[p + "healthcheck.test"] = json::serialize(hc.at("test"));
      f[p + "healthcheck.interval_seconds"] = json_num(hc.at("interval_seconds"));
      f[p + "healthcheck.timeout_seconds"] = json_num(hc.at("timeout_seconds"));
      f[p + "healthcheck.retries"] = json::serialize(hc.at("retries"));
      f[p + "healthcheck.start_period_seconds"] = json_num(hc.at("start_period_seconds"));
      f[p + "healthcheck.disabled"] = json::serialize(hc.at("disabled"));
    }
    for (const auto& d : s.at("depends_on").as_object()) {
      f[p + "depends_on." + std::string(d.key())] = json::serialize(d.value().at("condition"));
    }
    std::vector<Mount> mounts;
    for (const auto& v : s.at("volumes").as_array()) {
      mounts.push_back({std::string(v.at("type").as_string()), std::string(v.at("source").as_string()),
                        std::string(v.at("target").as_string())});
    }
    f[p + "volumes"] = mounts_json(mounts);
    std::vector<std::string> profiles;
    for (const auto& pr : s.at("profiles").as_array()) profiles.emplace_back(pr.as_string());
    std::sort(profiles.begin(), profiles.end());
    f[p + "profiles"] = list_json(profiles);
    std::vector<std::string> env_keys;
    for (const auto& k : s.at("environment_keys").as_array()) env_keys.emplace_back(k.as_string());
    f[p + "environment_keys"] = list_json(env_keys);
  }
  return f;
}

// "" when equal, else one line per differing fact.
std::string diff(const Facts& ours, const Facts& oracle) {
  std::string out;
  std::set<std::string> keys;
  for (const auto& [k, v] : ours) keys.insert(k);
  for (const auto& [k, v] : oracle) keys.insert(k);
  for (const auto& k : keys) {
    const auto a = ours.find(k);
    const auto b = oracle.find(k);
    const std::string av = a == ours.end() ? "(absent)" : a->second;
    const std::string bv = b == oracle.end() ? "(absent)" : b->second;
    if (av != bv) out += "  " + k + ":\n    composewatch:   " + av + "\n    docker-compose: " + bv + "\n";
  }
  return out;
}

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(kCases)) {
    if (e.is_directory()) names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool have_docker_compose() { return std::system("docker-compose version >/dev/null 2>&1") == 0; }

class ComposeOracle : public ::testing::TestWithParam<std::string> {};

TEST_P(ComposeOracle, AgreesWithDockerComposeConfig) {
  // The oracle is part of the suite: scripts/packages.txt installs docker-compose.
  ASSERT_TRUE(have_docker_compose()) << "docker-compose (v1) is not installed; run scripts/dev.sh setup";
  const fs::path dir = kCases / GetParam();
  std::vector<std::string> args = {"-f", "docker-compose.yml"};
  if (fs::exists(dir / "args")) args = read_lines(dir / "args");
  const std::vector<std::string> env = read_lines(dir / "environment");
  const bool expect_error = fs::exists(dir / "expect-error");

  std::set<std::string> profiles;
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--profile") profiles.insert(args[i + 1]);
  }
  // COMPOSE_PROFILES from the environment, else from the case's .env (as Compose reads it).
  std::vector<std::string> profile_sources = env;
  if (std::none_of(env.begin(), env.end(), [](const auto& e) { return e.starts_with("COMPOSE_PROFILES="); }))
    profile_sources = read_lines(dir / ".env");
  for (const auto& e : profile_sources) {
    if (e.starts_with("COMPOSE_PROFILES=")) {
      std::stringstream ss(e.substr(17));
      for (std::string p; std::getline(ss, p, ',');) profiles.insert(p);
    }
  }

  std::vector<std::string> ours = {COMPOSEWATCH_BIN, "compose"};
  ours.insert(ours.end(), args.begin(), args.end());
  std::vector<std::string> oracle = {"docker-compose"};
  oracle.insert(oracle.end(), args.begin(), args.end());
  oracle.emplace_back("config");

  const Outcome a = run_in(dir, ours, env);
  const Outcome b = run_in(dir, oracle, env);
  if (expect_error) {
    EXPECT_NE(a.code, 0) << "composewatch accepted an invalid case:\n" << a.out;
    EXPECT_EQ(a.code, 2);
    EXPECT_EQ(std::count(a.err.begin(), a.err.end(), '\n'), 1) << a.err;
    EXPECT_NE(a.err.find("docker-compose.yml:"), std::string::npos) << a.err;
    EXPECT_NE(b.code, 0) << "docker-compose accepted it: the case does not test what it says";
    return;
  }
  ASSERT_EQ(b.code, 0) << "docker-compose failed: " << b.err;
  ASSERT_EQ(a.code, 0) << "composewatch failed: " << a.err;
  const Facts theirs = facts_from_v1(b.out, profiles);
  const Facts mine = facts_from_composewatch(a.out);
  ASSERT_FALSE(theirs.empty());
  const std::string d = diff(mine, theirs);
  EXPECT_TRUE(d.empty()) << GetParam() << " differs:\n" << d;
}

INSTANTIATE_TEST_SUITE_P(Cases, ComposeOracle, ::testing::ValuesIn(case_names()),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

TEST(ComposeOracleSelf, CorpusIsLargeEnough) {
  EXPECT_GE(case_names().size(), 30u);
}

// The comparison can fail: a one-field difference is reported with both values.
TEST(ComposeOracleSelf, DiffReportsEveryDifference) {
  const Facts a = {{"web.image", "\"nginx:1\""}, {"web.replicas", "2"}};
  const Facts b = {{"web.image", "\"nginx:2\""}, {"web.replicas", "2"}, {"db.image", "\"pg\""}};
  const std::string d = diff(a, b);
  EXPECT_NE(d.find("web.image:\n    composewatch:   \"nginx:1\"\n    docker-compose: \"nginx:2\""), std::string::npos) << d;
  EXPECT_NE(d.find("db.image"), std::string::npos);
  EXPECT_EQ(d.find("web.replicas"), std::string::npos);
  EXPECT_EQ(diff(a, a), "");
}

// And the normalisers agree on the same facts written both ways.
TEST(ComposeOracleSelf, NormalisersReadBothSpellings) {
  const Facts v1 = facts_from_v1(R"(services:
  s:
    image: a
    scale: 2
    mem_limit: 1g
    healthcheck: {test: "echo $$X", interval: 90s}
    volumes: [data:/data, /h:/c:ro]
)", {});
  const Facts cw = facts_from_composewatch(R"({"project": "p", "services": {"s": {
    "image": "a", "replicas": 2, "restart": "no", "memory_limit_bytes": 1073741824,
    "memory_reservation_bytes": null,
    "healthcheck": {"test": ["CMD-SHELL", "echo $X"], "interval_seconds": 90, "timeout_seconds": 30,
                    "retries": 3, "start_period_seconds": 0, "disabled": false},
    "depends_on": {}, "volumes": [{"type": "bind", "source": "/h", "target": "/c"},
                                  {"type": "volume", "source": "data", "target": "/data"}],
    "profiles": [], "environment_keys": []}}, "volumes": {}})");
  EXPECT_EQ(diff(cw, v1), "");
}

}  // namespace
