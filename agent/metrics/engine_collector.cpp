// composewatch_engine_*, composewatch_build_info, composewatch_events_total,
// composewatch_event_stream_reconnects_total, composewatch_event_stream_errors_total.

#include "composewatch/metrics/collector.h"
#include "composewatch/metrics/text_writer.h"
#include "composewatch/version.h"

namespace composewatch::metrics {
namespace {

class EngineCollector final : public Collector {
 public:
  std::string_view name() const override { return "engine"; }
  void collect(const state::Snapshot& s, TextWriter& out) const override {
    out.family("composewatch_engine_up", "1 when the last call to the Docker engine succeeded.", MetricType::gauge);
    out.sample(s.engine.up ? 1 : 0);

    if (!s.engine.version.empty()) {
      out.family("composewatch_engine_info", "The Docker engine's version and API version.", MetricType::gauge);
      out.sample({{"version", s.engine.version}, {"api_version", s.engine.api_version}}, 1);
    }

    out.family("composewatch_build_info", "composewatch's version and revision.", MetricType::gauge);
    out.sample({{"version", kVersion}, {"revision", kRevision}}, 1);

    out.family("composewatch_events_total", "Engine events processed, by type and action.", MetricType::counter);
    for (const auto& e : s.events) out.sample({{"type", e.type}, {"action", e.action}}, double(e.count));

    out.family("composewatch_event_stream_reconnects_total",
               "Times the engine event stream was re-established after a disconnect.", MetricType::counter);
    out.sample(double(s.engine.stream_reconnects));

    out.family("composewatch_event_gap_seconds",
               "How long the agent was blind to engine events at its last (re)connect beyond what "
               "the engine could replay; 0 when nothing can have been missed.",
               MetricType::gauge);
    out.sample(s.engine.event_gap_seconds);

    if (s.engine.event_gap_at) {
      out.family("composewatch_event_gap_timestamp_seconds",
                 "When the last (re)connect that found events missed (event_gap_seconds > 0) "
                 "happened; absent while none has since the agent started.",
                 MetricType::gauge);
      out.sample(*s.engine.event_gap_at);
    }

    // Every kind from the start, at 0: rate() needs the series before the first error.
    out.family("composewatch_event_stream_errors_total",
               "Engine event stream lines lost: not an event (parse), longer than the line "
               "limit (oversized), cut short by the end of the stream (truncated).",
               MetricType::counter);
    out.sample({{"kind", "parse"}}, double(s.engine.stream_errors.parse));
    out.sample({{"kind", "oversized"}}, double(s.engine.stream_errors.oversized));
    out.sample({{"kind", "truncated"}}, double(s.engine.stream_errors.truncated));
  }
};

}  // namespace

std::unique_ptr<Collector> make_engine_collector() { return std::make_unique<EngineCollector>(); }

}  // namespace composewatch::metrics
