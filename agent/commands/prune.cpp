#include "composewatch/commands/prune.h"

#include <algorithm>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <ostream>

#include "composewatch/commands/host.h"
#include "composewatch/compose/drift.h"
#include "composewatch/prune/executor.h"
#include "composewatch/prune/host_lock.h"
#include "composewatch/state/store.h"
#include "oneshot.h"

namespace composewatch::commands {

PruneOptions prune_options(const config::CommandLine& cl) {
  return PruneOptions{.policies = cl.option_list("policy"), .dry_run = cl.has("dry-run")};
}

namespace {

using prune::Entry;
using prune::Outcome;

std::string short_id(const Entry& e) {
  std::string id = e.id;
  if (id.starts_with("sha256:")) id.erase(0, 7);
  // Volumes are named by their name (anonymous ones are 64 hex); the rest by 12 hex.
  return e.kind == prune::Kind::volumes && id.size() < 64 ? id : id.substr(0, 12);
}

std::string clip(std::string s, std::size_t n) {
  if (s.size() > n) {
    s.resize(n - 1);
    s += '~';
  }
  return s;
}

std::string singular(prune::Kind k) {
  switch (k) {
    case prune::Kind::images: return "image";
    case prune::Kind::containers: return "container";
    case prune::Kind::volumes: return "volume";
    case prune::Kind::networks: return "network";
    case prune::Kind::build_cache: return "cache";
  }
  return "object";
}

// Rows of entries, columns aligned: [status] KIND ID NAME SIZE AGE  why.
void print_rows(std::ostream& out, const std::vector<std::pair<std::string, const Entry*>>& rows,
                const std::vector<std::string>& whys) {
  std::size_t w_status = 0, w_id = 0, w_name = 0, w_size = 0;
  std::vector<std::array<std::string, 5>> cells;
  for (const auto& [status, e] : rows) {
    std::array<std::string, 5> c;
    c[0] = status;
    c[1] = short_id(*e);
    c[2] = clip(e->name, 40);
    c[3] = config::format_size(e->size);
    c[4] = e->age_seconds ? prune::format_age(*e->age_seconds) : std::string(1, '-');
    w_status = std::max(w_status, c[0].size());
    w_id = std::max(w_id, c[1].size());
    w_name = std::max(w_name, c[2].size());
    w_size = std::max(w_size, c[3].size());
    cells.push_back(std::move(c));
  }
  auto pad = [](const std::string& s, std::size_t w) { return s + std::string(w > s.size() ? w - s.size() : 0, ' '); };
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const auto& c = cells[i];
    out << "    " << (w_status ? pad(c[0], w_status) + "  " : "") << pad(singular(rows[i].second->kind), 10)
        << pad(c[1], w_id) << "  " << pad(c[2], w_name) << "  " << pad(c[3], w_size) << "  " << pad(c[4], 11) << whys[i]
        << "\n";
  }
}

void print_run(std::ostream& out, const config::PrunePolicyConfig& policy, const prune::PolicyRun& run,
               bool forced_dry_run) {
  out << "policy " << policy.name << " (target " << policy.target;
  if (policy.target == "images") out << ", " << policy.images;
  out << ", older_than " << prune::format_age(double(policy.older_than.count())) << "): ";
  if (run.dry_run)
    out << "dry run (" << (forced_dry_run ? "--dry-run" : "the policy's dry_run: true") << ")";
  else if (!run.not_applied.empty())
    out << "not applied: " << run.not_applied;
  else
    out << "applied";
  out << "\n";
  if (run.disk_free_percent) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1f%%", *run.disk_free_percent);
    out << "  disk free: " << buf << "\n";
  }
  const auto& plan = run.plan;
  if (!plan.refused.empty()) {
    out << "  refused: " << plan.refused << "\n";
    return;
  }
  if (run.applied()) {
    const auto& r = run.result;
    out << "  deleted " << r.count(Outcome::Result::deleted) << " of " << plan.candidates.size() << ", reclaimed "
        << config::format_size(r.reclaimed_bytes()) << "; " << r.count(Outcome::Result::skipped) << " skipped, "
        << r.count(Outcome::Result::failed) << " failed\n";
    std::vector<std::pair<std::string, const Entry*>> rows;
    std::vector<std::string> whys;
    for (const auto& o : r.outcomes) {
      rows.emplace_back(o.result == Outcome::Result::deleted ? "deleted"
                        : o.result == Outcome::Result::skipped ? "skipped"
                                                                : "FAILED",
                        &o.entry);
      whys.push_back(o.detail);
    }
    print_rows(out, rows, whys);
  } else {
    out << "  would delete " << plan.candidates.size() << (plan.candidates.size() == 1 ? " object, " : " objects, ")
        << config::format_size(plan.candidate_bytes()) << (plan.candidates.empty() ? "\n" : ":\n");
    std::vector<std::pair<std::string, const Entry*>> rows;
    std::vector<std::string> whys;
    for (const auto& e : plan.candidates) {
      rows.emplace_back("", &e);
      whys.push_back(e.reason);
    }
    print_rows(out, rows, whys);
  }
  if (!plan.kept.empty()) {
    out << "  kept " << plan.kept.size() << ":\n";
    std::vector<std::pair<std::string, const Entry*>> rows;
    std::vector<std::string> whys;
    for (const auto& e : plan.kept) {
      rows.emplace_back("", &e);
      whys.push_back(e.reason);
    }
    print_rows(out, rows, whys);
  }
}

}  // namespace

