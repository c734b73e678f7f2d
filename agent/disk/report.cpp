#include "composewatch/disk/report.h"

#include <sys/statvfs.h>

namespace composewatch::disk {

std::optional<FilesystemUsage> filesystem_usage(const std::string& path) {
  if (path.empty()) return std::nullopt;
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) return std::nullopt;
  const std::uint64_t frag = st.f_frsize ? st.f_frsize : st.f_bsize;
  return FilesystemUsage{.size_bytes = std::uint64_t(st.f_blocks) * frag, .avail_bytes = std::uint64_t(st.f_bavail) * frag};
}

}  // namespace composewatch::disk
