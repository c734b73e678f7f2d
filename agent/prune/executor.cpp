#include "composewatch/prune/executor.h"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <algorithm>
#include <chrono>

#include "composewatch/compose/drift.h"
#include "composewatch/docker/info.h"
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

bool is_status(const engine::EngineError& e, unsigned status) {
  return e.kind == engine::EngineError::Kind::http_status && e.http_status == status;
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

// Why an image's deletion stopped short; the tags already removed are put back first.
struct ImageKept {
  std::string why;
  bool failed = false;  // the engine failed (not a refusal, not a moved tag)
};

class Executor {
 public:
  Executor(engine::Client& client, const config::PrunePolicyConfig& policy, const Inventory& fresh,
           const ComposeKnowledge& compose)
      : client_(client), policy_(policy), guard_(fresh, compose, policy) {}

  // One candidate: re-inspect, guard again, delete. Returns the outcome.
  asio::awaitable<Outcome> apply(const Entry& e) {
    Outcome o{e, Result::skipped, "", 0};
    try {
      // Every kind's id, the build cache's too (which goes into a filter, not a path): an id
      // that is not one is not acted on.
      engine::path_segment(e.id);
      switch (e.kind) {
        case Kind::images: {
          const auto img = docker::parse_image_inspect(co_await client_.get(engine::image_path(e.id, "/json")));
          if (auto why = guard_.image(img)) {
            o.detail = "protected since the plan: " + *why;
            co_return o;
          }
          if (auto kept = co_await delete_image(img)) {
            if (kept->failed) o.result = Result::failed;
            o.detail = std::move(kept->why);
            co_return o;
          }
          break;
        }
        case Kind::containers: {
          auto info = co_await client_.inspect(e.id);
          if (!info) throw engine::EngineError(engine::EngineError::Kind::http_status, "no such container", 404);
          if (auto why = guard_.container(*info)) {
            o.detail = "protected since the plan: " + *why;
            co_return o;
          }
          co_await client_.del(engine::container_path(e.id));
          break;
        }
        case Kind::volumes: {
          const auto v = docker::parse_volume(co_await client_.get(engine::volume_path(e.id)));
          if (auto why = guard_.volume(v)) {
            o.detail = "protected since the plan: " + *why;
            co_return o;
          }
          co_await client_.del(engine::volume_path(e.id));
          break;
        }
        case Kind::networks: {
          const auto n = docker::parse_network(co_await client_.get(engine::network_path(e.id)));
          if (auto why = guard_.network(n)) {
            o.detail = "protected since the plan: " + *why;
            co_return o;
          }
          co_await client_.del(engine::network_path(e.id));
          break;
        }
        case Kind::build_cache: {
          // Records cannot be inspected one by one; buildkit never prunes a record in use.
          // The id goes into the filter as a JSON string, escaped by the serializer.
          const std::string filter = boost::json::serialize(boost::json::object{{"id", boost::json::array{e.id}}});
          const auto answer =
              docker::parse_build_prune(co_await client_.post("/build/prune?filters=" + query_escape(filter)));
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
      o.result = Result::deleted;
      o.reclaimed = e.size;
      o.detail = e.reason;
    } catch (const engine::EngineError& err) {
      if (is_status(err, 404)) {
        o.detail = "already gone";
      } else if (is_status(err, 409)) {
        o.detail = std::string("the engine refused: ") + err.what();
      } else {
        o.result = Result::failed;
        o.detail = err.what();
      }
    } catch (const docker::ParseError& err) {
      o.result = Result::failed;
      o.detail = err.what();
    }
    co_return o;
  }

 private:
  // Untags all tags but one by name, each checked right before, then deletes by id (the
  // engine then removes the last tag and the digests with it, and refuses when a tag was
  // added meanwhile). nullopt when deleted; else why not, with every removed tag back.
  asio::awaitable<std::optional<ImageKept>> delete_image(const docker::ImageSummary& img) {
    for (const auto& t : img.repo_tags) engine::path_segment(t, true);  // all or none: before the first untag
    std::vector<std::string> removed;
    std::optional<ImageKept> kept;
    try {
      for (std::size_t i = 0; i + 1 < img.repo_tags.size() && !kept; ++i) {
        const std::string& tag = img.repo_tags[i];
        std::optional<docker::ImageSummary> now;
        try {
          now = docker::parse_image_inspect(co_await client_.get(engine::image_path(tag, "/json")));
        } catch (const engine::EngineError& e) {
          if (!is_status(e, 404)) throw;  // gone: nothing to untag
        }
        if (!now) continue;
        if (now->id != img.id) {
          kept = ImageKept{"tag " + tag + " now names another image (" + now->id.substr(0, 19) +
                           "): pulled or built since the plan"};
          break;
        }
        co_await client_.del(engine::image_path(tag));
        removed.push_back(tag);
      }
      if (!kept) co_await client_.del(engine::image_path(img.id));
    } catch (const engine::EngineError& e) {
      if (removed.empty()) throw;
      const bool refused = is_status(e, 409) || is_status(e, 404);
      kept = ImageKept{std::string(refused ? "the engine refused: " : "") + e.what(), !refused};
    }
    if (kept) co_await restore_tags(img, removed);
    co_return kept;
  }

  // Puts back the tags this run removed, unless a tag names another image by now.
  asio::awaitable<void> restore_tags(const docker::ImageSummary& img, const std::vector<std::string>& tags) {
    for (const auto& tag : tags) {
      const auto colon = tag.rfind(':');
      const std::string repo = tag.substr(0, colon), name = tag.substr(colon + 1);
      try {
        try {
          co_await client_.get(engine::image_path(tag, "/json"));
          log::warn("prune could not put back a tag: it names another image now",
                    {{"policy", policy_.name}, {"id", img.id.substr(0, 19)}, {"tag", tag}});
          continue;
        } catch (const engine::EngineError& e) {
          if (!is_status(e, 404)) throw;
        }
        co_await client_.post(engine::image_path(img.id, "/tag?repo=") + query_escape(repo) + "&tag=" + query_escape(name));
        log::info("prune put a tag back", {{"policy", policy_.name}, {"id", img.id.substr(0, 19)}, {"tag", tag}});
      } catch (const std::exception& e) {
        log::warn("prune could not put back a tag",
                  {{"policy", policy_.name}, {"id", img.id.substr(0, 19)}, {"tag", tag}, {"error", e.what()}});
      }
    }
  }

  engine::Client& client_;
  const config::PrunePolicyConfig& policy_;
  Guard guard_;
};

}  // namespace

asio::awaitable<RunResult> execute(engine::Client& client, const config::PrunePolicyConfig& policy,
                                   const PrunePlan& plan, const Inventory& planned, const ComposeKnowledge& compose,
                                   const StopRequest* stop) {
  RunResult result;
  if (plan.candidates.empty()) co_return result;
  // What uses what may have changed since the plan: list again before deleting anything.
  Inventory fresh = planned;
  fresh.df.containers = docker::parse_containers(co_await client.get("/containers/json?all=1"));
  if (plan.kind == Kind::networks) fresh.networks = docker::parse_networks(co_await client.get("/networks"));
  Executor executor(client, policy, fresh, compose);
  for (const auto& e : plan.candidates) {
    if (stop && stop->requested) {
      result.not_attempted = plan.candidates.size() - result.outcomes.size();
      log::warn("prune stopped: the agent is stopping",
                {{"policy", policy.name}, {"done", result.outcomes.size()}, {"not_attempted", result.not_attempted}});
      break;
    }
    Outcome o = co_await executor.apply(e);
    log_outcome(policy, o);
    result.outcomes.push_back(std::move(o));
  }
  co_return result;
}

// For the grace period: when each image the guard would let go was last tagged, when each
// such stopped container finished. Neither is in /system/df.
asio::awaitable<void> read_ages(engine::Client& client, Inventory& inv, const ComposeKnowledge& compose,
                                const config::PrunePolicyConfig& policy, Kind kind) {
  const Guard guard(inv, compose, policy);
  if (kind == Kind::images) {
    for (auto& img : inv.df.images) {
      if ((policy.images == "dangling" && !img.dangling()) || guard.image(img) || !engine::path_safe(img.id)) continue;
      try {
        img.last_tag_time = docker::parse_image_inspect(co_await client.get(engine::image_path(img.id, "/json"))).last_tag_time;
      } catch (const engine::EngineError& e) {
        if (!is_status(e, 404)) throw;  // gone since the listing: the executor will see
      }
    }
  } else if (kind == Kind::containers) {
    for (auto& c : inv.df.containers) {
      if (c.state == "running" || c.state == "paused" || c.state == "restarting" || guard.container(c) ||
          !engine::path_safe(c.id))
        continue;
      if (auto info = co_await client.inspect(c.id)) c.finished_at = info->finished_at;
    }
  }
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
  const std::string root = docker::parse_docker_root_dir(co_await client.get("/info"));
  if (auto fs = options.statfs ? options.statfs(root) : std::nullopt) run.disk_free_percent = fs->free_percent();
  Inventory inv;
  inv.df = docker::parse_system_df(co_await client.get("/system/df"));
  inv.image_last_seen = options.image_last_seen;
  const Kind kind = target_kind(policy.target);
  if (kind == Kind::networks) inv.networks = docker::parse_networks(co_await client.get("/networks"));
  if (compose.blockers.empty()) co_await read_ages(client, inv, compose, policy, kind);
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
  run.result = co_await execute(client, policy, run.plan, inv, compose, options.stop);
  co_return run;
}

}  // namespace composewatch::prune