int run_prune(const config::AgentConfig& cfg, const PruneOptions& options, std::ostream& out, std::ostream& err) {
  if (cfg.prune_policies.empty()) {
    err << "composewatch: no prune policies in "
        << (cfg.config_file.empty() ? "the configuration (no config file)" : cfg.config_file) << "\n";
    return 2;
  }
  std::vector<const config::PrunePolicyConfig*> chosen;
  for (const auto& name : options.policies) {
    auto it = std::find_if(cfg.prune_policies.begin(), cfg.prune_policies.end(),
                           [&](const auto& p) { return p.name == name; });
    if (it == cfg.prune_policies.end()) {
      std::string names;
      for (const auto& p : cfg.prune_policies) names += (names.empty() ? "" : ", ") + p.name;
      err << "composewatch: no prune policy named '" << name << "' in " << cfg.config_file << " (policies: " << names
          << ")\n";
      return 2;
    }
    if (std::find(chosen.begin(), chosen.end(), &*it) == chosen.end()) chosen.push_back(&*it);
  }
  if (options.policies.empty())
    for (const auto& p : cfg.prune_policies) chosen.push_back(&p);

  prune::ComposeKnowledge compose;
  try {
    compose = prune::ComposeKnowledge::from(known_projects(cfg, live_containers(inspect_containers(cfg))));
  } catch (const std::exception& e) {
    err << "composewatch: could not prune: the engine at " << cfg.docker_host << " did not answer: " << e.what()
        << "\n";
    return 2;
  }

  // Image ages also count when the agent last saw an image used or pulled (its state
  // file); without it, Created and LastTagTime alone.
  std::map<std::string, double> image_last_seen;
  std::string no_history;
  if (auto saved = state::StateFile(cfg.state_dir).peek(no_history)) image_last_seen = std::move(saved->images_seen);

  bool could_not = false, failed = false, stopped = false;
  prune::StopRequest stop;
  const engine::Endpoint ep = engine::parse_endpoint(cfg.docker_host);
  for (const auto* policy : chosen) {
    if (stop.requested) {
      err << "composewatch: policy " << policy->name << " not run: stopped by a signal\n";
      continue;
    }
    std::string why;
    auto lock = prune::HostLock::try_take(prune::lock_path(cfg.state_dir), why);
    if (!lock) {
      err << "composewatch: policy " << policy->name << " not run: " << why << "\n";
      could_not = true;
      continue;
    }
    try {
      // Deletions and /system/df run under the longer of the disk timeout and the usual deadline.
      engine::ClientOptions copts = detail::oneshot_client_options();
      copts.request_timeout = std::max<std::chrono::milliseconds>(cfg.disk_timeout, copts.request_timeout);
      auto ropts = prune::RunOptions::for_endpoint(ep, options.dry_run);
      ropts.image_last_seen = image_last_seen;
      ropts.stop = &stop;
      const auto run = detail::run_sync([&](boost::asio::any_io_executor ex) -> boost::asio::awaitable<prune::PolicyRun> {
        // SIGTERM or ^C: the deletion in flight finishes (an image's every untag included),
        // then the run stops; a second one ends the command at once.
        boost::asio::signal_set signals(ex, SIGINT, SIGTERM);
        std::function<void(const boost::system::error_code&, int)> on_signal = [&](const boost::system::error_code& ec,
                                                                                   int) {
          if (ec) return;
          if (stop.requested) std::_Exit(130);
          stop.requested = true;
          err << "composewatch: stopping after the deletion in flight (again to stop at once)\n";
          signals.async_wait(on_signal);
        };
        signals.async_wait(on_signal);
        engine::Client client(ex, ep, copts);
        std::optional<prune::PolicyRun> r;
        std::exception_ptr error;
        try {
          co_await client.negotiate();
          r = co_await prune::run_policy(client, *policy, compose, ropts);
        } catch (...) {
          error = std::current_exception();
        }
        boost::system::error_code ignored;
        signals.cancel(ignored);
        if (error) std::rethrow_exception(error);
        co_return std::move(*r);
      });
      print_run(out, *policy, run, options.dry_run);
      if (run.result.not_attempted > 0) {
        out << "  stopped by a signal: " << run.result.not_attempted << " not attempted\n";
        stopped = true;
      }
      if (policy->target == "images" && !no_history.empty())
        out << "  image ages from Created and LastTagTime only: the agent's record of image use cannot be read ("
            << no_history << ")\n";
      if (!run.plan.refused.empty()) could_not = true;
      if (run.result.count(Outcome::Result::failed) > 0) failed = true;
    } catch (const std::exception& e) {
      err << "composewatch: policy " << policy->name << " could not run: " << e.what() << "\n";
      could_not = true;
    }
  }
  return could_not ? 2 : (failed || stopped) ? 1 : 0;
}

}  // namespace composewatch::commands
