// GET /containers/{id}/json and the listing: a result, or ParseError naming the field.

#include "composewatch/engine/container.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace engine = composewatch::engine;
  const std::string_view text = composewatch::fuzz::as_text(data, size);
  try {
    (void)engine::parse_inspect(text);
  } catch (const engine::ParseError&) {
  }
  try {
    (void)engine::parse_container_ids(text);
  } catch (const engine::ParseError&) {
  }
  (void)engine::parse_rfc3339(text.substr(0, 64));
  return 0;
}
