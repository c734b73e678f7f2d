// GET /system/df, and the `docker system df` rows computed from it; GET /info's root dir.

#include "composewatch/docker/container.h"
#include "composewatch/docker/info.h"
#include "composewatch/docker/objects.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace docker = composewatch::docker;
  const std::string_view text = composewatch::fuzz::as_text(data, size);
  try {
    (void)docker::summarize(docker::parse_system_df(text));
  } catch (const docker::ParseError&) {
  }
  try {
    (void)docker::parse_docker_root_dir(text);
  } catch (const docker::ParseError&) {
  }
  return 0;
}
