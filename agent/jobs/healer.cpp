#include "composewatch/jobs/healer.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/system_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <map>
#include <set>
#include <utility>

#include "composewatch/autoheal/executor.h"
#include "composewatch/autoheal/policy.h"
#include "composewatch/compose/discovery.h"
#include "composewatch/engine/client.h"
#include "composewatch/log/log.h"

namespace composewatch::jobs {

namespace asio = boost::asio;

namespace {

double epoch(autoheal::Clock::time_point t) { return std::chrono::duration<double>(t.time_since_epoch()).count(); }
autoheal::Clock::time_point event_time(const docker::Event& e) {
  return autoheal::Clock::time_point(std::chrono::duration_cast<autoheal::Clock::duration>(std::chrono::nanoseconds(e.time_nano)));
}
// An event's labels (in Actor.Attributes with `name`, `image` and the like).
std::map<std::string, std::string> attribute_map(const docker::Event& e) {
  return {e.attributes.begin(), e.attributes.end()};
}
std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

// The events the healer follows; the others are not queued.
bool followed(std::string_view action) {
  static const std::set<std::string_view> actions = {"create", "start", "die",     "kill",    "stop",   "destroy",
                                                     "restart", "pause", "unpause", "rename", "health_status"};
  return actions.count(action) > 0;
}

// One container's history and counters, by name.
using Entry = state::AutohealRecord;

// An action of the healer's own, until its last event (or the grace after the call).
struct OwnAction {
  std::string last_event;  // "restart" or "stop"
  autoheal::Clock::time_point until = autoheal::Clock::time_point::max();
};

struct Dependent {
  std::string name, id, project, service, reason;
};

// A container event as the model applied it: the name of the record it applied to.
struct Followed {
  docker::Event event;
  std::string name;  // empty when the model knew no container by the event's name or id
};

}  // namespace

struct Healer::Impl {
  Impl(asio::any_io_executor ex, engine::Endpoint ep, state::StateModel& m, config::AutohealConfig settings,
       HealerOptions o)
      : ex(ex), endpoint(std::move(ep)), model(m), policy(std::move(settings)), options(o),
        holds(std::chrono::duration_cast<autoheal::Clock::duration>(o.project_quiet)), wake(ex) {}

  asio::any_io_executor ex;
  engine::Endpoint endpoint;
  state::StateModel& model;
  autoheal::Policy policy;
  HealerOptions options;
  autoheal::ProjectHolds holds;
  asio::system_timer wake;
  std::deque<Followed> pending;
  bool listed = false;
  std::map<std::string, Entry> entries;
  // The project hold each container's wait was logged for, by name (not saved: a hold is short).
  std::map<std::string, autoheal::Clock::time_point> hold_reported;
  std::map<std::string, OwnAction> own;  // by container id
  std::vector<state::AutohealRecord> published;

  autoheal::Action action() const { return autoheal::parse_action(policy.settings().action); }

  const state::ContainerRecord* record(const std::string& name) const { return model.container(name); }

  bool opted_in(const state::ContainerRecord& r) const {
    return policy.opted_in(r.spec.labels, r.project(), r.service());
  }

  static log::Field container_field(const Entry& e) { return {"container", e.name}; }

  void count_suppressed(Entry& e, autoheal::Reason r, std::string_view why, std::string_view detail = {}) {
    ++e.suppressed[std::string(autoheal::reason_name(r))];
    log::info("auto-heal suppressed",
              {container_field(e), {"project", e.project}, {"service", e.service}, {"reason", autoheal::reason_name(r)},
               {"attempt", e.history.attempts.size()}, {"why", why}, {"event", detail}});
  }

  Entry& entry_for(const std::string& name, const std::string& id, const std::string& project,
                   const std::string& service) {
    auto [it, inserted] = entries.try_emplace(name);
    Entry& e = it->second;
    if (inserted) e.name = name;
    if (e.id != id) {
      e.history = autoheal::History{};  // another container under this name: its own history
      e.id = id;
    }
    if (!project.empty()) e.project = project;
    if (!service.empty()) e.service = service;
    return e;
  }

  void expire_own(autoheal::Clock::time_point now) {
    std::erase_if(own, [&](const auto& kv) { return kv.second.until <= now; });
  }

