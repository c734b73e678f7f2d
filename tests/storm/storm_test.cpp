// Zero event loss under a storm: containers are created, started, killed, OOM-killed,
// restarted (by hand and by policy) and removed through the engine API by several
// workers (bench/churn.py) while the agent runs; afterwards every counter of every storm
// container equals the ground truth that an independent `docker events` subscriber
// (JSON format, started before the storm) recorded.
//
// Size: COMPOSEWATCH_STORM_CONTAINERS (default 210, 30 of each lifecycle; the full-size
// run is 2,000, see docs/benchmarks.md), COMPOSEWATCH_STORM_PARALLEL workers (default 6).
// The agent's counters are read at every scrape during and after the storm and the
// highest value seen per series is compared: a container's series stays exported for
// the state retention (15 min) after its removal, so a storm longer than that is still
// compared in full, as long as a scrape falls within 15 min of each removal (every few
// seconds here).

#include <boost/json.hpp>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

#include "harness.h"

namespace itest {
namespace {

namespace fs = std::filesystem;

constexpr const char* kOomKills = "composewatch_container_oom_kills_total";
constexpr const char* kRestarts = "composewatch_container_restarts_total";
constexpr const char* kExits = "composewatch_container_exits_total";
constexpr const char* kEvents = "composewatch_events_total";

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

// The counters of one container name, as the contract defines them: oom events; starts
// that follow a die of the same name; dies by exit code.
struct Counts {
  std::uint64_t oom = 0, restarts = 0;
  std::map<int, std::uint64_t> exits;
  bool operator==(const Counts&) const = default;
};

std::string describe(const Counts& c) {
  std::ostringstream o;
  o << "oom=" << c.oom << " restarts=" << c.restarts << " exits={";
  for (const auto& [code, n] : c.exits) o << code << ":" << n << ",";
  o << "}";
  return o.str();
}

// One engine event as `docker events --format '{{json .}}'` prints it.
struct EngineEvent {
  std::int64_t time_nano = 0;
  std::string type, action, name, exit_code;
};

// What the subscriber recorded, up to its last complete line. Throws on a line that is
// not an event (the ground truth must be complete to be the truth).
std::vector<EngineEvent> read_events(const fs::path& file) {
  std::ifstream f(file, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  text.erase(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
  std::istringstream in(text);
  std::vector<EngineEvent> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(line, ec);
    if (ec || !v.is_object()) throw std::runtime_error("docker events: not a JSON event: " + line);
    const auto& o = v.as_object();
    EngineEvent e;
    e.time_nano = o.at("timeNano").to_number<std::int64_t>();
    e.type = std::string(o.at("Type").as_string());
    std::string action(o.at("Action").as_string());
    e.action = action.substr(0, action.find(':'));  // as the agent labels it
    if (const auto* actor = o.if_contains("Actor"); actor && actor->is_object())
      if (const auto* attrs = actor->as_object().if_contains("Attributes"); attrs && attrs->is_object()) {
        const auto& a = attrs->as_object();
        if (const auto* n = a.if_contains("name"); n && n->is_string()) e.name = std::string(n->as_string());
        if (const auto* x = a.if_contains("exitCode"); x && x->is_string()) e.exit_code = std::string(x->as_string());
      }
    out.push_back(std::move(e));
  }
  return out;
}

// Folds the recorded events of the storm's containers into per-name counts.
std::map<std::string, Counts> ground_truth(const std::vector<EngineEvent>& events, const std::string& prefix) {
  std::map<std::string, Counts> truth;
  std::map<std::string, bool> died_since_start;
  for (const EngineEvent& e : events) {
    if (e.type != "container" || !e.name.starts_with(prefix)) continue;
    Counts& c = truth[e.name];
    if (e.action == "oom") {
      ++c.oom;
    } else if (e.action == "die") {
      ++c.exits[std::stoi(e.exit_code)];
      died_since_start[e.name] = true;
    } else if (e.action == "start") {
      if (died_since_start[e.name]) ++c.restarts;
      died_since_start[e.name] = false;
    }
  }
  return truth;
}

// The highest value of every storm container's counter over all scrapes (counters only
// grow; a removed container's series stays for the retention, so the highest value is
// the last one).
class AgentCounts {
 public:
  explicit AgentCounts(std::string prefix) : prefix_(std::move(prefix)) {}

  void add(const Metrics& m) {
    ++scrapes_;
    // Exits by code, every reason summed within the scrape.
    std::map<std::string, std::map<int, std::uint64_t>> exits;
    for (const Sample& s : m.samples()) {
      auto c = s.labels.find("container");
      if (c == s.labels.end() || !c->second.starts_with(prefix_)) continue;
      auto v = static_cast<std::uint64_t>(s.value);
      Counts& counts = by_name_[c->second];
      if (s.name == kOomKills) {
        counts.oom = std::max(counts.oom, v);
      } else if (s.name == kRestarts) {
        counts.restarts = std::max(counts.restarts, v);
      } else if (s.name == kExits) {
        exits[c->second][std::stoi(s.labels.at("exit_code"))] += v;
      }
    }
    for (const auto& [name, by_code] : exits)
      for (const auto& [code, v] : by_code) {
        std::uint64_t& n = by_name_[name].exits[code];
        n = std::max(n, v);
      }
  }
  const std::map<std::string, Counts>& by_name() const { return by_name_; }
  int scrapes() const { return scrapes_; }

 private:
  std::string prefix_;
  std::map<std::string, Counts> by_name_;
  int scrapes_ = 0;
};

// Counts with zero entries removed, so that "never exported" and "exported at 0" compare equal.
Counts normalised(Counts c) {
  std::erase_if(c.exits, [](const auto& kv) { return kv.second == 0; });
  return c;
}

// Every name where the agent and the truth differ, as "name: agent … truth …" lines.
// `oom_lost`: names whose OOM kills the engine reported without their `oom` event, with
// the kills the driver made: the agent may count those from the inspect after the die
// (State.OOMKilled), up to that many, or not when a restart came first.
std::vector<std::string> mismatches(const std::map<std::string, Counts>& agent,
                                    const std::map<std::string, Counts>& truth,
                                    const std::map<std::string, std::uint64_t>& oom_lost = {}) {
  std::set<std::string> names;
  for (const auto& [n, _] : agent) names.insert(n);
  for (const auto& [n, _] : truth) names.insert(n);
  std::vector<std::string> out;
  for (const std::string& n : names) {
    auto a = agent.contains(n) ? normalised(agent.at(n)) : Counts{};
    auto t = truth.contains(n) ? normalised(truth.at(n)) : Counts{};
    if (auto lost = oom_lost.find(n); lost != oom_lost.end() && a.oom >= t.oom && a.oom <= lost->second) a.oom = t.oom;
    if (!(a == t)) out.push_back(n + ": agent " + describe(a) + ", engine " + describe(t));
  }
  return out;
}

std::map<std::string, double> events_by_key(const Metrics& m) {
  std::map<std::string, double> out;
  for (const Sample* s : m.find(kEvents)) out[s->labels.at("type") + "/" + s->labels.at("action")] += s->value;
  return out;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// An agent that logs at info: debug lines for thousands of containers would be most of its work.
AgentOptions storm_agent(const fs::path& state_dir) {
  AgentOptions o;
  o.state_dir = state_dir;
  o.log_level = "info";
  return o;
}

struct StormOptions {
  bool restart_agent_mid_storm = false;
};

void run_storm(const StormOptions& options) {
  const int containers = env_int("COMPOSEWATCH_STORM_CONTAINERS", 210);
  const int parallel = env_int("COMPOSEWATCH_STORM_PARALLEL", 6);
  Cleanup cleanup;
  const fs::path dir = make_temp_dir(cleanup, "storm");
  const std::string run = unique_name("storm");
  const std::string prefix = run + "-c";
  const std::string churn = quote((source_dir() / "bench/churn.py").string());
  cleanup.add([churn, run] { sh("python3 " + churn + " --run " + run + " cleanup", 300s); });

  // The ground truth: a live subscriber from now on (since= replays what it might miss
  // while it connects: the engine keeps the last 256 events).
  const fs::path events_file = dir / "events.jsonl";
  const std::string since = std::to_string(static_cast<long long>(now_seconds()) - 1);
  ServiceProcess subscriber("events", {"/bin/sh", "-c",
                                       "exec docker events --since " + since + " --format '{{json .}}' > " +
                                           quote(events_file.string())});

  const fs::path state_dir = dir / "state";
  fs::create_directories(state_dir);
  auto agent = std::make_unique<AgentProcess>(
      storm_agent(options.restart_agent_mid_storm ? state_dir : fs::path{}));
  ASSERT_TRUE(eventually([&] { return agent->get("/readyz").status == 200; }, 60s, "agent ready"));

  const double t0_start = now_seconds();
  const Metrics before = agent->scrape();
  const double t0_end = now_seconds();

  // The storm, in the background; the agent is scraped every 2 s meanwhile.
  const fs::path storm_out = dir / "storm.json";
  ServiceProcess storm("storm", {"/bin/sh", "-c",
                                 "exec python3 " + churn + " --run " + run + " storm --prefix " + prefix +
                                     " --project " + run + " --containers " + std::to_string(containers) +
                                     " --parallel " + std::to_string(parallel) + " > " +
                                     quote(storm_out.string())});
  AgentCounts seen(prefix);
  std::uint64_t peak_rss_kib = 0;
  auto sample_rss = [&] {
    std::ifstream st("/proc/" + std::to_string(agent->pid()) + "/status");
    std::string k;
    std::uint64_t v;
    while (st >> k)
      if (k == "VmRSS:" && st >> v) peak_rss_kib = std::max(peak_rss_kib, v);
  };
  bool restarted = false;
  double down_from = 0, down_to = 0;  // agent stopped .. restarted agent ready
  while (storm.running()) {
    std::this_thread::sleep_for(2s);
    if (options.restart_agent_mid_storm && !restarted) {
      // Halfway (by containers created), stop the agent, let the storm go on without it
      // for 2 s, then start it again on the same state directory. What the first agent
      // saw is not kept: only the restarted agent's counters are compared.
      const auto recorded = ground_truth(read_events(events_file), prefix).size();
      if (recorded >= static_cast<std::size_t>(containers) / 2) {
        down_from = now_seconds();
        ASSERT_EQ(agent->stop(), 0) << agent->log_tail();
        std::this_thread::sleep_for(2s);
        agent = std::make_unique<AgentProcess>(storm_agent(state_dir));
        ASSERT_TRUE(eventually([&] { return agent->get("/readyz").status == 200; }, 60s, "restarted agent ready"));
        down_to = now_seconds();
        seen = AgentCounts(prefix);
        restarted = true;
        continue;
      }
    }
    seen.add(agent->scrape());
    sample_rss();
  }
  ASSERT_EQ(storm.stop(), 0) << "the storm driver failed:\n" << storm.log_tail() << "\n"
                             << sh("head -c 3000 " + quote(storm_out.string())).out;
  if (options.restart_agent_mid_storm) {
    ASSERT_TRUE(restarted) << "the storm ended before the agent was restarted";
  }

  boost::json::object driver = boost::json::parse(sh("cat " + quote(storm_out.string())).out).as_object();
  const double storm_seconds = driver.at("seconds").to_number<double>();

  // The subscriber has the whole storm once every container's destroy is in.
  ASSERT_TRUE(eventually(
      [&] {
        std::size_t destroyed = 0;
        for (const EngineEvent& e : read_events(events_file))
          destroyed += e.type == "container" && e.action == "destroy" && e.name.starts_with(prefix);
        return destroyed == static_cast<std::size_t>(containers);
      },
      120s, "docker events recorded a destroy per storm container"));
  std::map<std::string, Counts> truth = ground_truth(read_events(events_file), prefix);
  if (options.restart_agent_mid_storm) {
    // The engine replays at most its last 256 events to a subscriber that resumes with
    // since=: more while the agent was down and no agent could count them all.
    std::size_t missed = 0;
    for (const EngineEvent& e : read_events(events_file))
      missed += e.time_nano >= down_from * 1e9 && e.time_nano <= down_to * 1e9;
    ASSERT_LT(missed, 256u) << "the engine emitted " << missed << " events while the agent was down, more than it "
                            << "keeps for a replay: run this variant with fewer workers";
  }

  // OOM kills the engine reported without an `oom` event (it loses some under load; the
  // driver knows which containers it OOM-killed).
  std::map<std::string, std::uint64_t> oom_lost;
  for (const auto& [name, exp] : driver.at("expected").as_object()) {
    const std::uint64_t kills = exp.at("oom").to_number<std::uint64_t>();
    const std::string n(name);
    const std::uint64_t events = truth.contains(n) ? truth.at(n).oom : 0;
    if (events < kills) oom_lost[n] = kills;
  }

  // The agent has caught up when its counts stop differing from the truth (or 60 s pass).
  Metrics after;
  double t1_start = 0, t1_end = 0;
  std::vector<std::string> diff;
  eventually(
      [&] {
        t1_start = now_seconds();
        after = agent->scrape();
        t1_end = now_seconds();
        seen.add(after);
        sample_rss();
        diff = mismatches(seen.by_name(), truth, oom_lost);
        return diff.empty();
      },
      60s, "agent counts equal the ground truth", {}, 500ms);
  std::this_thread::sleep_for(1s);
  subscriber.stop();

  // --- Per container name: OOM kills, restarts, exits by code.
  std::uint64_t oom_total = 0, restarts_total = 0, exits_total = 0;
  for (const auto& [_, c] : truth) {
    oom_total += c.oom;
    restarts_total += c.restarts;
    for (const auto& [code, n] : c.exits) exits_total += n;
  }
  EXPECT_EQ(truth.size(), static_cast<std::size_t>(containers)) << "containers in the ground truth";
  EXPECT_GT(oom_total, 0u);
  EXPECT_GT(restarts_total, 0u);
  std::ostringstream shown;
  for (std::size_t i = 0; i < diff.size() && i < 40; ++i) shown << "  " << diff[i] << "\n";
  EXPECT_TRUE(diff.empty()) << diff.size() << " of " << truth.size()
                            << " containers differ from the engine's events:\n"
                            << shown.str() << agent->log_tail(30);

  // The engine's events are what the driver asked for (a check of the ground truth
  // itself): the same restarts and exits; at least one oom event per OOM kill (the
  // engine may report one kill twice, and the contract counts oom events).
  std::vector<std::string> driver_diff;
  int doubled_oom = 0;
  for (const auto& [name, exp] : driver.at("expected").as_object()) {
    Counts c;
    c.oom = exp.at("oom").to_number<std::uint64_t>();
    c.restarts = exp.at("restarts").to_number<std::uint64_t>();
    for (const auto& [code, n] : exp.at("exits").as_object())
      c.exits[std::stoi(std::string(code))] = n.to_number<std::uint64_t>();
    const std::string n(name);
    Counts t = truth.contains(n) ? normalised(truth.at(n)) : Counts{};
    c = normalised(c);
    if (t.oom > c.oom && c.oom > 0) ++doubled_oom;
    // Fewer oom events than kills is the engine losing events (oom_lost above), not a
    // wrong ground truth for restarts and exits.
    if ((t.oom > c.oom && c.oom == 0) || t.restarts != c.restarts || t.exits != c.exits)
      driver_diff.push_back(n + ": driver " + describe(c) + ", engine " + describe(t));
  }
  EXPECT_TRUE(driver_diff.empty()) << driver_diff.size() << " containers where the engine's events differ from what "
                                   << "the driver did (first: " << (driver_diff.empty() ? "" : driver_diff[0]) << ")";

  // --- composewatch_events_total: the agent's increase between the two scrapes lies
  // between the events the engine emitted strictly inside the window and those in the
  // window widened by 2 s (other users of the shared engine emit events too, and an
  // event emitted just before a scrape may not be processed yet). Not across a restart.
  const std::vector<EngineEvent> all = read_events(events_file);
  std::map<std::string, std::uint64_t> ours;
  for (const EngineEvent& e : all)
    if (e.type == "container" && e.name.starts_with(prefix)) ++ours[e.type + "/" + e.action];
  std::uint64_t ours_total = 0;
  for (const auto& [_, n] : ours) ours_total += n;
  if (!options.restart_agent_mid_storm) {
    auto in = [&](double from, double to) {
      std::map<std::string, std::uint64_t> out;
      for (const EngineEvent& e : all)
        if (e.time_nano >= from * 1e9 && e.time_nano <= to * 1e9) ++out[e.type + "/" + e.action];
      return out;
    };
    const auto lower = in(t0_end, t1_start - 2), upper = in(t0_start - 2, t1_end);
    const auto b = events_by_key(before), a = events_by_key(after);
    std::set<std::string> keys;
    for (const auto& [k, _] : upper) keys.insert(k);
    for (const auto& [k, _] : a) keys.insert(k);
    for (const std::string& k : keys) {
      const double delta = (a.contains(k) ? a.at(k) : 0) - (b.contains(k) ? b.at(k) : 0);
      const double lo = lower.contains(k) ? lower.at(k) : 0, hi = upper.contains(k) ? upper.at(k) : 0;
      EXPECT_TRUE(delta >= lo && delta <= hi) << "composewatch_events_total{" << k << "} rose by " << delta
                                              << ", the engine emitted " << lo << " (strictly in the window) to " << hi
                                              << " (widened); of them the storm's: " << (ours.contains(k) ? ours.at(k) : 0);
    }
  }

  std::ostringstream report;
  report << "storm: " << containers << " containers, " << parallel << " workers, " << storm_seconds << " s, "
         << driver.at("api_calls").to_number<std::int64_t>() << " API calls, " << ours_total
         << " container events of the storm (" << ours_total / storm_seconds << " events/s); ground truth: "
         << oom_total << " oom kills, " << restarts_total << " restarts, " << exits_total << " exits; agent: "
         << seen.scrapes() << " scrapes, peak VmRSS " << peak_rss_kib / 1024.0 << " MiB; mismatches: " << diff.size()
         << "; OOM kills the engine reported with more than one oom event: " << doubled_oom
         << "; containers OOM-killed without their oom event: " << oom_lost.size() << " (the agent counted "
         << [&] {
              std::uint64_t n = 0;
              for (const auto& [name, kills] : oom_lost) {
                const auto by_name = seen.by_name();
                if (by_name.contains(name)) n += by_name.at(name).oom;
              }
              return n;
            }()
         << " of their kills from State.OOMKilled)";
  if (options.restart_agent_mid_storm) report << "; agent down " << down_to - down_from << " s mid-storm";
  report << "\n  events:";
  for (const auto& [k, n] : ours) report << " " << k << "=" << n;
  std::cout << report.str() << std::endl;
  testing::Test::RecordProperty("storm", report.str());
}

TEST(Storm, CountersEqualTheEnginesEvents) { run_storm({}); }

// Needs counters saved to --state.dir and the event stream resumed with since= the saved
// time: the restarted agent must count what happened before it stopped and while it was
// down, exactly once.
TEST(Storm, AgentRestartedMidStorm) { run_storm({.restart_agent_mid_storm = true}); }

}  // namespace
}  // namespace itest
