// composewatch_engine_*, composewatch_build_info, composewatch_events_total,
// composewatch_event_stream_reconnects_total, composewatch_event_stream_errors_total.

#include "composewatch/metrics/collector.h"
#include "composewatch/version.h"
#include "family.h"

namespace composewatch::metrics {
namespace {

using prometheus::MetricType;

class EngineCollector final : public Collector {
 public:
  std::string_view name() const override { return "engine"; }
  void collect(const state::Snapshot& s, Families& out) const override {
    auto up = detail::family("composewatch_engine_up", "1 when the last call to the Docker engine succeeded.",
                             MetricType::Gauge);
    detail::add(up, {}, s.engine.up ? 1 : 0);
    out.push_back(std::move(up));

    if (!s.engine.version.empty()) {
      auto info = detail::family("composewatch_engine_info", "The Docker engine's version and API version.",
                                 MetricType::Gauge);
      detail::add(info, {{"version", s.engine.version}, {"api_version", s.engine.api_version}}, 1);
      out.push_back(std::move(info));
    }

    auto build = detail::family("composewatch_build_info", "composewatch's version and revision.", MetricType::Gauge);
    detail::add(build, {{"version", kVersion}, {"revision", kRevision}}, 1);
    out.push_back(std::move(build));

    auto events = detail::family("composewatch_events_total", "Engine events processed, by type and action.",
                                 MetricType::Counter);
    for (const auto& e : s.events) detail::add(events, {{"type", e.type}, {"action", e.action}}, double(e.count));
    out.push_back(std::move(events));

    auto reconnects = detail::family("composewatch_event_stream_reconnects_total",
                                     "Times the engine event stream was re-established after a disconnect.",
                                     MetricType::Counter);
    detail::add(reconnects, {}, double(s.engine.stream_reconnects));
    out.push_back(std::move(reconnects));

    auto gap = detail::family("composewatch_event_gap_seconds",
                              "How long the agent was blind to engine events at its last (re)connect beyond what "
                              "the engine could replay; 0 when nothing can have been missed.",
                              MetricType::Gauge);
    detail::add(gap, {}, s.engine.event_gap_seconds);
    out.push_back(std::move(gap));

    if (s.engine.event_gap_at) {
      auto gap_at = detail::family("composewatch_event_gap_timestamp_seconds",
                                   "When the last (re)connect that found events missed (event_gap_seconds > 0) "
                                   "happened; absent while none has since the agent started.",
                                   MetricType::Gauge);
      detail::add(gap_at, {}, *s.engine.event_gap_at);
      out.push_back(std::move(gap_at));
    }

    // Every kind from the start, at 0: rate() needs the series before the first error.
    auto errors = detail::family("composewatch_event_stream_errors_total",
                                 "Engine event stream lines lost: not an event (parse), longer than the line "
                                 "limit (oversized), cut short by the end of the stream (truncated).",
                                 MetricType::Counter);
    detail::add(errors, {{"kind", "parse"}}, double(s.engine.stream_errors.parse));
    detail::add(errors, {{"kind", "oversized"}}, double(s.engine.stream_errors.oversized));
    detail::add(errors, {{"kind", "truncated"}}, double(s.engine.stream_errors.truncated));
    out.push_back(std::move(errors));
  }
};

}  // namespace

std::unique_ptr<Collector> make_engine_collector() { return std::make_unique<EngineCollector>(); }

}  // namespace composewatch::metrics
