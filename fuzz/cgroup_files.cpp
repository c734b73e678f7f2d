// Every cgroup v1/v2 file parser, /proc/<pid>/net/dev, /proc/<pid>/cgroup membership and
// mountinfo, on the same bytes. They return empty results for garbage; none throws.

#include "composewatch/cgroup/parse.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace cg = composewatch::cgroup;
  const std::string_view text = composewatch::fuzz::as_text(data, size);
  (void)cg::parse_u64(text);
  (void)cg::parse_v1_limit(text);
  (void)cg::parse_v2_limit(text);
  for (const char* key : {"total_inactive_file", "inactive_file", "oom_kill", "usage_usec", "throttled_time"})
    (void)cg::flat_keyed(text, key);
  (void)cg::parse_blkio_v1(text);
  (void)cg::parse_io_stat_v2(text);
  (void)cg::parse_net_dev(text);
  (void)cg::procs_contains(text, 4242);
  (void)cg::parse_mountinfo(text);
  return 0;
}