  // One container event, in order, as the model applied it.
  void follow(const Followed& f) {
    const docker::Event& ev = f.event;
    const std::string& name = f.name;
    const auto at = event_time(ev);
    const std::string& a = ev.action;

    auto own_it = own.find(ev.actor_id);
    const bool ours = own_it != own.end() && (a == "kill" || a == "die" || a == "stop" || a == "start" || a == "restart");
    if (ours && a == own_it->second.last_event) own.erase(own_it);
    const auto labels = attribute_map(ev);
    const bool one_off = autoheal::is_one_off(labels);

    // A user or Compose stopping, killing or removing a service container of a project
    // (`compose down`, `compose stop`): hold off the whole project for a while.
    if (!one_off && autoheal::change_of(a, ev.action_detail, ev.attribute("signal"), ours) == autoheal::Change::user_action) {
      autoheal::Clock::duration stopping{};
      if (a == "kill") {
        const auto* r = record(name);
        stopping = std::chrono::duration_cast<autoheal::Clock::duration>(
            autoheal::stop_wait(r ? r->spec.stop_timeout : std::nullopt, options.longest_stop_wait));
      }
      holds.observe(std::string(ev.attribute(docker::kLabelProject)), at, stopping);
    }

    if (a == "rename") {
      const std::string old_name = state::container_name(ev.attribute("oldName"));
      // The container's history moves with it; what was counted stays with the name, as
      // the model's counters do.
      if (auto it = entries.find(old_name); it != entries.end() && old_name != name && it->second.id == ev.actor_id) {
        Entry& moved = entry_for(name, ev.actor_id, it->second.project, it->second.service);
        moved.history = std::exchange(it->second.history, autoheal::History{});
        it->second.id.clear();
      }
      return;
    }
    if (a == "create") {
      // Compose re-creating a service (up --force-recreate, a changed config) makes a new
      // container of the same project and service: the old one is being replaced. A
      // one-off (`compose run`, a cron job's `run --rm`) replaces nothing.
      const std::string project(ev.attribute(docker::kLabelProject));
      const std::string service(ev.attribute(docker::kLabelService));
      if (!project.empty() && !service.empty() && autoheal::replaces_service_containers(a, one_off)) {
        for (auto& [n, e] : entries) {
          if (n == name || e.project != project || e.service != service) continue;
          if (policy.observe(e.history, autoheal::Change::user_action, at))
            count_suppressed(e, autoheal::Reason::user_action, "a new container of its service was created", name);
        }
      }
      if (auto it = entries.find(name); it != entries.end() && it->second.id != ev.actor_id) {
        it->second.history = autoheal::History{};
        it->second.id = ev.actor_id;
      }
      return;
    }

    auto it = entries.find(name);
    if (it == entries.end() || it->second.id != ev.actor_id) {
      // Only a container turning unhealthy starts a history (if it is opted in).
      if (!(a == "health_status" && ev.action_detail == "unhealthy")) return;
      const auto* r = record(name);
      std::map<std::string, std::string> all = r ? r->spec.labels : std::map<std::string, std::string>{};
      all.insert(labels.begin(), labels.end());
      const std::string project(ev.attribute(docker::kLabelProject)), service(ev.attribute(docker::kLabelService));
      if (!policy.opted_in(all, project, service)) return;
      entry_for(name, ev.actor_id, project, service);
      it = entries.find(name);
    }
    Entry& e = it->second;
    const auto change = autoheal::change_of(a, ev.action_detail, ev.attribute("signal"), ours);
    if (!change) return;
    if (*change == autoheal::Change::healthy && (e.history.unhealthy_since || e.history.given_up))
      log::info("auto-heal: healthy again", {container_field(e), {"project", e.project}, {"service", e.service},
                                             {"attempt", e.history.episode_attempts}});
    const std::optional<autoheal::Reason> suppressed = policy.observe(e.history, *change, at);
    if (suppressed) count_suppressed(e, *suppressed, "stopped, killed or removed by a user or Compose", a);
  }

