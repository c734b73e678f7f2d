#include "composewatch/prune/executor.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <chrono>

#include "composewatch/compose/drift.h"
#include "composewatch/log/log.h"

namespace composewatch::prune {

namespace asio = boost::asio;
using Result = Outcome::Result;

std::int64_t RunResult::reclaimed_bytes() const {
  std::int64_t n = 0;
  for (const auto& o : outcomes) n += o.reclaimed;
  return n;
}

std::size_t RunResult::count(Result r) const {
  std::size_t n = 0;
  for (const auto& o : outcomes) n += o.result == r;
  return n;
}

std::string query_escape(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += char(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

namespace {

double epoch_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A container as inspect reports it, in the shape the guard reads.
engine::ContainerSummary summary_of(const engine::ContainerInfo& info) {
  engine::ContainerSummary c;
  c.id = info.id;
  c.name = info.name;
  c.image = info.spec.image;
  c.image_id = info.image_id;
  c.state = info.state;
  c.labels = info.spec.labels;
  return c;
}

struct BuildPruneAnswer {
  std::vector<std::string> deleted;
  std::int64_t reclaimed = 0;
};

BuildPruneAnswer parse_build_prune(std::string_view body) {
  BuildPruneAnswer a;
  boost::json::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) throw engine::ParseError("POST /build/prune: not a JSON object");
  const auto& o = v.get_object();
  if (auto* d = o.if_contains("CachesDeleted"); d && d->is_array())
    for (const auto& id : d->get_array())
      if (id.is_string()) a.deleted.emplace_back(id.get_string());
  if (auto* r = o.if_contains("SpaceReclaimed"); r && (r->is_int64() || r->is_uint64()))
    a.reclaimed = r->is_int64() ? r->get_int64() : std::int64_t(r->get_uint64());
  return a;
}

void log_outcome(const config::PrunePolicyConfig& policy, const Outcome& o) {
  const auto fields = {log::Field("policy", policy.name),        log::Field("kind", kind_name(o.entry.kind)),
                       log::Field("id", o.entry.id.substr(0, 19)), log::Field("name", o.entry.name),
                       log::Field("size_bytes", o.entry.size),   log::Field("reason", o.detail)};
  switch (o.result) {
    case Result::deleted: log::write(log::Level::info, "pruned", fields); break;
    case Result::skipped: log::write(log::Level::info, "prune skipped an object", fields); break;
    case Result::failed: log::write(log::Level::warn, "prune could not delete an object", fields); break;
  }
}

class Executor {
 public:
  Executor(engine::Client& client, const config::PrunePolicyConfig& policy, const Inventory& fresh,
           const ComposeKnowledge& compose)
      : client_(client), guard_(fresh, compose, policy) {}

  // One candidate: re-inspect, guard again, delete. Returns the outcome.
  asio::awaitable<Outcome> apply(const Entry& e) {
    Outcome o{e, Result::skipped, "", 0};
    try {
      std::optional<std::string> protection;
      std::vector<std::string> targets;  // what to DELETE, in order
      switch (e.kind) {
        case Kind::images: {
          const auto img = engine::parse_image_inspect(co_await client_.get("/images/" + e.id + "/json"));
          protection = guard_.image(img);
          // Several tags: untag one by one (the last removes the image); deleting by id
          // would need force.
          if (img.repo_tags.size() > 1)
            for (const auto& t : img.repo_tags) targets.push_back("/images/" + t);
          else
            targets.push_back("/images/" + e.id);
          break;
        }
        case Kind::containers: {
          auto info = co_await client_.inspect(e.id);
          if (!info) throw engine::EngineError(engine::EngineError::Kind::http_status, "no such container", 404);
          protection = guard_.container(summary_of(*info));
          targets.push_back("/containers/" + e.id);
          break;
        }
        case Kind::volumes: {
          const auto v = engine::parse_volume(co_await client_.get("/volumes/" + e.id));
          protection = guard_.volume(v);
          targets.push_back("/volumes/" + e.id);
          break;
        }
        case Kind::networks: {
          const auto n = engine::parse_network(co_await client_.get("/networks/" + e.id));
          protection = guard_.network(n);
          targets.push_back("/networks/" + e.id);
          break;
        }
        case Kind::build_cache: {
          // Records cannot be inspected one by one; buildkit never prunes a record in use.
          const auto answer = parse_build_prune(
              co_await client_.post("/build/prune?filters=" + query_escape("{\"id\":[\"" + e.id + "\"]}")));
          if (std::find(answer.deleted.begin(), answer.deleted.end(), e.id) == answer.deleted.end()) {
            o.detail = "the engine kept it (another record still refers to it)";
          } else {
            o.result = Result::deleted;
            o.reclaimed = answer.reclaimed;
            o.detail = e.reason;
          }
          co_return o;
        }
      }
      if (protection) {
        o.detail = "protected since the plan: " + *protection;
        co_return o;
      }
      for (const auto& t : targets) co_await client_.del(t);
      o.result = Result::deleted;
      o.reclaimed = e.size;
      o.detail = e.reason;
    } catch (const engine::EngineError& err) {
      if (err.kind == engine::EngineError::Kind::http_status && err.http_status == 404) {
        o.detail = "already gone";
      } else if (err.kind == engine::EngineError::Kind::http_status && err.http_status == 409) {
        o.detail = std::string("the engine refused: ") + err.what();
      } else {
        o.result = Result::failed;
        o.detail = err.what();
      }
    } catch (const engine::ParseError& err) {
      o.result = Result::failed;
      o.detail = err.what();
    }
    co_return o;
  }

 private:
  engine::Client& client_;
  Guard guard_;
};

}  // namespace

asio::awaitable<RunResult> execute(engine::Client& client, const config::PrunePolicyConfig& policy,
                                   const PrunePlan& plan, const Inventory& planned, const ComposeKnowledge& compose) {
  RunResult result;
  if (plan.candidates.empty()) co_return result;
  // What uses what may have changed since the plan: list again before deleting anything.
  Inventory fresh = planned;
  fresh.df.containers = engine::parse_containers(co_await client.get("/containers/json?all=1"));
  if (plan.kind == Kind::networks) fresh.networks = engine::parse_networks(co_await client.get("/networks"));
  Executor executor(client, policy, fresh, compose);
  for (const auto& e : plan.candidates) {
    Outcome o = co_await executor.apply(e);
    log_outcome(policy, o);
    result.outcomes.push_back(std::move(o));
  }
  co_return result;
}

RunOptions RunOptions::for_endpoint(const engine::Endpoint& ep, bool dry_run) {
  RunOptions o;
  o.dry_run = dry_run;
  if (ep.kind != engine::Endpoint::Kind::unix_socket) o.statfs = nullptr;
  return o;
}

asio::awaitable<PolicyRun> run_policy(engine::Client& client, const config::PrunePolicyConfig& policy,
                                      const ComposeKnowledge& compose, const RunOptions& options) {
  PolicyRun run;
  run.dry_run = options.dry_run || policy.dry_run;
  const std::string root = engine::parse_docker_root_dir(co_await client.get("/info"));
  if (auto fs = options.statfs ? options.statfs(root) : std::nullopt) run.disk_free_percent = fs->free_percent();
  Inventory inv;
  inv.df = engine::parse_system_df(co_await client.get("/system/df"));
  if (target_kind(policy.target) == Kind::networks) inv.networks = engine::parse_networks(co_await client.get("/networks"));
  run.plan = make_plan(policy, inv, compose, epoch_now());

  if (!run.plan.refused.empty()) {
    run.not_applied = "refused: " + run.plan.refused;
  } else if (policy.disk_free_below_percent) {
    if (!run.disk_free_percent) {
      run.not_applied = "when.disk_free_below is set but the filesystem of " + root +
                        (options.statfs ? " cannot be read" : " is not on this machine (a remote engine)");
    } else if (*run.disk_free_percent >= *policy.disk_free_below_percent) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "disk free %.1f%% is not below %g%% (when.disk_free_below)",
                    *run.disk_free_percent, *policy.disk_free_below_percent);
      run.not_applied = buf;
    }
  }
  log::info(run.dry_run ? "prune planned (dry run)" : "prune planned",
            {{"policy", policy.name},
             {"kind", kind_name(run.plan.kind)},
             {"candidates", run.plan.candidates.size()},
             {"candidate_bytes", run.plan.candidate_bytes()},
             {"kept", run.plan.kept.size()},
             {"not_applied", run.not_applied}});
  for (const auto& e : run.plan.candidates)
    log::debug("prune candidate", {{"policy", policy.name}, {"kind", kind_name(e.kind)}, {"id", e.id.substr(0, 19)},
                                   {"name", e.name}, {"size_bytes", e.size}, {"reason", e.reason}});
  for (const auto& e : run.plan.kept)
    log::debug("prune keeps", {{"policy", policy.name}, {"kind", kind_name(e.kind)}, {"id", e.id.substr(0, 19)},
                               {"name", e.name}, {"reason", e.reason}});
  if (!run.applied()) co_return run;
  run.result = co_await execute(client, policy, run.plan, inv, compose);
  co_return run;
}

}  // namespace composewatch::prune
