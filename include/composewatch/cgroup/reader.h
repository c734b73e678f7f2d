#pragma once
// Reads a container's resources straight from its cgroup files and its network
// namespace's /proc/<pid>/net/dev: cgroup v1 and v2, cgroupfs and systemd drivers,
// HostConfig.CgroupParent. The layout is detected once at start; the path of each
// container follows from its id (as dockerd and runc build it).
//
// Cost: one open/read/close per file into a stack buffer, no iostreams; 8 files per
// container on v1, 6 on v2. Thread-safety: a Reader is immutable after construction;
// read() may run on any number of threads at once.
//
// Error policy: detect_layout() throws std::runtime_error when no usable hierarchy is
// mounted. read() never throws: a container whose cgroup is gone (removed before or
// during the read) gives nullopt; a file that is missing while its cgroup exists leaves
// that figure absent.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "composewatch/docker/info.h"
#include "composewatch/docker/stats.h"

namespace composewatch::cgroup {

enum class Version { v1, v2 };
enum class Driver { cgroupfs, systemd };

struct Hierarchy {
  std::string dir;         // where it is mounted (rebased onto the reader's cgroup root)
  std::string root = "/";  // the hierarchy path mounted there
  bool present() const { return !dir.empty(); }
};

struct Layout {
  Version version = Version::v1;
  Driver driver = Driver::cgroupfs;
  Hierarchy memory, cpuacct, cpu, pids, blkio;  // v1
  Hierarchy unified;                            // v2
  std::string proc = "/proc";
  std::string describe() const;  // "cgroup v1, cgroupfs driver, memory at /sys/fs/cgroup/memory"
};

// Picks the engine's hierarchies from /proc/self/mountinfo. The version is the
// engine's CgroupVersion when known (a hybrid host mounts both); otherwise v1 when a
// v1 memory hierarchy is mounted, else v2. Without a CgroupDriver the driver is
// guessed from which parent exists ("docker" -> cgroupfs, "system.slice" -> systemd).
// Mount points under /sys/fs/cgroup are rebased onto `cgroup_root` (tests point it at
// a fixture tree). Throws std::runtime_error when the needed hierarchy is not mounted.
Layout detect_layout(std::string_view mountinfo, const docker::EngineCgroupInfo& info,
                     std::string_view cgroup_root = "/sys/fs/cgroup", std::string proc_root = "/proc");

// The container's path inside a hierarchy, as dockerd and runc make it:
// cgroupfs "/docker/<id>" or "<CgroupParent>/<id>"; systemd
// "/system.slice/docker-<id>.scope", a CgroupParent slice expanded as systemd does
// ("a-b.slice" -> "/a.slice/a-b.slice").
std::string container_path(Driver driver, std::string_view id, std::string_view cgroup_parent);

// /proc/<pid>/cgroup: the path of `controller` ("memory"; "" for the v2 hierarchy).
std::optional<std::string> parse_proc_cgroup(std::string_view text, std::string_view controller);

struct ContainerRef {
  std::string_view id;  // full id
  int pid = 0;          // State.Pid; 0 when not running
  std::string_view cgroup_parent;
  std::string_view network_mode;  // "host": no network figures; "container:<x>": skipped
};

// The kernel's count of OOM kills on the whole host since boot: `oom_kill` of
// /proc/vmstat (Linux 4.13 and later), the same in any container. nullopt when the file
// cannot be read or has no such line.
std::optional<std::uint64_t> host_oom_kills(const std::string& vmstat = "/proc/vmstat");

class Reader {
 public:
  explicit Reader(Layout layout);

  const Layout& layout() const { return layout_; }

  // The probe of --stats.source=auto: the memory hierarchy and /proc can be listed.
  bool readable() const;

  // The container's figures; nullopt when its cgroup is gone.
  std::optional<docker::ResourceStats> read(const ContainerRef& c) const;

  // The cgroup's own OOM-kill counter (v1 memory.oom_control, v2 memory.events), only
  // when c.pid is still a member of the cgroup after the counter was read, so that the
  // figure belongs to the container instance whose init is c.pid. nullopt otherwise. A
  // counter of 0 is returned without that check (the OOM folder reads every running
  // container every 10 s; a zero is nobody's kill).
  std::optional<std::uint64_t> oom_kills(const ContainerRef& c) const;

  // Tests only: called with each path before it is opened (to remove a cgroup mid-read).
  void set_before_open(std::function<void(const std::string&)> hook) { before_open_ = std::move(hook); }

 private:
  struct Paths;
  std::optional<Paths> paths_of(const ContainerRef& c) const;
  std::optional<docker::ResourceStats> read_v1(const ContainerRef& c, const Paths& p) const;
  std::optional<docker::ResourceStats> read_v2(const ContainerRef& c, const Paths& p) const;
  void read_network(const ContainerRef& c, docker::ResourceStats& s) const;

  Layout layout_;
  std::function<void(const std::string&)> before_open_;
};

}  // namespace composewatch::cgroup
