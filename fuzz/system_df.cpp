// GET /system/df, and the `docker system df` rows computed from it; GET /info's root dir.

#include "composewatch/engine/container.h"
#include "composewatch/engine/objects.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace engine = composewatch::engine;
  const std::string_view text = composewatch::fuzz::as_text(data, size);
  try {
    (void)engine::summarize(engine::parse_system_df(text));
  } catch (const engine::ParseError&) {
  }
  try {
    (void)engine::parse_docker_root_dir(text);
  } catch (const engine::ParseError&) {
  }
  return 0;
}
