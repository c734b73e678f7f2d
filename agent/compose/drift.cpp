#include "composewatch/compose/drift.h"

#include "composewatch/compose/discovery.h"

#include "composewatch/config/config.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

namespace composewatch::compose {

std::string_view field_name(DriftField f) {
  switch (f) {
    case DriftField::image: return "image";
    case DriftField::image_stale: return "image_stale";
    case DriftField::memory_limit: return "memory_limit";
    case DriftField::memory_reservation: return "memory_reservation";
    case DriftField::healthcheck: return "healthcheck";
    case DriftField::restart_policy: return "restart_policy";
    case DriftField::replicas: return "replicas";
  }
  return "unknown";
}


std::vector<std::string> service_image_refs(const std::string& project, const Service& service) {
  if (!service.image.empty()) return {normalize_image_ref(service.image)};
  if (service.has_build)
    return {normalize_image_ref(project + "_" + service.name), normalize_image_ref(project + "-" + service.name)};
  return {};
}

std::optional<std::string> image_drift(const std::string& project, const Service& service,
                                       const std::string& live_image) {
  const auto refs = service_image_refs(project, service);
  if (refs.empty()) return std::nullopt;  // neither image nor build: the loader rejects that
  if (std::find(refs.begin(), refs.end(), normalize_image_ref(live_image)) != refs.end()) return std::nullopt;
  if (!service.image.empty()) return "declared image " + service.image + ", container runs " + live_image;
  return "build-only service: expected the built image " + project + "_" + service.name + " (or " + project + "-" +
         service.name + "), container runs " + live_image;
}

std::optional<std::string> memory_drift(std::optional<std::int64_t> declared, std::int64_t live) {
  const std::int64_t want = declared.value_or(0);
  if (want == live) return std::nullopt;
  return "declared " + (want > 0 ? config::format_size(want) : std::string("none")) + ", container has " +
         (live > 0 ? config::format_size(live) : std::string("none"));
}

namespace {

// A test as drift details show it, without the project's secrets (the declared test
// carries interpolated values, the container's the same values written into it).
std::string join_test(const std::vector<std::string>& test, const SecretMask& mask) {
  std::string s = "[";
  for (std::size_t i = 0; i < test.size(); ++i) s += (i ? ", " : "") + test[i];
  return mask.apply(s + "]");
}

std::int64_t seconds_to_ns(double s) { return static_cast<std::int64_t>(std::llround(s * 1e9)); }

std::string format_ns(std::int64_t ns) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%gs", static_cast<double>(ns) / 1e9);
  return buf;
}

bool live_has_check(const std::optional<docker::HealthcheckConfig>& live) {
  return live && !live->test.empty() && live->test.front() != "NONE";
}

}  // namespace

std::optional<std::string> healthcheck_drift(const std::optional<Healthcheck>& declared,
                                             const std::optional<docker::HealthcheckConfig>& live) {
  if (!declared) return std::nullopt;
  const bool declared_disabled =
      declared->disabled || (!declared->test.empty() && declared->test.front() == "NONE");
  if (declared_disabled) {
    if (!live_has_check(live)) return std::nullopt;
    return "declared disabled, container checks " + join_test(live->test, declared->mask);
  }
  if (!live_has_check(live))
    return "declared " + join_test(declared->test, declared->mask) + ", container has no healthcheck";

  std::vector<std::string> diffs;
  if (!declared->test.empty() && declared->test != live->test)
    diffs.push_back("test " + join_test(declared->test, declared->mask) + " vs " +
                    join_test(live->test, declared->mask));
  auto duration = [&](const char* what, std::optional<double> want_s, std::int64_t live_ns, std::int64_t dflt) {
    const std::int64_t want = want_s ? seconds_to_ns(*want_s) : dflt;
    const std::int64_t have = live_ns != 0 ? live_ns : dflt;
    // A declared 0 means the default too (Compose passes it on, the engine reads 0 so).
    const std::int64_t want_eff = want != 0 ? want : dflt;
    if (want_eff != have) diffs.push_back(std::string(what) + " " + format_ns(want_eff) + " vs " + format_ns(have));
  };
  duration("interval", declared->interval_seconds, live->interval_ns, kDefaultHealthIntervalNs);
  duration("timeout", declared->timeout_seconds, live->timeout_ns, kDefaultHealthTimeoutNs);
  duration("start_period", declared->start_period_seconds, live->start_period_ns, 0);
  if (live->start_interval_ns) {
    constexpr std::int64_t kDefaultStartIntervalNs = 5'000'000'000;
    duration("start_interval", declared->start_interval_seconds, *live->start_interval_ns, kDefaultStartIntervalNs);
  }
  const int want_retries = declared->retries && *declared->retries != 0 ? *declared->retries : kDefaultHealthRetries;
  const int have_retries = live->retries != 0 ? live->retries : kDefaultHealthRetries;
  if (want_retries != have_retries)
    diffs.push_back("retries " + std::to_string(want_retries) + " vs " + std::to_string(have_retries));
  if (diffs.empty()) return std::nullopt;
  std::string out = "declared vs container: ";
  for (std::size_t i = 0; i < diffs.size(); ++i) out += (i ? "; " : "") + diffs[i];
  return out;
}