  // After a full listing: what the engine says now, for what no event told (the agent
  // was down, or the engine could not replay).
  void follow_listing(autoheal::Clock::time_point now) {
    for (const auto& [name, r] : model.containers()) {
      if (!r.present || !opted_in(r)) continue;
      const bool live = r.state == "running" || r.state == "paused";
      auto it = entries.find(name);
      if (it == entries.end()) {
        if (!live || r.health != "unhealthy") continue;
        entry_for(name, r.id, r.project(), r.service());
        it = entries.find(name);
      }
      Entry& e = it->second;
      if (e.id != r.id) {
        e.history = autoheal::History{};
        e.id = r.id;
      }
      if (own.count(r.id)) continue;
      if (!live) policy.observe(e.history, autoheal::Change::health_restarted, now);
      else if (r.health == "unhealthy") policy.observe(e.history, autoheal::Change::unhealthy, now);  // keeps an earlier since
      else if (r.health == "healthy") policy.observe(e.history, autoheal::Change::healthy, now);
      else policy.observe(e.history, autoheal::Change::health_restarted, now);
    }
  }

  void publish() {
    // Counters are kept while the model still reports the name (its retention).
    std::erase_if(entries, [&](const auto& kv) { return record(kv.first) == nullptr && model.snapshot()->engine.ready; });
    std::erase_if(hold_reported, [&](const auto& kv) { return !entries.count(kv.first); });
    std::vector<state::AutohealRecord> records;
    for (const auto& [name, e] : entries) records.push_back(e);
    if (records == published) return;
    published = records;
    model.set_autoheal(std::make_shared<const std::vector<state::AutohealRecord>>(std::move(records)));
    model.publish();
  }

  std::vector<Dependent> dependents_of(const Entry& parent) const {
    std::vector<Dependent> out;
    std::set<std::string> seen{parent.name};
    // A one-off (`compose run` of a service with network_mode: service:X, or of a
    // depends_on service) is someone's task or shell, not a replica: never restarted.
    auto add = [&](const state::ContainerRecord& r, const char* reason) {
      if (!r.present || r.state != "running" || r.spec.compose.oneoff || !seen.insert(r.name).second) return;
      out.push_back({r.name, r.id, r.project(), r.service(), reason});
    };
    // network_mode: service:X / container:X: they share X's network namespace and lose it
    // when X restarts. The engine stores "container:<id>" (Compose) or what was given.
    for (const auto& [name, r] : model.containers()) {
      const std::string& mode = r.spec.network_mode;
      if (mode.rfind("container:", 0) != 0) continue;
      const std::string target = mode.substr(10);
      if (target == parent.id || target == parent.name || (target.size() >= 12 && parent.id.rfind(target, 0) == 0))
        add(r, "network_namespace");
    }
    // depends_on: {X: {restart: true}} of the loaded compose project.
    const auto snap = model.snapshot();
    if (snap->compose && !parent.project.empty()) {
      for (const auto& p : snap->compose->projects) {
        if (p.name != parent.project || !p.model) continue;
        for (const auto& [svc, s] : p.model->services) {
          auto d = s.depends_on.find(parent.service);
          if (d == s.depends_on.end() || !d->second.restart) continue;
          for (const auto& [name, r] : model.containers())
            if (r.project() == parent.project && r.service() == svc) add(r, "depends_on");
        }
      }
    }
    return out;
  }

  // What the agent may restart besides `parent`, as one log field: "name(reason),…".
  static std::string describe(const std::vector<Dependent>& deps) {
    std::vector<std::string> parts;
    for (const auto& d : deps) parts.push_back(d.name + "(" + d.reason + ")");
    return joined(parts);
  }

  // A client whose requests may last `deadline`: a restart or stop waits the container's
  // own stop timeout in the engine.
  asio::awaitable<engine::Client> client_for(std::chrono::milliseconds deadline) const {
    engine::ClientOptions o;
    o.request_timeout = deadline;
    engine::Client client(ex, endpoint, o);
    co_await client.negotiate();
    co_return client;
  }

