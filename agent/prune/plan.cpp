#include "composewatch/prune/plan.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <tuple>

#include "composewatch/compose/drift.h"

namespace composewatch::prune {

std::string_view kind_name(Kind k) {
  switch (k) {
    case Kind::images: return "images";
    case Kind::containers: return "containers";
    case Kind::volumes: return "volumes";
    case Kind::networks: return "networks";
    case Kind::build_cache: return "build_cache";
  }
  return "unknown";
}

Kind target_kind(std::string_view target) {
  for (Kind k : {Kind::images, Kind::containers, Kind::volumes, Kind::networks, Kind::build_cache})
    if (kind_name(k) == target) return k;
  throw std::invalid_argument("unknown prune target '" + std::string(target) + "'");
}

std::string format_age(double seconds) {
  const double s = std::max(0.0, seconds);
  auto n = [](double v, const char* unit) {
    const long x = static_cast<long>(v);
    return std::to_string(x) + " " + unit + (x == 1 ? "" : "s");
  };
  if (s >= 2 * 86400) return n(s / 86400, "day");
  if (s >= 2 * 3600) return n(s / 3600, "hour");
  if (s >= 120) return n(s / 60, "minute");
  return n(s, "second");
}

ComposeKnowledge ComposeKnowledge::from(const std::vector<compose::ProjectState>& projects) {
  ComposeKnowledge k;
  for (const auto& p : projects) {
    Project& info = k.projects[p.name];
    for (std::size_t i = 0; i < p.source.files.size(); ++i) info.files += (i ? ", " : "") + p.source.files[i];
    if (!p.valid || !p.model) {
      // The last good model may name other images than the files do now: unknown.
      info.error = p.error.empty() ? p.source.problem : p.error;
      k.blockers.push_back("compose project " + p.name + ": its files do not load (" +
                           (info.files.empty() ? std::string() : info.files + ": ") + info.error +
                           "), so the images and containers it needs are not known");
      continue;
    }
    info.loaded = true;
    auto add = [&](const std::map<std::string, compose::Service>& services) {
      for (const auto& [name, svc] : services) {
        info.services.insert(name);
        const std::string who = "service " + name + " of compose project " + p.name + " (" + svc.location.str() + ")";
        if (auto it = svc.unknown.find("image"); it != svc.unknown.end()) {
          // app:${TAG}: any tag of the repository may be the one deployed. When the
          // repository itself depends on the variable, nothing can be matched.
          const std::string known = svc.image_known_prefix.value_or("");
          const auto slash = known.rfind('/');
          const auto sep = known.find_first_of(":@", slash == std::string::npos ? 0 : slash + 1);
          if (sep != std::string::npos && sep > 0) {
            k.repositories.try_emplace(compose::parse_image_ref(known.substr(0, sep)).repository, who);
          } else {
            std::string vars;
            for (const auto& v : it->second) vars += (vars.empty() ? "" : ", ") + v;
            k.blockers.push_back(who + ": the repository of its image depends on " + vars +
                                 ", which the agent lacks, so which images it needs is not known");
          }
          continue;
        }
        for (const auto& ref : compose::service_image_refs(p.name, svc)) {
          const compose::ImageRef parsed = compose::parse_image_ref(ref);
          if (!parsed.digest.empty()) k.digests.try_emplace(parsed.digest, who);
          if (!parsed.tag.empty()) k.images.try_emplace(parsed.repository + ":" + parsed.tag, who);
        }
      }
    };
    add(p.model->services);
    add(p.model->inactive_services);
  }
  return k;
}

ComposeKnowledge ComposeKnowledge::not_loaded_yet() {
  ComposeKnowledge k;
  k.blockers = {"the compose projects are not loaded yet"};
  return k;
}

std::optional<double> image_since(const docker::ImageSummary& img, const Inventory& inventory) {
  // Docker appeared in 2013: an earlier Created is a reproducible build's fixed stamp
  // (the epoch for ko and jib, 1 for nix), not when the image was made or arrived.
  constexpr double kFirstDockerImage = 1356998400;  // 2013-01-01T00:00:00Z
  std::optional<double> since;
  auto later = [&](std::optional<double> t) {
    if (t && *t > 0 && (!since || *t > *since)) since = t;
  };
  if (img.created >= kFirstDockerImage) later(img.created);
  later(img.last_tag_time);
  auto seen = [&](const std::string& key) {
    if (auto it = inventory.image_last_seen.find(key); it != inventory.image_last_seen.end()) later(it->second);
  };
  seen(img.id);
  for (const auto& t : img.repo_tags) seen(compose::normalize_image_ref(t));
  for (const auto& d : img.repo_digests) seen(compose::normalize_image_ref(d));
  return since;
}

namespace {

std::string label_of(const std::map<std::string, std::string>& labels, std::string_view key) {
  auto it = labels.find(std::string(key));
  return it == labels.end() ? std::string() : it->second;
}

bool stopped(const std::string& state) { return state == "exited" || state == "dead" || state == "created"; }

bool builtin_network(const docker::NetworkSummary& n) {
  return n.name == "bridge" || n.name == "host" || n.name == "none" || n.driver == "host" || n.driver == "null";
}

}  // namespace

Guard::Guard(const Inventory& inventory, const ComposeKnowledge& compose, const config::PrunePolicyConfig& policy)
    : inventory_(inventory), compose_(compose), policy_(policy) {}

std::optional<std::string> Guard::labels(const std::map<std::string, std::string>& labels) const {
  // Any value but an explicit no keeps it: a typo in the value must not expose it.
  if (auto it = labels.find(std::string(kKeepLabel)); it != labels.end()) {
    std::string v = it->second;
    std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    if (v != "false" && v != "0" && v != "no") return "labelled " + std::string(kKeepLabel) + "=" + it->second;
  }
  for (const auto& p : policy_.protect_labels) {
    const auto eq = p.find('=');
    const std::string key = p.substr(0, eq);
    auto it = labels.find(key);
    if (it == labels.end()) continue;
    if (eq == std::string::npos || it->second == p.substr(eq + 1))
      return "labelled " + it->first + "=" + it->second + " (protect_labels: " + p + ")";
  }
  return std::nullopt;
}

std::optional<std::string> Guard::image(const docker::ImageSummary& img) const {
  if (auto why = labels(img.labels)) return why;
  for (const auto& c : inventory_.df.containers)
    if (c.image_id == img.id) return "used by container " + c.name + " (" + c.state + ")";
  if (img.containers > 0) return "used by " + std::to_string(img.containers) + " container(s)";
  auto named = [&](const std::string& r) -> std::optional<std::string> {
    const compose::ImageRef ref = compose::parse_image_ref(r);
    if (!ref.tag.empty())
      if (auto it = compose_.images.find(ref.repository + ":" + ref.tag); it != compose_.images.end())
        return "named by " + it->second;
    if (!ref.digest.empty())
      if (auto it = compose_.digests.find(ref.digest); it != compose_.digests.end())
        return "pinned by digest by " + it->second;
    if (auto it = compose_.repositories.find(ref.repository); it != compose_.repositories.end())
      return "of repository " + ref.repository + ", whose tag " + it->second +
             " takes from a variable the agent lacks";
    return std::nullopt;
  };
  for (const auto& r : img.repo_tags)
    if (auto why = named(r)) return why;
  for (const auto& r : img.repo_digests)
    if (auto why = named(r)) return why;
  return std::nullopt;
}

std::optional<std::string> Guard::container(ContainerView c) const {
  if (auto why = labels(c.labels)) return why;
  if (!stopped(c.state)) return "not stopped (" + c.state + ")";
  const std::string project = label_of(c.labels, docker::kLabelProject);
  if (!project.empty()) {
    const std::string service = label_of(c.labels, docker::kLabelService);
    auto it = compose_.projects.find(project);
    if (it == compose_.projects.end() || !it->second.loaded)
      return "of compose project " + project + ", whose files are not known: whether it declares service " + service +
             " cannot be told";
    if (it->second.services.count(service))
      return "of service " + service + ", which compose project " + project + " declares (" + it->second.files + ")";
  }
  return std::nullopt;
}

std::optional<std::string> Guard::volume(const docker::VolumeSummary& v) const {
  if (auto why = labels(v.labels)) return why;
  if (!v.anonymous()) return "named volume: never pruned";
  if (!policy_.allow_volumes) return "the policy does not set allow_volumes: true";
  for (const auto& c : inventory_.df.containers)
    for (const auto& m : c.mounts)
      if (m.type == "volume" && m.name == v.name) return "mounted by container " + c.name + " (" + c.state + ")";
  if (v.ref_count > 0) return "in use by " + std::to_string(v.ref_count) + " container(s)";
  if (const std::string project = label_of(v.labels, docker::kLabelProject); !project.empty())
    return "a volume of compose project " + project;
  return std::nullopt;
}

std::optional<std::string> Guard::network(const docker::NetworkSummary& n) const {
  if (auto why = labels(n.labels)) return why;
  if (builtin_network(n)) return "built-in network";
  if (n.scope == "swarm") return "a swarm network";
  if (n.attached > 0) return std::to_string(n.attached) + " container(s) attached";
  for (const auto& c : inventory_.df.containers) {
    for (const auto& id : c.network_ids)
      if (!id.empty() && id == n.id) return "used by container " + c.name + " (" + c.state + ")";
    for (const auto& name : c.network_names)
      if (name == n.name) return "used by container " + c.name + " (" + c.state + ")";
  }
  if (const std::string project = label_of(n.labels, docker::kLabelProject); !project.empty()) {
    auto it = compose_.projects.find(project);
    if (it != compose_.projects.end()) return "a network of compose project " + project + ", which is known";
  }
  return std::nullopt;
}

std::optional<std::string> Guard::build_cache(const docker::BuildCacheRecord& r) const {
  if (r.in_use) return "in use by a build";
  // Its layers are an image's too: deleting the record would free nothing while the image
  // stays, and docker system df does not count it as reclaimable either.
  if (r.shared) return "shared with an image";
  return std::nullopt;
}

std::int64_t add_bytes(std::int64_t a, std::int64_t b) {
  // Sizes are 0..docker::kMaxObjectBytes (the parser refuses others); saturate rather
  // than wrap all the same, so that no sum can slip under a brake.
  a = std::max<std::int64_t>(a, 0);
  b = std::max<std::int64_t>(b, 0);
  return a > std::numeric_limits<std::int64_t>::max() - b ? std::numeric_limits<std::int64_t>::max() : a + b;
}

std::int64_t PrunePlan::candidate_bytes() const {
  std::int64_t n = 0;
  for (const auto& e : candidates) n = add_bytes(n, e.size);
  return n;
}

namespace {

// Oldest first; equal ages by name and id, so that a plan reads the same at every run.
bool oldest_first(const Entry& a, const Entry& b) {
  const double x = a.age_seconds.value_or(0), y = b.age_seconds.value_or(0);
  if (x != y) return x > y;
  return std::tie(a.name, a.id) < std::tie(b.name, b.id);
}

// Reorders `v` so that no entry comes before an entry that names it as a parent; otherwise
// the order stays. Quadratic, for the few hundred records a build cache holds.
void children_first(std::vector<Entry>& v) {
  std::vector<Entry> out;
  out.reserve(v.size());
  std::vector<bool> done(v.size(), false);
  while (out.size() < v.size()) {
    bool progressed = false;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (done[i]) continue;
      bool waits = false;  // a child of it is still to come
      for (std::size_t j = 0; j < v.size() && !waits; ++j)
        waits = !done[j] && j != i && std::find(v[j].parents.begin(), v[j].parents.end(), v[i].id) != v[j].parents.end();
      if (waits) continue;
      done[i] = true;
      out.push_back(std::move(v[i]));
      progressed = true;
    }
    if (!progressed) {  // a cycle (never seen): keep the rest as they are
      for (std::size_t i = 0; i < v.size(); ++i)
        if (!done[i]) out.push_back(std::move(v[i]));
      break;
    }
  }
  v = std::move(out);
}

// The shared steps of every target: guard, grace, then the candidates in age order.
class Planner {
 public:
  Planner(const config::PrunePolicyConfig& policy, double now, PrunePlan& plan)
      : policy_(policy), now_(now), plan_(plan) {}