docker::RestartPolicy declared_restart_policy(const Service& service) {
  std::string r = service.restart;
  if (r.empty() && service.deploy_restart_condition) {
    // deploy.restart_policy as Compose v2 maps it onto the engine's policy.
    const std::string& c = *service.deploy_restart_condition;
    if (c == "any") return {"always", 0};
    if (c == "on-failure") return {"on-failure", service.deploy_restart_max_attempts.value_or(0)};
    return {"no", 0};
  }
  if (r.empty() || r == "no" || r == "false") return {"no", 0};
  if (r.starts_with("on-failure")) {
    int n = 0;
    if (auto colon = r.find(':'); colon != std::string::npos) {
      try {
        n = std::stoi(r.substr(colon + 1));
      } catch (const std::exception&) {
        n = 0;
      }
    }
    return {"on-failure", n};
  }
  return {r, 0};
}

std::optional<std::string> restart_drift(const Service& service, const docker::RestartPolicy& live) {
  const docker::RestartPolicy want = declared_restart_policy(service);
  docker::RestartPolicy have = live;
  if (have.name.empty()) have.name = "no";
  auto show = [](const docker::RestartPolicy& p) {
    return p.name == "on-failure" && p.maximum_retry_count > 0 ? p.name + ":" + std::to_string(p.maximum_retry_count)
                                                               : p.name;
  };
  if (want.name == have.name && (want.name != "on-failure" || want.maximum_retry_count == have.maximum_retry_count))
    return std::nullopt;
  return "declared " + show(want) + ", container has " + show(have);
}

std::vector<UnknownField> unknown_fields(const Service& service) {
  std::vector<UnknownField> out;
  for (DriftField f : kDriftFields)
    if (auto it = service.unknown.find(std::string(field_name(f))); it != service.unknown.end())
      out.push_back({f, it->second});
  return out;
}

namespace {

// image_stale for a service's containers, beside the other configuration fields.
void add_image_stale(ServiceDrift& d, const std::vector<const docker::LiveContainer*>& live,
                     const CurrentImages& current) {
  bool stale = false;
  for (const docker::LiveContainer* c : live) {
    if (auto f = image_stale_drift(*c, current)) {
      stale = true;
      d.details.push_back(f->drift());
      d.stale_images.push_back(std::move(*f));
    }
  }
  d.fields.emplace_back(DriftField::image_stale, stale);
}

}  // namespace

std::vector<FieldDrift> container_drift(const std::string& project, const Service& service,
                                        const docker::LiveContainer& c) {
  std::vector<FieldDrift> out;
  auto note = [&](DriftField f, std::optional<std::string> d) {
    if (d && !service.unknown.contains(std::string(field_name(f)))) out.push_back({f, c.name, std::move(*d)});
  };
  note(DriftField::image, image_drift(project, service, c.spec.image));
  note(DriftField::memory_limit, memory_drift(service.memory_limit_bytes, c.spec.memory_limit));
  note(DriftField::memory_reservation, memory_drift(service.memory_reservation_bytes, c.spec.memory_reservation));
  note(DriftField::healthcheck, healthcheck_drift(service.healthcheck, c.spec.healthcheck));
  note(DriftField::restart_policy, restart_drift(service, c.spec.restart_policy));
  return out;
}

std::string running_image_id(const docker::LiveContainer& c) {
  std::string label = c.spec.label(kLabelImage);
  return label.empty() ? c.image_id : label;
}

FieldDrift StaleImage::drift() const {
  return {DriftField::image_stale, container,
          image + " now names " + docker::short_id(current_image_id) + ", container runs " +
              docker::short_id(running_image_id) + " (pulled or rebuilt, not applied: run up)"};
}

std::optional<StaleImage> image_stale_drift(const docker::LiveContainer& c, const CurrentImages& current) {
  // A stopped container is re-created by up anyway.
  if (c.state != "running") return std::nullopt;
  // An image named by id cannot move; nothing to resolve.
  if (c.spec.image.empty() || c.spec.image.starts_with("sha256:")) return std::nullopt;
  const auto it = current.find(c.spec.image);
  if (it == current.end() || it->second.empty()) return std::nullopt;
  const std::string running = running_image_id(c);
  if (running.empty() || running == it->second) return std::nullopt;
  return StaleImage{c.name, c.spec.image, running, it->second};
}

namespace {

// The engine stops restarting an on-failure:N container after N restarts; the container
// keeps the policy it was created with, so read it there.
bool retries_used_up(const docker::LiveContainer& c) {
  const docker::RestartPolicy& p = c.spec.restart_policy;
  return p.name == "on-failure" && p.maximum_retry_count > 0 && c.exit_code != 0 &&
         c.restart_count >= p.maximum_retry_count;
}

}  // namespace