  // Calls the engine, marked as ours, without `t`: the engine waits the container's own
  // stop timeout (`stop_timeout`, from the inspect just before), and the request's
  // deadline outlasts it. Returns whether the engine did it.
  asio::awaitable<bool> call(const std::string& name, const std::string& id, autoheal::Action act,
                             std::optional<std::int64_t> stop_timeout) {
    own[id] = OwnAction{std::string(autoheal::action_name(act)), autoheal::Clock::time_point::max()};
    bool ok = false;
    const auto deadline = autoheal::request_deadline(stop_timeout, options.request_margin, options.longest_stop_wait);
    try {
      engine::Client client = co_await client_for(deadline);
      const autoheal::Outcome o = co_await autoheal::carry_out(client, id, act);
      ok = o == autoheal::Outcome::done;
      if (!ok) log::info("auto-heal: nothing to do, the container is gone or stopped", {{"container", name}, {"outcome", autoheal::outcome_name(o)}});
    } catch (const engine::EngineError& e) {
      log::warn("auto-heal action failed",
                {{"container", name}, {"action", autoheal::action_name(act)}, {"error", e.what()},
                 {"deadline_seconds", std::chrono::duration<double>(deadline).count()}});
    }
    if (auto it = own.find(id); it != own.end()) it->second.until = autoheal::Clock::now() + options.own_events_grace;
    co_return ok;
  }

  // The last look before acting: the engine's own answer, not the model's.
  // not_now: the check changed the history (decide again); wait: nothing to do until the
  // next change (a paused container's unpause).
  enum class Check { go, not_now, wait, engine_error };
  // `stop_timeout`: the container's Config.StopTimeout, as the inspect says.
  asio::awaitable<Check> check(engine::Client& client, Entry& e, autoheal::Clock::time_point now,
                               std::optional<std::int64_t>& stop_timeout) {
    std::optional<docker::ContainerInfo> info;
    try {
      info = co_await client.inspect(e.id);
    } catch (const engine::EngineError& err) {
      log::warn("auto-heal: cannot inspect the container before acting", {{"container", e.name}, {"error", err.what()}});
      co_return Check::engine_error;
    }
    if (!info || info->name != e.name) {
      policy.observe(e.history, autoheal::Change::health_restarted, now);
      co_return Check::not_now;
    }
    if (!policy.opted_in(info->spec.labels, info->project(), info->service())) co_return Check::wait;
    if (info->state == "paused") co_return Check::wait;  // its pause event is on the way
    if (info->state != "running") {
      policy.observe(e.history, autoheal::Change::health_restarted, now);
      co_return Check::not_now;
    }
    if (info->health == "healthy") {
      policy.observe(e.history, autoheal::Change::healthy, now);
      co_return Check::not_now;
    }
    if (info->health != "unhealthy") {
      policy.observe(e.history, autoheal::Change::health_restarted, now);
      co_return Check::not_now;
    }
    stop_timeout = info->spec.stop_timeout;
    co_return Check::go;
  }

