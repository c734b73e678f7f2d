#include "composewatch/cgroup/source.h"

#include <fcntl.h>
#include <unistd.h>

#include <stdexcept>

namespace composewatch::cgroup {

namespace {

std::string read_all(const char* path) {
  std::string out;
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[16384];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, std::size_t(n));
  ::close(fd);
  return out;
}

}  // namespace

SourceChoice choose_stats_source(std::string_view setting, bool engine_is_local,
                                 const std::optional<docker::EngineCgroupInfo>& info, const std::string& procfs) {
  if (setting == "api") return {nullptr, "--stats.source=api"};
  const bool forced = setting == "cgroup";
  auto refuse = [&](std::string why) -> SourceChoice {
    if (forced) throw std::runtime_error("--stats.source=cgroup: " + why);
    return {nullptr, why};
  };
  // Forced, the user says the engine's cgroups are here although it is reached over tcp://
  // (a socket proxy in front of the local engine).
  if (!engine_is_local && !forced)
    return refuse("the engine is not on this host (tcp://), its cgroups are not here");
  if (info && info->rootless) return refuse("the engine is rootless");
  if (info && info->driver == "none") return refuse("the engine runs without cgroups (CgroupDriver none)");
  try {
    auto reader = std::make_shared<const Reader>(detect_layout(read_all("/proc/self/mountinfo"), info.value_or(docker::EngineCgroupInfo{}),
                                                               "/sys/fs/cgroup", procfs));
    if (!reader->readable()) return refuse("cannot read " + reader->layout().describe());
    std::string why = reader->layout().describe();
    if (!info) why += " (the engine did not answer /info: driver guessed from the tree)";
    return {std::move(reader), std::move(why)};
  } catch (const std::runtime_error& e) {
    return refuse(e.what());
  }
}

}  // namespace composewatch::cgroup