  // `created`: nullopt when the engine does not say; such an object is kept (its age is
  // unknown, so the grace cannot be told to have passed).
  void consider(Entry e, std::optional<std::string> protection, std::optional<double> since,
                const std::string& why_candidate) {
    if (protection) {
      e.reason = std::move(*protection);
      plan_.kept.push_back(std::move(e));
      return;
    }
    if (since) e.age_seconds = now_ - *since;
    const double grace = static_cast<double>(policy_.older_than.count());
    if (!e.age_seconds) {
      e.reason = "its age is unknown, so the grace period cannot have passed";
      plan_.kept.push_back(std::move(e));
      return;
    }
    if (*e.age_seconds < grace) {
      e.reason = "younger than the grace period (" + format_age(*e.age_seconds) + " < older_than " +
                 format_age(grace) + ")";
      plan_.kept.push_back(std::move(e));
      return;
    }
    e.reason = why_candidate + ", " + format_age(*e.age_seconds) + " old";
    plan_.candidates.push_back(std::move(e));
  }

  // Oldest first, children before their parents; then the policy's brakes hold back what
  // exceeds them.
  void finish() {
    std::sort(plan_.candidates.begin(), plan_.candidates.end(), oldest_first);
    children_first(plan_.candidates);
    // The engine lists in no stable order: what is kept reads the same at every run.
    std::sort(plan_.kept.begin(), plan_.kept.end(),
              [](const Entry& a, const Entry& b) { return std::tie(a.name, a.id) < std::tie(b.name, b.id); });
    std::vector<Entry> chosen;
    std::int64_t bytes = 0;
    bool braked = false;
    for (auto& e : plan_.candidates) {
      std::string held;
      if (braked) {
        held = "held back: the policy's brakes were reached";
      } else if (policy_.max_objects && chosen.size() >= *policy_.max_objects) {
        held = "held back: max_objects " + std::to_string(*policy_.max_objects) + " reached";
      } else if (policy_.max_bytes && std::uint64_t(add_bytes(bytes, e.size)) > *policy_.max_bytes) {
        held = "held back: max_bytes " + config::format_size(std::int64_t(*policy_.max_bytes)) + " reached";
      }
      if (!held.empty()) {
        braked = true;
        e.reason = std::move(held);
        plan_.kept.push_back(std::move(e));
        continue;
      }
      bytes = add_bytes(bytes, e.size);
      chosen.push_back(std::move(e));
    }
    plan_.candidates = std::move(chosen);
  }

