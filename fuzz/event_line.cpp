// The event stream: bytes split into lines as the chunked body is, each line parsed, the
// events de-duplicated as after a reconnect. Never throws; any input is a result or an error.

#include "composewatch/docker/event.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace docker = composewatch::docker;
  docker::LineSplitter lines(4096);
  docker::EventDeduplicator seen(16);
  lines.feed(composewatch::fuzz::as_text(data, size), [&](std::string_view line) {
    docker::EventParseResult r = docker::parse_event(line);
    if (!r.event) return;
    (void)docker::format_since(r.event->time_nano);
    (void)seen.first_time(*r.event);
  });
  return 0;
}
