// agent/images: a Dockerfile parsed (directives, continuations, heredocs, stages, ARG
// substitution), its RUN scripts split into commands and every Dockerfile check run over it;
// the same bytes read as a .dockerignore and matched against a few paths. Must never crash
// or hang, whatever the input.

#include "composewatch/images/build_checks.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace images = composewatch::images;
  const std::string_view text = composewatch::fuzz::as_text(data, size);
  const images::Dockerfile df = images::parse_dockerfile(text, {{"BASE", "alpine:3.19"}});
  for (const auto& ins : df.instructions) (void)images::split_commands(images::run_script(ins));
  (void)images::check_dockerfile(df, "Dockerfile");
  if (!df.stages.empty()) (void)images::check_dockerfile(df, "Dockerfile", df.stages.front().name);
  const auto ignore = images::IgnoreMatcher::parse(text);
  for (const char* path : {".git", "node_modules/a/b", "src/main.c", ".env.local", "a/b/c/d/e/f/g/h"})
    (void)ignore.excluded(path);
  return 0;
}
