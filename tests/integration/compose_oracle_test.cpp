// `composewatch compose` against the real tool's `config` on every case of
// tests/fixtures/compose/oracle/: Debian's docker-compose v1 (suite ComposeOracle) and
// Compose v2 (suite ComposeOracleV2; the binary at COMPOSEWATCH_COMPOSE_V2, default the
// sid root's cli-plugins/docker-compose, which the engine-28 fixture provisions). Both run
// in the case's directory with a clean environment; both outputs are reduced to the same flat "service.field = value"
// form over the fields composewatch covers (of the environment, the keys only: composewatch
// never prints values), and compared with a readable diff.
//
// A case directory holds docker-compose.yml and optionally:
//   args         the command-line arguments, one per line (default: -f docker-compose.yml;
//                an empty file: none, the files come from COMPOSE_FILE or the defaults)
//   environment  KEY=VALUE lines given to both as the process environment
//   expect-error both must exit non-zero
//   oracle-versions  the oracles the case runs against, one a line (v1, v2); absent: both.
//                A case of v2-only syntax, or where v1 and v2 differ (composewatch
//                follows v2), names v2 only and says why in a comment line ("# ...").
//
// docker-compose v1 prints every service whatever the profiles, keeps memory and
// durations as written (or re-spelt: "1m30s" -> "90s"), re-escapes '$' as "$$", and
// sorts volumes by target when it merges; the normaliser below undoes all of that.
// Compose v2 prints only the active services, absolute paths, long-form volumes, memory
// as a quoted byte count, and `required: true` on every depends_on entry; the same
// normaliser reads both, and for v2 also compares what only v2 knows (depends_on
// required/restart, healthcheck start_interval, pids limit).

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
#include <optional>
#include <cstdlib>
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

enum class Oracle { v1, v2 };

std::string oracle_name(Oracle o) { return o == Oracle::v1 ? "v1" : "v2"; }

Facts facts_from_config(const std::string& yaml, const std::set<std::string>& profiles, Oracle oracle) {
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
      if (oracle == Oracle::v2)
        f[p + "healthcheck.start_interval_seconds"] =
            num(hc["start_interval"] ? seconds_of(hc["start_interval"].as<std::string>()) : 5);
    } else {
      f[p + "healthcheck"] = "null";
    }
    if (const YAML::Node deps = s["depends_on"]) {
      for (const auto& d : deps) {
        const std::string dp = p + "depends_on." + d.first.as<std::string>();
        f[dp] = str(d.second["condition"].as<std::string>());
        if (oracle == Oracle::v2) {
          f[dp + ".required"] = d.second["required"] ? d.second["required"].as<std::string>() : "true";
          f[dp + ".restart"] = d.second["restart"] ? d.second["restart"].as<std::string>() : "false";
        }
      }
    }
    if (oracle == Oracle::v2) {
      // deploy.resources.limits.pids wins over pids_limit, as for memory.
      std::string pids = s["pids_limit"] ? s["pids_limit"].as<std::string>() : "null";
      if (deploy && deploy["resources"] && deploy["resources"]["limits"] && deploy["resources"]["limits"]["pids"])
        pids = deploy["resources"]["limits"]["pids"].as<std::string>();
      f[p + "pids_limit"] = pids;
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

Facts facts_from_composewatch(const std::string& text, Oracle oracle) {
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
      if (oracle == Oracle::v2) f[p + "healthcheck.start_interval_seconds"] = json_num(hc.at("start_interval_seconds"));
    }
    for (const auto& d : s.at("depends_on").as_object()) {
      const std::string dp = p + "depends_on." + std::string(d.key());
      f[dp] = json::serialize(d.value().at("condition"));
      if (oracle == Oracle::v2) {
        f[dp + ".required"] = json::serialize(d.value().at("required"));
        f[dp + ".restart"] = json::serialize(d.value().at("restart"));
      }
    }
    if (oracle == Oracle::v2) f[p + "pids_limit"] = json::serialize(s.at("pids_limit"));
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

// The oracles a case runs against: its oracle-versions file, else both.
std::set<std::string> case_versions(const fs::path& dir) {
  if (!fs::exists(dir / "oracle-versions")) return {"v1", "v2"};
  std::set<std::string> out;
  for (const auto& line : read_lines(dir / "oracle-versions"))
    if (!line.starts_with("#")) out.insert(line);
  return out;
}

std::vector<std::string> case_names(std::optional<Oracle> oracle = std::nullopt) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(kCases)) {
    if (!e.is_directory()) continue;
    if (oracle && !case_versions(e.path()).contains(oracle_name(*oracle))) continue;
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The command that runs an oracle. Compose v2 runs standalone from the cli-plugins dir.
std::string oracle_binary(Oracle oracle) {
  if (oracle == Oracle::v1) return "docker-compose";
  if (const char* v2 = std::getenv("COMPOSEWATCH_COMPOSE_V2"); v2 && *v2) return v2;
  return "/var/tmp/cw-nested/sid/usr/libexec/docker/cli-plugins/docker-compose";
}

bool have_oracle(Oracle oracle) {
  return std::system((quote(oracle_binary(oracle)) + " version >/dev/null 2>&1").c_str()) == 0;
}

void check_case(const std::string& name, Oracle version) {
  // The oracles are part of the suite: a missing one is a failure, never a skip.
  if (version == Oracle::v1) {
    // scripts/packages.txt installs docker-compose v1.
    ASSERT_TRUE(have_oracle(version)) << "docker-compose (v1) is not installed; run scripts/dev.sh setup";
  } else {
    ASSERT_TRUE(have_oracle(version)) << "Compose v2 is not at " << oracle_binary(version)
                                      << " (set COMPOSEWATCH_COMPOSE_V2, or provision the sid root)";
  }
  const fs::path dir = kCases / name;
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
  std::vector<std::string> oracle = {oracle_binary(version)};
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
  const Facts theirs = facts_from_config(b.out, profiles, version);
  const Facts mine = facts_from_composewatch(a.out, version);
  ASSERT_FALSE(theirs.empty());
  const std::string d = diff(mine, theirs);
  EXPECT_TRUE(d.empty()) << name << " differs from " << oracle_name(version) << ":\n" << d;
}

std::string test_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string n = info.param;
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
}