 private:
  const config::PrunePolicyConfig& policy_;
  double now_;
  PrunePlan& plan_;
};

// 0 is how the engine says "not known" (and no object here is from 1970): no age.
std::optional<double> known_time(double t) { return t > 0 ? std::optional<double>(t) : std::nullopt; }

std::optional<double> latest(std::initializer_list<std::optional<double>> times) {
  std::optional<double> out;
  for (const auto& t : times)
    if (t && (!out || *t > *out)) out = t;
  return out;
}

Entry entry(Kind kind, std::string id, std::string name, std::int64_t size) {
  Entry e;
  e.kind = kind;
  e.id = std::move(id);
  e.name = std::move(name);
  e.size = size;
  return e;
}

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

}  // namespace

PrunePlan make_plan(const config::PrunePolicyConfig& policy, const Inventory& inv, const ComposeKnowledge& compose,
                    double now) {
  PrunePlan plan;
  plan.policy = policy.name;
  plan.kind = target_kind(policy.target);
  if ((plan.kind == Kind::images || plan.kind == Kind::containers) && !compose.blockers.empty()) {
    plan.refused = "what the compose projects reference is not fully known, so no " + std::string(kind_name(plan.kind)) +
                   " are pruned until it is: " + join(compose.blockers, "; ");
    return plan;
  }
  const Guard guard(inv, compose, policy);
  Planner p(policy, now, plan);
  switch (plan.kind) {
    case Kind::images:
      for (const auto& img : inv.df.images) {
        if (policy.images == "dangling" && !img.dangling()) continue;
        Entry e = entry(Kind::images, img.id, img.repo_tags.empty() ? "<none>" : join(img.repo_tags),
                        img.shared_size >= 0 ? std::max<std::int64_t>(img.size - img.shared_size, 0) : img.size);
        e.tags = img.repo_tags;
        p.consider(std::move(e), guard.image(img), image_since(img, inv),
                   img.dangling() ? "dangling image" : "image no container uses and no known compose file names");
      }
      break;
    case Kind::containers:
      for (const auto& c : inv.df.containers) {
        if (!stopped(c.state)) continue;  // running ones are not what this target is about
        Entry e = entry(Kind::containers, c.id, c.name, std::max<std::int64_t>(c.size_rw, 0));
        // From when it last ran: one made a month ago that crashed a minute ago is not old.
        p.consider(std::move(e), guard.container(c), latest({known_time(c.created), c.finished_at}),
                   "stopped container (" + c.state + ")");
      }
      break;
    case Kind::volumes:
      for (const auto& v : inv.df.volumes) {
        Entry e = entry(Kind::volumes, v.name, v.name, std::max<std::int64_t>(v.size, 0));
        p.consider(std::move(e), guard.volume(v), v.created_at, "anonymous volume no container references");
      }
      break;
    case Kind::networks:
      for (const auto& n : inv.networks) {
        Entry e = entry(Kind::networks, n.id, n.name, 0);
        p.consider(std::move(e), guard.network(n), known_time(n.created), "network no container uses");
      }
      break;
    case Kind::build_cache: {
      std::int64_t total = 0;
      for (const auto& r : inv.df.build_cache) total = add_bytes(total, r.size);
      for (const auto& r : inv.df.build_cache) {
        Entry e = entry(Kind::build_cache, r.id, r.description.empty() ? r.type : r.description, r.size);
        e.parents = r.parents;
        p.consider(std::move(e), guard.build_cache(r), r.last_used_at ? r.last_used_at : r.created_at,
                   "build cache not used since");
      }
      if (policy.keep_storage_bytes) {
        // In deletion order (oldest first, a record only after those that build on it)
        // until what stays fits in keep_storage: a prefix the engine can delete.
        std::sort(plan.candidates.begin(), plan.candidates.end(), oldest_first);
        children_first(plan.candidates);
        std::vector<Entry> chosen;
        std::int64_t remaining = total;
        for (auto& e : plan.candidates) {
          if (std::uint64_t(std::max<std::int64_t>(remaining, 0)) <= *policy.keep_storage_bytes) {
            e.reason = "the cache fits in keep_storage " +
                       config::format_size(std::int64_t(*policy.keep_storage_bytes)) + " without it";
            plan.kept.push_back(std::move(e));
            continue;
          }
          remaining -= e.size;
          chosen.push_back(std::move(e));
        }
        plan.candidates = std::move(chosen);
      }
      break;
    }
  }
  p.finish();
  return plan;
}

}  // namespace composewatch::prune
