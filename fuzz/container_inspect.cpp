// GET /containers/{id}/json and the listing: a result, or ParseError naming the field.

#include "composewatch/docker/container.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace docker = composewatch::docker;
  const std::string_view text = composewatch::fuzz::as_text(data, size);
  try {
    (void)docker::parse_inspect(text);
  } catch (const docker::ParseError&) {
  }
  try {
    (void)docker::parse_container_ids(text);
  } catch (const docker::ParseError&) {
  }
  (void)docker::parse_rfc3339(text.substr(0, 64));
  return 0;
}
