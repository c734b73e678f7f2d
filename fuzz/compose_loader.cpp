// The Compose loader end to end (YAML, interpolation, extends/include, merge of -f files,
// normalisation, the JSON model): a project, or LoadError "FILE:LINE: reason".
//
// The input is docker-compose.yml in a scratch directory; a line "#== override" splits
// off a second file given as the next -f, so that merges are reached. Next to them are a
// base.yml to extend or include and a .env.

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "composewatch/compose/loader.h"
#include "fuzz_input.h"

namespace {

namespace fs = std::filesystem;

struct Scratch {
  fs::path dir;
  Scratch() {
    std::string templ = (fs::temp_directory_path() / "cw-fuzz-compose-XXXXXX").string();
    if (::mkdtemp(templ.data()) == nullptr) std::abort();
    dir = templ;
    write("base.yml", "services:\n  base:\n    image: busybox\n    mem_limit: 64m\n    environment: [A=$A]\n");
    write(".env", "A=1\nB=${A:-2}\n");
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  void write(const std::string& name, std::string_view text) const {
    std::ofstream(dir / name, std::ios::binary | std::ios::trunc).write(text.data(), static_cast<std::streamsize>(text.size()));
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace cc = composewatch::compose;
  static const Scratch scratch;
  const std::string_view text = composewatch::fuzz::as_text(data, size);
  const std::string_view marker = "\n#== override\n";
  const auto split = text.find(marker);

  cc::LoadOptions options;
  options.files = {(scratch.dir / "docker-compose.yml").string()};
  options.project_name = "fuzz";
  options.environment = {{"A", "x"}, {"HOME", "/home/fuzz"}};
  scratch.write("docker-compose.yml", text.substr(0, split));
  if (split != std::string_view::npos) {
    scratch.write("docker-compose.override.yml", text.substr(split + marker.size()));
    options.files.push_back((scratch.dir / "docker-compose.override.yml").string());
  }
  try {
    (void)cc::to_json(cc::load_project(options));
  } catch (const cc::LoadError&) {
  }
  // The value-level parsers, on the first line.
  const std::string first_line(text.substr(0, std::min<std::size_t>(text.find('\n'), 256)));
  try {
    (void)cc::parse_memory_bytes(first_line);
  } catch (const std::invalid_argument&) {
  }
  try {
    (void)cc::parse_duration_seconds(first_line);
  } catch (const std::invalid_argument&) {
  }
  try {
    (void)cc::interpolate(first_line, {{"A", "x"}, {"EMPTY", ""}});
  } catch (const std::invalid_argument&) {
  }
  (void)cc::normalize_project_name(first_line);
  return 0;
}