std::string completion_detail(Completion completion, const std::vector<const docker::LiveContainer*>& containers) {
  for (const docker::LiveContainer* c : containers) {
    if (completion == Completion::completed)
      return "ran to completion: container " + c->name + " exited 0";
    if (completion == Completion::gave_up && retries_used_up(*c))
      return "given up by the engine: container " + c->name + " exited " + std::to_string(c->exit_code) + " after " +
             std::to_string(c->restart_count) + " restarts (restart on-failure:" +
             std::to_string(c->spec.restart_policy.maximum_retry_count) + ")";
  }
  return "";
}

std::set<std::string> waited_on_services(const Project& project) {
  std::set<std::string> out;
  for (const auto& [name, s] : project.services)
    for (const auto& [dep, d] : s.depends_on)
      if (d.condition == "service_completed_successfully") out.insert(dep);
  return out;
}

Completion service_completion(const Service& service, const std::vector<const docker::LiveContainer*>& containers,
                              bool waited_on) {
  if (containers.empty()) return Completion::none;
  // Every container must have ended: one still running, restarting or paused is no end.
  for (const docker::LiveContainer* c : containers)
    if (c->state != "exited") return Completion::none;
  const docker::RestartPolicy policy = declared_restart_policy(service);
  const bool one_shot_policy = policy.name == "no" || policy.name == "on-failure";
  const bool all_zero = std::all_of(containers.begin(), containers.end(),
                                    [](const docker::LiveContainer* c) { return c->exit_code == 0; });
  if (all_zero && (one_shot_policy || waited_on)) return Completion::completed;
  const bool gave_up = std::any_of(containers.begin(), containers.end(),
                                   [](const docker::LiveContainer* c) { return retries_used_up(*c); });
  return gave_up ? Completion::gave_up : Completion::none;
}

ProjectDrift compare_project(const Project& project, const std::vector<docker::LiveContainer>& containers,
                             DriftOptions options) {
  std::map<std::string, std::vector<const docker::LiveContainer*>> by_service;
  std::vector<const docker::LiveContainer*> unknown;
  for (const auto& c : containers) {
    if (c.project() != project.name || c.spec.compose.oneoff) continue;
    if (recreate_in_flight(c, containers)) continue;  // the replica is the other container of the pair
    if (project.services.count(c.service()) || project.inactive_services.count(c.service()))
      by_service[c.service()].push_back(&c);
    else
      unknown.push_back(&c);
  }

  ProjectDrift out;
  const std::set<std::string> waited_on = waited_on_services(project);
  auto report = [&](const Service& s, bool active) {
    const auto it = by_service.find(s.name);
    const std::vector<const docker::LiveContainer*> none;
    const auto& live = it == by_service.end() ? none : it->second;
    if (!active && live.empty()) return;
    if (!active && !options.profiles_known) active = true;
    ServiceDrift d;
    d.service = s.name;
    d.location = s.location;
    d.desired = active ? s.replicas : 0;
    d.running = static_cast<int>(
        std::count_if(live.begin(), live.end(), [](const docker::LiveContainer* c) { return c->state == "running"; }));
    d.memory_limit_bytes = s.memory_limit_bytes;
    if (active) d.unknown = unknown_fields(s);
    auto known = [&](DriftField f) { return !s.unknown.contains(std::string(field_name(f))); };
    if (!live.empty()) {
      std::set<DriftField> differing;
      for (const docker::LiveContainer* c : live) {
        for (auto& f : container_drift(project.name, s, *c)) {
          differing.insert(f.field);
          d.details.push_back(std::move(f));
        }
      }
      for (DriftField f : kDriftFields)
        if (f != DriftField::replicas && known(f)) d.fields.emplace_back(f, differing.count(f) > 0);
      if (options.current_images) add_image_stale(d, live, *options.current_images);
    }
    if (active) d.completion = service_completion(s, live, waited_on.contains(s.name));
    d.completion_detail = completion_detail(d.completion, live);
    // A disabled service wants 0 whatever the file's count says.
    const bool replicas_known = known(DriftField::replicas) || !active;
    const bool replicas_differ =
        replicas_known && d.running != d.desired && d.completion != Completion::completed;
    if (replicas_known) d.fields.emplace_back(DriftField::replicas, replicas_differ);
    if (replicas_differ)
      d.details.push_back({DriftField::replicas, "",
                           "declared " + std::to_string(d.desired) + " replica" + (d.desired == 1 ? "" : "s") +
                               ", " + std::to_string(d.running) + " running"});
    out.services.push_back(std::move(d));
  };
  for (const auto& [name, s] : project.services) report(s, true);
  for (const auto& [name, s] : project.inactive_services) report(s, false);
  std::sort(out.services.begin(), out.services.end(),
            [](const ServiceDrift& a, const ServiceDrift& b) { return a.service < b.service; });

  for (const docker::LiveContainer* c : unknown) out.orphans.push_back({c->service(), c->name});
  std::sort(out.orphans.begin(), out.orphans.end(),
            [](const Orphan& a, const Orphan& b) { return a.container < b.container; });
  return out;
}

}  // namespace composewatch::compose
