#pragma once
// One container's resource figures, in base units, from its cgroup files (or from the
// Engine API's stats when the cgroups cannot be read). A figure the source did not
// give is absent, never 0: an unlimited memory limit, a controller that is not
// enabled, a network namespace that is the host's.

#include <cstdint>
#include <optional>

namespace composewatch::docker {

struct ResourceStats {
  std::optional<std::uint64_t> memory_usage_bytes;
  std::optional<std::uint64_t> memory_working_set_bytes;  // usage - inactive file, floored at 0
  std::optional<std::uint64_t> memory_limit_bytes;        // absent when unlimited
  std::optional<double> cpu_seconds;
  std::optional<double> cpu_throttled_seconds;
  // CFS bandwidth periods in which the container ran (cgroup cpu.stat nr_periods) and those
  // it was throttled in (nr_throttled); both stay 0 without a CPU quota.
  std::optional<std::uint64_t> cpu_periods, cpu_throttled_periods;
  std::optional<std::uint64_t> pids;
  std::optional<std::uint64_t> blkio_read_bytes, blkio_write_bytes;
  std::optional<std::uint64_t> network_receive_bytes, network_transmit_bytes;
};

// The working set as the engine and cAdvisor count it: usage less inactive file pages,
// floored at 0.
inline std::uint64_t working_set(std::uint64_t usage, std::optional<std::uint64_t> inactive_file) {
  const std::uint64_t inactive = inactive_file.value_or(0);
  return usage > inactive ? usage - inactive : 0;
}

}  // namespace composewatch::docker