  // Decides for one container and carries it out. Returns when to look at it again.
  asio::awaitable<autoheal::Clock::time_point> decide(const std::string& name, autoheal::Clock::time_point now) {
    auto it = entries.find(name);
    const auto* r = record(name);
    if (it == entries.end() || !r || r->id != it->second.id || own.count(r->id)) co_return autoheal::Clock::time_point::max();
    Entry& e = it->second;
    const autoheal::Facts facts{opted_in(*r), r->present && (r->state == "running" || r->state == "paused"), r->state == "paused"};
    if (!r->project().empty()) e.project = r->project();
    if (!r->service().empty()) e.service = r->service();
    autoheal::History next = e.history;
    const autoheal::Decision d = policy.decide(next, facts, now);
    const auto unhealthy_for =
        e.history.unhealthy_since ? std::chrono::duration<double>(now - *e.history.unhealthy_since).count() : 0.0;
    if (d.kind == autoheal::Decision::Kind::nothing) {
      e.history = next;
      co_return d.next;
    }
    const bool would_act = d.kind == autoheal::Decision::Kind::act || d.reason == autoheal::Reason::dry_run;
    if (const auto held = holds.held_until(e.project, now); held && would_act) {
      // Its project is being stopped or brought down: no attempt now (none is counted);
      // decided again when the hold ends.
      if (auto rep = hold_reported.find(name); rep == hold_reported.end() || rep->second != *held)
        log::info("auto-heal: waiting, containers of its project are being stopped or removed",
                  {container_field(e), {"project", e.project}, {"service", e.service},
                   {"held_seconds", std::chrono::duration<double>(*held - now).count()}});
      hold_reported[name] = *held;
      co_return *held;
    }
    if (d.kind == autoheal::Decision::Kind::suppress) {
      e.history = next;
      if (d.reason == autoheal::Reason::dry_run) {
        ++e.suppressed[std::string(autoheal::reason_name(d.reason))];
        log::info("auto-heal dry run: would act",
                  {container_field(e), {"project", e.project}, {"service", e.service}, {"reason", "dry_run"},
                   {"action", policy.settings().action}, {"attempt", d.attempt},
                   {"unhealthy_seconds", unhealthy_for}});
        if (policy.settings().restart_dependents && action() == autoheal::Action::restart)
          for (const auto& dep : dependents_of(e))
            log::info("auto-heal dry run: would restart a dependent",
                      {{"container", dep.name}, {"project", dep.project}, {"service", dep.service},
                       {"reason", dep.reason}, {"parent", e.name}});
      } else if (d.reason == autoheal::Reason::limit) {
        ++e.suppressed[std::string(autoheal::reason_name(d.reason))];
        log::warn("auto-heal gave up: max_attempts used up in the window; not acting on it until then",
                  {container_field(e), {"project", e.project}, {"service", e.service}, {"reason", "limit"},
                   {"attempt", e.history.attempts.size()}, {"max_attempts", policy.settings().max_attempts},
                   {"window_seconds", std::int64_t(policy.settings().window.count())},
                   {"retry_at", d.next == autoheal::Clock::time_point::max() ? 0.0 : epoch(d.next)}});
      } else {
        count_suppressed(e, d.reason,
                         d.reason == autoheal::Reason::paused ? "the container is paused" : "waiting for the backoff",
                         {});
      }
      co_return d.next;
    }

    // Act: one more look at the engine first.
    engine::Client client(ex, endpoint);
    Check c = Check::engine_error;
    std::optional<std::int64_t> stop_timeout;
    try {
      co_await client.negotiate();
      c = co_await check(client, e, now, stop_timeout);
    } catch (const engine::EngineError& err) {
      log::warn("auto-heal: engine unavailable", {{"container", name}, {"error", err.what()}});
    }
    if (c == Check::engine_error) co_return autoheal::Clock::now() + options.retry_after_engine_error;
    if (c == Check::wait) co_return autoheal::Clock::time_point::max();
    if (c == Check::not_now) co_return autoheal::Clock::now();  // decide again on what the check learnt
    e.history = next;
    const autoheal::Action act = action();
    const std::string id = e.id;
    const std::string project = e.project, service = e.service;
    log::info(act == autoheal::Action::restart ? "auto-heal: restarting an unhealthy container"
                                     : "auto-heal: stopping an unhealthy container",
              {{"container", name}, {"project", project}, {"service", service}, {"reason", "unhealthy"},
               {"attempt", d.attempt}, {"unhealthy_seconds", unhealthy_for},
               {"stop_timeout_seconds", autoheal::stop_wait(stop_timeout, options.longest_stop_wait).count()}});
    const bool done = co_await call(name, id, act, stop_timeout);
    // `entries` is not changed while the call runs (events queue until the loop drains
    // them; entry_for below only adds), so `e` still stands.
    if (done) ++e.actions[std::string(autoheal::action_name(act))];
    if (done && act == autoheal::Action::restart) co_await restart_dependents(client, e, d.attempt);
    co_return d.next;
  }

