#include "composewatch/prune/scheduler.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/system_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <random>

#include "composewatch/config/schedule.h"
#include "composewatch/log/log.h"
#include "composewatch/prune/executor.h"
#include "composewatch/prune/host_lock.h"
#include "composewatch/prune/status.h"

namespace composewatch::prune {

namespace asio = boost::asio;
using config::Clock;
using config::Schedule;

namespace {

double epoch(Clock::time_point t) { return std::chrono::duration<double>(t.time_since_epoch()).count(); }

struct Slot {
  config::PrunePolicyConfig policy;
  Schedule schedule;
  Clock::time_point due;      // as the schedule says
  Clock::time_point fire_at;  // due + jitter
  PolicyStatus status;
};

}  // namespace

struct PruneScheduler::Impl {
  Impl(asio::any_io_executor ex, engine::Endpoint ep, state::StateModel& m, SchedulerOptions o)
      : ex(ex), endpoint(std::move(ep)), model(m), options(std::move(o)), wake(ex) {
    if (!options.random) {
      auto rng = std::make_shared<std::mt19937_64>(std::random_device{}());
      options.random = [rng] { return (*rng)(); };
    }
  }

  asio::any_io_executor ex;
  engine::Endpoint endpoint;
  state::StateModel& model;
  SchedulerOptions options;
  asio::system_timer wake;
  std::vector<Slot> slots;
  std::string suspended;

  void arm(Slot& s, Clock::time_point previous_due, Clock::time_point now) {
    s.due = s.schedule.next_due(previous_due, now);
    s.fire_at = s.due + config::jitter(s.schedule, options.random());
    s.status.next_run = epoch(s.fire_at);
    s.status.interval_seconds = std::chrono::duration<double>(s.schedule.next_after(s.due) - s.due).count();
  }

  void set(std::vector<config::PrunePolicyConfig> policies) {
    std::vector<Slot> next;
    const auto now = Clock::now();
    for (auto& p : policies) {
      Slot s{p, Schedule::parse(p.schedule), {}, {}, {}};
      s.status.policy = p.name;
      s.status.kind = target_kind(p.target);
      for (const auto& old : slots)
        if (old.policy.name == p.name) s.status = old.status;  // counters carry on
      s.status.kind = target_kind(p.target);
      arm(s, now, now);
      next.push_back(std::move(s));
    }
    slots = std::move(next);
    publish();
    wake.cancel();
  }

  void publish() {
    auto st = std::make_shared<PruneStatus>();
    for (const auto& s : slots) st->policies.push_back(s.status);
    st->suspended = suspended;
    model.set_prune(std::move(st));
    model.publish();
  }

  ComposeKnowledge compose_knowledge() const {
    auto snap = model.snapshot();
    if (!snap->compose) {
      // The compose watcher has not published yet: nothing can be known of the projects.
      static const ComposeKnowledge not_yet = [] {
        ComposeKnowledge k;
        k.unknown = {std::string("the compose projects are not loaded yet")};
        return k;
      }();
      return not_yet;
    }
    return ComposeKnowledge::from(snap->compose->projects);
  }

  asio::awaitable<void> run_slot(Slot& s) {
    if (!suspended.empty()) {
      log::warn("prune policy not run: policies are suspended", {{"policy", s.policy.name}, {"reason", suspended}});
      co_return;
    }
    std::string why;
    auto lock = HostLock::try_take(options.lock_path, why);
    if (!lock) {
      log::warn("prune policy not run", {{"policy", s.policy.name}, {"reason", why}});
      co_return;
    }
    engine::ClientOptions copts;
    copts.request_timeout = options.df_timeout;
    try {
      engine::Client client(ex, endpoint, copts);
      co_await client.negotiate();
      PolicyRun r = co_await run_policy(client, s.policy, compose_knowledge(), RunOptions::for_endpoint(endpoint, false));
      record_run(s.status, r, epoch(Clock::now()));
      if (!r.not_applied.empty())
        log::info("prune policy not applied", {{"policy", s.policy.name}, {"reason", r.not_applied}});
      if (r.applied())
        log::info("prune policy applied",
                  {{"policy", s.policy.name},
                   {"deleted", r.result.count(Outcome::Result::deleted)},
                   {"skipped", r.result.count(Outcome::Result::skipped)},
                   {"failed", r.result.count(Outcome::Result::failed)},
                   {"reclaimed_bytes", r.result.reclaimed_bytes()}});
    } catch (const engine::EngineError& e) {
      record_failure(s.status);
      log::warn("prune policy could not run", {{"policy", s.policy.name}, {"error", e.what()}});
    } catch (const engine::ParseError& e) {
      record_failure(s.status);
      log::warn("prune policy could not run", {{"policy", s.policy.name}, {"error", e.what()}});
    }
  }

  asio::awaitable<void> run() {
    for (;;) {
      if (slots.empty()) {
        wake.expires_at(Clock::time_point::max());
        co_await wake.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      auto next = slots.front().fire_at;
      for (const auto& s : slots) next = std::min(next, s.fire_at);
      wake.expires_at(next);
      co_await wake.async_wait(asio::as_tuple(asio::use_awaitable));  // cancelled by reload(): look again
      // One at a time; a reload while one runs replaces `slots`, so walk by name.
      std::vector<std::string> due;
      for (const auto& s : slots)
        if (s.fire_at <= Clock::now()) due.push_back(s.policy.name);
      for (const auto& name : due) {
        auto it = std::find_if(slots.begin(), slots.end(), [&](const Slot& s) { return s.policy.name == name; });
        if (it == slots.end()) continue;
        const auto previous_due = it->due;
        co_await run_slot(*it);
        it = std::find_if(slots.begin(), slots.end(), [&](const Slot& s) { return s.policy.name == name; });
        if (it == slots.end() || it->due != previous_due) continue;  // reloaded meanwhile: armed anew
        arm(*it, previous_due, Clock::now());
        publish();
      }
    }
  }
};

PruneScheduler::PruneScheduler(asio::any_io_executor ex, engine::Endpoint endpoint, state::StateModel& model,
                               std::vector<config::PrunePolicyConfig> policies, SchedulerOptions options)
    : impl_(std::make_unique<Impl>(std::move(ex), std::move(endpoint), model, std::move(options))) {
  impl_->set(std::move(policies));
}

PruneScheduler::~PruneScheduler() = default;

asio::awaitable<void> PruneScheduler::run() { return impl_->run(); }

void PruneScheduler::reload(std::vector<config::PrunePolicyConfig> policies) {
  if (!impl_->suspended.empty()) log::info("prune policies resumed", {{"policies", policies.size()}});
  impl_->suspended.clear();
  impl_->set(std::move(policies));
}

void PruneScheduler::suspend(std::string reason) {
  if (impl_->slots.empty()) return;  // nothing to hold back
  log::warn("prune policies suspended until the config file is valid again", {{"reason", reason}});
  impl_->suspended = std::move(reason);
  impl_->publish();
}

}  // namespace composewatch::prune
