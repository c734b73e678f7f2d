#pragma once
// Parsers for cgroup v1/v2 files, /proc/<pid>/net/dev and /proc/self/mountinfo: pure
// functions over the files' text (the kernel's formats, Documentation/admin-guide/
// cgroup-v1 and cgroup-v2.rst, proc(5)). None throws: malformed or missing input gives
// nullopt (or zeros where a sum over nothing is the right answer, as for an io.stat
// with no devices).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace composewatch::cgroup {

// A file holding one unsigned integer ("12345\n"): memory.current, pids.current,
// cpuacct.usage, memory.usage_in_bytes.
std::optional<std::uint64_t> parse_u64(std::string_view text);

// v2 memory.max / pids.max: the literal "max" is unlimited (nullopt).
std::optional<std::uint64_t> parse_v2_limit(std::string_view text);

// v1 memory.limit_in_bytes: unlimited is a huge sentinel (PAGE_COUNTER_MAX pages,
// 0x7FFFFFFFFFFFF000 with 4 KiB pages); anything at or above 2^62 is taken as
// unlimited (nullopt).
std::optional<std::uint64_t> parse_v1_limit(std::string_view text);

// "key value" lines (memory.stat, cpu.stat, memory.events, memory.oom_control): the
// value of `key`, nullopt when the key is not there.
std::optional<std::uint64_t> flat_keyed(std::string_view text, std::string_view key);


struct IoBytes {
  std::uint64_t read = 0, write = 0;
};
// v1 blkio.throttle.io_service_bytes: "MAJ:MIN Read N" / "MAJ:MIN Write N" lines summed
// over devices; the trailing "Total N" line is ignored.
IoBytes parse_blkio_v1(std::string_view text);
// v2 io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N ..." summed over devices.
IoBytes parse_io_stat_v2(std::string_view text);

struct NetBytes {
  std::uint64_t receive = 0, transmit = 0;
};
// /proc/<pid>/net/dev: receive and transmit bytes summed over every interface but lo.
// nullopt when the header is not the one of proc(5).
std::optional<NetBytes> parse_net_dev(std::string_view text);

// Whether `pid` is listed in a cgroup.procs file (one pid per line).
bool procs_contains(std::string_view text, int pid);

// One mount of /proc/self/mountinfo that is a cgroup hierarchy.
struct CgroupMount {
  std::string mount_point;  // unescaped (\040 -> ' ')
  std::string root;         // the hierarchy path mounted there ("/" on the host)
  bool v2 = false;
  std::vector<std::string> controllers;  // v1 only: from the super options ("cpu", "cpuacct", "name=systemd")
};
std::vector<CgroupMount> parse_mountinfo(std::string_view text);

}  // namespace composewatch::cgroup