  // After a restart of `parent`: its dependents, only with restart_dependents: true. Both
  // ways it says which containers they are, so that a user can check what was touched.
  asio::awaitable<void> restart_dependents(engine::Client& client, Entry& parent, unsigned attempt) {
    const std::vector<Dependent> deps = dependents_of(parent);
    if (deps.empty()) co_return;
    if (!policy.settings().restart_dependents) {
      log::info("auto-heal: dependents left alone (restart_dependents is off)",
                {{"container", parent.name}, {"project", parent.project}, {"service", parent.service},
                 {"dependents", describe(deps)}});
      co_return;
    }
    log::info("auto-heal: restarting the dependents of a restarted container",
              {{"container", parent.name}, {"project", parent.project}, {"service", parent.service},
               {"dependents", describe(deps)}, {"attempt", attempt}});
    for (const auto& dep : deps) {
      // The same last look as for the container itself: still that container, running,
      // not a one-off, its project not being stopped; and its own stop timeout.
      std::optional<docker::ContainerInfo> info;
      try {
        info = co_await client.inspect(dep.id);
      } catch (const engine::EngineError& err) {
        log::warn("auto-heal: cannot inspect a dependent before restarting it", {{"container", dep.name}, {"error", err.what()}});
        continue;
      }
      const char* skip = !info || info->name != dep.name ? "gone"
                         : info->state != "running"     ? "not running"
                         : info->spec.compose.oneoff    ? "a one-off"
                         : holds.held_until(dep.project, autoheal::Clock::now()) ? "its project is being stopped or removed"
                                                                       : nullptr;
      if (skip) {
        log::info("auto-heal: not restarting a dependent", {{"container", dep.name}, {"parent", parent.name}, {"why", skip}});
        continue;
      }
      log::info("auto-heal: restarting a dependent",
                {{"container", dep.name}, {"project", dep.project}, {"service", dep.service},
                 {"reason", dep.reason}, {"parent", parent.name}, {"attempt", attempt},
                 {"stop_timeout_seconds", autoheal::stop_wait(info->spec.stop_timeout, options.longest_stop_wait).count()}});
      if (co_await call(dep.name, dep.id, autoheal::Action::restart, info->spec.stop_timeout))
        ++entry_for(dep.name, dep.id, dep.project, dep.service).actions["restart"];
    }
  }

  asio::awaitable<void> run() {
    for (const auto& r : model.autoheal() ? *model.autoheal() : std::vector<state::AutohealRecord>{})
      entries[r.name] = r;
    published = model.autoheal() ? *model.autoheal() : std::vector<state::AutohealRecord>{};
    if (!entries.empty())
      log::info("auto-heal histories restored", {{"containers", entries.size()}});
    // Which containers it may touch besides the opted-in ones, said once at start (and by
    // name on each heal).
    if (policy.settings().restart_dependents)
      log::info("auto-heal: restart_dependents is on: a restart is followed by its dependents' restarts",
                {{"restart_dependents", true},
                 {"dependents", "running containers with network_mode service:X or container:X of the restarted X; "
                                "running containers of services with depends_on X restart: true in a loaded project"},
                 {"never", "one-offs, containers not running, projects being stopped"}});
    else
      log::info("auto-heal: restart_dependents is off: only opted-in containers are touched",
                {{"restart_dependents", false}});
    listed = model.snapshot()->engine.ready;
    for (;;) {
      auto now = autoheal::Clock::now();
      while (!pending.empty()) {
        Followed f = std::move(pending.front());
        pending.pop_front();
        follow(f);
      }
      if (listed) {
        listed = false;
        follow_listing(now);
      }
      // Only now: the events queued while an action ran (a restart of its dependents after
      // it, each waiting its own stop timeout, can outlast the grace) are still taken for
      // the healer's own.
      expire_own(now);
      holds.expire(now);
      auto next = autoheal::Clock::time_point::max();
      std::vector<std::string> names;
      for (const auto& [name, e] : entries) names.push_back(name);
      for (const auto& name : names) next = std::min(next, co_await decide(name, autoheal::Clock::now()));
      for (const auto& [id, o] : own) next = std::min(next, o.until);
      publish();
      if (!pending.empty() || listed) continue;
      if (next <= autoheal::Clock::now()) continue;
      wake.expires_at(next);
      co_await wake.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
};

Healer::Healer(asio::any_io_executor ex, engine::Endpoint endpoint, state::StateModel& model,
               config::AutohealConfig settings, HealerOptions options)
    : impl_(std::make_unique<Impl>(std::move(ex), std::move(endpoint), model, std::move(settings), options)) {}

Healer::~Healer() = default;

void Healer::on_event(const docker::Event& e, const state::ContainerRecord* record) {
  if (!followed(e.action)) return;
  impl_->pending.push_back({e, record ? record->name : std::string()});
  impl_->wake.cancel();
}

void Healer::on_listed() {
  impl_->listed = true;
  impl_->wake.cancel();
}

asio::awaitable<void> Healer::run() { return impl_->run(); }

}  // namespace composewatch::jobs
