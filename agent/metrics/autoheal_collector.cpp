// Auto-heal series per container from the healer's last records (Snapshot::autoheal):
// actions taken, decisions suppressed by reason, and whether it has given up. A container
// shows once the healer has followed it (it turned unhealthy while opted in, or it was
// restarted as a dependent); every action and reason is exported, at 0 until counted.

#include "composewatch/autoheal/policy.h"
#include "composewatch/metrics/collector.h"
#include "family.h"

namespace composewatch::metrics {
namespace {

using prometheus::MetricType;

std::uint64_t count_of(const std::map<std::string, std::uint64_t>& m, std::string_view key) {
  auto it = m.find(std::string(key));
  return it == m.end() ? 0 : it->second;
}

class AutohealCollector final : public Collector {
 public:
  std::string_view name() const override { return "autoheal"; }
  void collect(const state::Snapshot& s, Families& out) const override {
    if (!s.autoheal || s.autoheal->empty()) return;
    auto actions = detail::family("composewatch_autoheal_actions_total",
                                  "Restarts and stops of unhealthy opted-in containers (and their dependents) "
                                  "done by auto-heal.",
                                  MetricType::Counter);
    auto suppressed = detail::family("composewatch_autoheal_suppressed_total",
                                     "Auto-heal actions not taken, by reason: backoff, limit, user_action, "
                                     "dry_run, paused.",
                                     MetricType::Counter);
    auto given_up = detail::family("composewatch_autoheal_given_up",
                                   "1 while auto-heal has used up max_attempts in the window and does not act "
                                   "on the container.",
                                   MetricType::Gauge);
    for (const auto& r : *s.autoheal) {
      const detail::Labels base{{"project", r.project}, {"service", r.service}, {"container", r.name}};
      for (const char* a : {"restart", "stop"}) {
        auto l = base;
        l.push_back({"action", a});
        detail::add(actions, std::move(l), double(count_of(r.actions, a)));
      }
      for (auto reason : autoheal::kReasons) {
        auto l = base;
        l.push_back({"reason", std::string(autoheal::reason_name(reason))});
        detail::add(suppressed, std::move(l), double(count_of(r.suppressed, autoheal::reason_name(reason))));
      }
      detail::add(given_up, base, r.history.given_up ? 1.0 : 0.0);
    }
    out.push_back(std::move(actions));
    out.push_back(std::move(suppressed));
    out.push_back(std::move(given_up));
  }
};

}  // namespace

std::unique_ptr<Collector> make_autoheal_collector() { return std::make_unique<AutohealCollector>(); }

}  // namespace composewatch::metrics