class ComposeOracle : public ::testing::TestWithParam<std::string> {};

TEST_P(ComposeOracle, AgreesWithDockerComposeConfig) { check_case(GetParam(), Oracle::v1); }

INSTANTIATE_TEST_SUITE_P(Cases, ComposeOracle, ::testing::ValuesIn(case_names(Oracle::v1)), test_name);

// Its own suite so that it can carry the label whose fixture provisions Compose v2.
class ComposeOracleV2 : public ::testing::TestWithParam<std::string> {};

TEST_P(ComposeOracleV2, AgreesWithComposeV2Config) { check_case(GetParam(), Oracle::v2); }

INSTANTIATE_TEST_SUITE_P(Cases, ComposeOracleV2, ::testing::ValuesIn(case_names(Oracle::v2)), test_name);

TEST(ComposeOracleSelf, CorpusIsLargeEnough) {
  EXPECT_GE(case_names(Oracle::v1).size(), 30u);
  EXPECT_GE(case_names(Oracle::v2).size(), 30u);
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
  const Facts v1 = facts_from_config(R"(services:
  s:
    image: a
    scale: 2
    mem_limit: 1g
    healthcheck: {test: "echo $$X", interval: 90s}
    volumes: [data:/data, /h:/c:ro]
)", {}, Oracle::v1);
  const Facts cw = facts_from_composewatch(R"({"project": "p", "services": {"s": {
    "image": "a", "replicas": 2, "restart": "no", "memory_limit_bytes": 1073741824,
    "memory_reservation_bytes": null,
    "healthcheck": {"test": ["CMD-SHELL", "echo $X"], "interval_seconds": 90, "timeout_seconds": 30,
                    "retries": 3, "start_period_seconds": 0, "disabled": false},
    "depends_on": {}, "volumes": [{"type": "bind", "source": "/h", "target": "/c"},
                                  {"type": "volume", "source": "data", "target": "/data"}],
    "profiles": [], "environment_keys": []}}, "volumes": {}})", Oracle::v1);
  EXPECT_EQ(diff(cw, v1), "");
}

// v2's spelling of the same kind of facts: quoted byte counts, long-form volumes with
// absolute sources, `required` on depends_on, start_interval and pids.
TEST(ComposeOracleSelf, NormalisersReadV2Spelling) {
  const Facts v2 = facts_from_config(R"(name: p
services:
  s:
    image: a
    mem_limit: "1073741824"
    pids_limit: 50
    deploy: {resources: {limits: {pids: 100}}}
    healthcheck: {test: [CMD-SHELL, "echo $$X"], interval: 1m30s, start_interval: 2s}
    depends_on: {d: {condition: service_healthy, required: false, restart: true}}
    volumes:
      - {type: bind, source: /h, target: /c, read_only: true, bind: {create_host_path: true}}
)", {}, Oracle::v2);
  const Facts cw = facts_from_composewatch(R"({"project": "p", "services": {"s": {
    "image": "a", "replicas": 1, "restart": "no", "memory_limit_bytes": 1073741824,
    "memory_reservation_bytes": null, "pids_limit": 100,
    "healthcheck": {"test": ["CMD-SHELL", "echo $X"], "interval_seconds": 90, "timeout_seconds": 30,
                    "retries": 3, "start_period_seconds": 0, "start_interval_seconds": 2, "disabled": false},
    "depends_on": {"d": {"condition": "service_healthy", "required": false, "restart": true}},
    "volumes": [{"type": "bind", "source": "/h", "target": "/c"}],
    "profiles": [], "environment_keys": []}}, "volumes": {}})", Oracle::v2);
  EXPECT_EQ(diff(cw, v2), "");
}

}  // namespace
