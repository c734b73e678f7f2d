// Auto-heal series per container from the healer's last records (Snapshot::autoheal):
// actions taken, decisions suppressed by reason, and whether it has given up. A container
// shows once the healer has followed it (it turned unhealthy while opted in, or it was
// restarted as a dependent); every action and reason is exported, at 0 until counted.

#include "composewatch/autoheal/policy.h"
#include "composewatch/metrics/collector.h"
#include "composewatch/metrics/text_writer.h"

namespace composewatch::metrics {
namespace {

std::uint64_t count_of(const std::map<std::string, std::uint64_t>& m, std::string_view key) {
  auto it = m.find(std::string(key));
  return it == m.end() ? 0 : it->second;
}

class AutohealCollector final : public Collector {
 public:
  std::string_view name() const override { return "autoheal"; }
  void collect(const state::Snapshot& s, TextWriter& out) const override {
    if (!s.autoheal || s.autoheal->empty()) return;
    auto base = [](const auto& r) {
      return Labels{{"project", r.project}, {"service", r.service}, {"container", r.name}};
    };
    out.family("composewatch_autoheal_actions_total",
               "Restarts and stops of unhealthy opted-in containers (and their dependents) done by auto-heal.",
               MetricType::counter);
    for (const auto& r : *s.autoheal)
      for (const char* a : {"restart", "stop"}) out.sample(base(r).with("action", a), double(count_of(r.actions, a)));
    out.family("composewatch_autoheal_suppressed_total",
               "Auto-heal actions not taken, by reason: backoff, limit, user_action, dry_run, paused.",
               MetricType::counter);
    for (const auto& r : *s.autoheal)
      for (auto reason : autoheal::kReasons) {
        const std::string_view name = autoheal::reason_name(reason);
        out.sample(base(r).with("reason", name), double(count_of(r.suppressed, name)));
      }
    out.family("composewatch_autoheal_given_up",
               "1 while auto-heal has used up max_attempts in the window and does not act on the container.",
               MetricType::gauge);
    for (const auto& r : *s.autoheal) out.sample(base(r), r.history.given_up ? 1.0 : 0.0);
  }
};

}  // namespace

std::unique_ptr<Collector> make_autoheal_collector() { return std::make_unique<AutohealCollector>(); }

}  // namespace composewatch::metrics
