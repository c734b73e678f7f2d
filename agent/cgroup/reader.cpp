// The cgroup files of one container, read with as few syscalls as the kernel allows:
// open, one read into a stack buffer, close.

#include "composewatch/cgroup/reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "composewatch/cgroup/parse.h"

namespace composewatch::cgroup {

namespace {

// The whole text of a small pseudo-file. seq_file reads fill the caller's buffer up to
// its size or EOF, so one read() is the whole file unless it is larger than the buffer.
class SmallFile {
 public:
  // 0 on success, else the errno of open/read.
  int read(const std::string& path) {
    big_.clear();
    n_ = 0;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    ssize_t r;
    do r = ::read(fd, buf_, sizeof buf_);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
      int err = errno;
      ::close(fd);
      return err;
    }
    n_ = std::size_t(r);
    if (n_ == sizeof buf_) {  // rare: more than the buffer holds
      big_.assign(buf_, n_);
      char more[4096];
      while ((r = ::read(fd, more, sizeof more)) > 0 || (r < 0 && errno == EINTR))
        if (r > 0) big_.append(more, std::size_t(r));
    }
    ::close(fd);
    return 0;
  }
  std::string_view text() const { return big_.empty() ? std::string_view(buf_, n_) : std::string_view(big_); }

 private:
  char buf_[8192];
  std::size_t n_ = 0;
  std::string big_;
};

bool dir_exists(const std::string& dir) { return ::access(dir.c_str(), F_OK) == 0; }

std::string in_hierarchy(const Hierarchy& h, const std::string& path) {
  if (h.root == "/" || h.root.empty()) return h.dir + path;
  // Mounted from a sub-tree (inside a cgroup namespace): strip the mounted root.
  if (path.compare(0, h.root.size(), h.root) == 0 && (path.size() == h.root.size() || path[h.root.size()] == '/'))
    return h.dir + path.substr(h.root.size());
  return h.dir + path;
}

}  // namespace

struct Reader::Paths {
  std::string memory, cpuacct, cpu, pids, blkio;  // v2: all the same directory
};

Reader::Reader(Layout layout) : layout_(std::move(layout)) {}

bool Reader::readable() const {
  const std::string& dir = layout_.version == Version::v1 ? layout_.memory.dir : layout_.unified.dir;
  return !dir.empty() && ::access(dir.c_str(), R_OK | X_OK) == 0 && ::access(layout_.proc.c_str(), R_OK | X_OK) == 0;
}

std::optional<Reader::Paths> Reader::paths_of(const ContainerRef& c) const {
  Paths p;
  std::string rel = container_path(layout_.driver, c.id, c.cgroup_parent);
  if (layout_.version == Version::v2) {
    p.memory = p.cpuacct = p.cpu = p.pids = p.blkio = in_hierarchy(layout_.unified, rel);
  } else {
    auto at = [&](const Hierarchy& h) { return h.present() ? in_hierarchy(h, rel) : std::string(); };
    p.memory = at(layout_.memory);
    p.cpuacct = at(layout_.cpuacct);
    p.cpu = at(layout_.cpu);
    p.pids = at(layout_.pids);
    p.blkio = at(layout_.blkio);
  }
  return p;
}

namespace {

// Where the kernel says the process is: for a daemon-wide --cgroup-parent, which the
// API does not show. Only a cgroup named after the container (".../<id>",
// ".../docker-<id>.scope") counts: an engine in a pid namespace of its own (one run in a
// container without --pid host) reports pids that are other processes' on this host.
std::optional<std::string> from_proc(const Layout& l, std::string_view id, int pid, std::string_view controller,
                                     const Hierarchy& h) {
  if (pid <= 0 || !h.present() || id.empty()) return std::nullopt;
  SmallFile f;
  if (f.read(l.proc + "/" + std::to_string(pid) + "/cgroup") != 0) return std::nullopt;
  auto path = parse_proc_cgroup(f.text(), controller);
  if (!path) return std::nullopt;
  const std::string_view leaf = std::string_view(*path).substr(path->rfind('/') + 1);
  if (leaf.find(id) == std::string_view::npos) return std::nullopt;
  return in_hierarchy(h, *path);
}

}  // namespace

std::optional<docker::ResourceStats> Reader::read(const ContainerRef& c) const {
  auto p = paths_of(c);
  if (!p) return std::nullopt;
  auto stats = layout_.version == Version::v1 ? read_v1(c, *p) : read_v2(c, *p);
  if (stats || c.pid <= 0) return stats;
  // The id-based path does not exist: ask the kernel where the container's init is.
  Paths q;
  if (layout_.version == Version::v2) {
    auto d = from_proc(layout_, c.id, c.pid, "", layout_.unified);
    if (!d || *d == p->memory) return std::nullopt;
    q.memory = q.cpuacct = q.cpu = q.pids = q.blkio = *d;
    return read_v2(c, q);
  }
  auto m = from_proc(layout_, c.id, c.pid, "memory", layout_.memory);
  if (!m || *m == p->memory) return std::nullopt;
  q.memory = *m;
  q.cpuacct = from_proc(layout_, c.id, c.pid, "cpuacct", layout_.cpuacct).value_or("");
  q.cpu = from_proc(layout_, c.id, c.pid, "cpu", layout_.cpu).value_or("");
  q.pids = from_proc(layout_, c.id, c.pid, "pids", layout_.pids).value_or("");
  q.blkio = from_proc(layout_, c.id, c.pid, "blkio", layout_.blkio).value_or("");
  return read_v1(c, q);
}

namespace {

// Reads dir/name. Returns the outcome: ok, missing (the file, not the cgroup) or gone.
enum class Outcome { ok, missing, gone };

struct FileReader {
  // Not an aggregate: `FileReader{hook, {}, {}}` value-initialized the 8 KiB buffer, a
  // memset per container at each scrape.
  explicit FileReader(const std::function<void(const std::string&)>& h) : hook(h) { path.reserve(256); }

  const std::function<void(const std::string&)>& hook;
  SmallFile file;
  std::string path;

  Outcome read(const std::string& dir, std::string_view name) {
    if (dir.empty()) return Outcome::missing;  // controller not mounted
    path.assign(dir).append("/").append(name);
    if (hook) hook(path);
    int err = file.read(path);
    if (err == 0) return Outcome::ok;
    // ENOENT: the file, or the whole cgroup (removed by the runtime as the container stops).
    // ENODEV: a cgroup being torn down.
    if ((err == ENOENT || err == ENODEV) && !dir_exists(dir)) return Outcome::gone;
    return Outcome::missing;
  }
  std::string_view text() const { return file.text(); }

  // Hands the text of dir/name to `use`. False when the cgroup is gone (the container
  // vanished mid-read); a missing file only leaves its figures unset.
  template <class F>
  bool with(const std::string& dir, std::string_view name, F&& use) {
    switch (read(dir, name)) {
      case Outcome::gone:
        return false;
      case Outcome::ok:
        use(text());
        return true;
      case Outcome::missing:
        return true;
    }
    return true;
  }
};

}  // namespace

std::optional<docker::ResourceStats> Reader::read_v1(const ContainerRef& c, const Paths& p) const {
  docker::ResourceStats s;
  FileReader f(before_open_);

  if (!f.with(p.memory, "memory.usage_in_bytes", [&](std::string_view t) { s.memory_usage_bytes = parse_u64(t); }))
    return std::nullopt;
  if (!f.with(p.memory, "memory.limit_in_bytes", [&](std::string_view t) { s.memory_limit_bytes = parse_v1_limit(t); }))
    return std::nullopt;
  if (!f.with(p.memory, "memory.stat", [&](std::string_view t) {
        if (s.memory_usage_bytes)
          s.memory_working_set_bytes = docker::working_set(*s.memory_usage_bytes, flat_keyed(t, "total_inactive_file"));
      }))
    return std::nullopt;
  if (!f.with(p.cpuacct, "cpuacct.usage", [&](std::string_view t) {
        if (auto ns = parse_u64(t)) s.cpu_seconds = double(*ns) / 1e9;
      }))
    return std::nullopt;
  if (!f.with(p.cpu, "cpu.stat", [&](std::string_view t) {
        if (auto ns = flat_keyed(t, "throttled_time")) s.cpu_throttled_seconds = double(*ns) / 1e9;
        s.cpu_periods = flat_keyed(t, "nr_periods");
        s.cpu_throttled_periods = flat_keyed(t, "nr_throttled");
      }))
    return std::nullopt;
  if (!f.with(p.pids, "pids.current", [&](std::string_view t) { s.pids = parse_u64(t); })) return std::nullopt;
  if (!f.with(p.blkio, "blkio.throttle.io_service_bytes", [&](std::string_view t) {
        auto io = parse_blkio_v1(t);
        s.blkio_read_bytes = io.read;
        s.blkio_write_bytes = io.write;
      }))
    return std::nullopt;
  read_network(c, s);
  return s;
}

std::optional<docker::ResourceStats> Reader::read_v2(const ContainerRef& c, const Paths& p) const {
  docker::ResourceStats s;
  FileReader f(before_open_);
  const std::string& dir = p.memory;

  if (!f.with(dir, "memory.current", [&](std::string_view t) { s.memory_usage_bytes = parse_u64(t); }))
    return std::nullopt;
  if (!f.with(dir, "memory.max", [&](std::string_view t) { s.memory_limit_bytes = parse_v2_limit(t); }))
    return std::nullopt;
  if (!f.with(dir, "memory.stat", [&](std::string_view t) {
        if (s.memory_usage_bytes)
          s.memory_working_set_bytes = docker::working_set(*s.memory_usage_bytes, flat_keyed(t, "inactive_file"));
      }))
    return std::nullopt;
  if (!f.with(dir, "cpu.stat", [&](std::string_view t) {
        if (auto us = flat_keyed(t, "usage_usec")) s.cpu_seconds = double(*us) / 1e6;
        if (auto us = flat_keyed(t, "throttled_usec")) s.cpu_throttled_seconds = double(*us) / 1e6;
        s.cpu_periods = flat_keyed(t, "nr_periods");
        s.cpu_throttled_periods = flat_keyed(t, "nr_throttled");
      }))
    return std::nullopt;
  if (!f.with(dir, "pids.current", [&](std::string_view t) { s.pids = parse_u64(t); })) return std::nullopt;
  if (!f.with(dir, "io.stat", [&](std::string_view t) {
        auto io = parse_io_stat_v2(t);
        s.blkio_read_bytes = io.read;
        s.blkio_write_bytes = io.write;
      }))
    return std::nullopt;
  read_network(c, s);
  return s;
}

void Reader::read_network(const ContainerRef& c, docker::ResourceStats& s) const {
  // The host's namespace is not the container's; a container: mode shares another
  // container's, which reports it.
  if (c.pid <= 0 || c.network_mode == "host" || c.network_mode.substr(0, 10) == "container:") return;
  std::string path = layout_.proc + "/" + std::to_string(c.pid) + "/net/dev";
  if (before_open_) before_open_(path);
  SmallFile f;
  if (f.read(path) != 0) return;
  if (auto n = parse_net_dev(f.text())) {
    s.network_receive_bytes = n->receive;
    s.network_transmit_bytes = n->transmit;
  }
}

std::optional<std::uint64_t> Reader::oom_kills(const ContainerRef& c) const {
  if (c.pid <= 0) return std::nullopt;
  auto p = paths_of(c);
  if (!p || p->memory.empty()) return std::nullopt;
  SmallFile f;
  const bool v1 = layout_.version == Version::v1;
  if (f.read(p->memory + (v1 ? "/memory.oom_control" : "/memory.events")) != 0) return std::nullopt;
  auto n = flat_keyed(f.text(), "oom_kill");
  if (!n) return std::nullopt;
  if (*n == 0) return n;  // nothing to attribute: the membership check can be spared
  // Read after the counter: if the pid is a member now, the cgroup read above was this
  // instance's (a re-started container gets a new cgroup and a new init).
  if (f.read(p->memory + "/cgroup.procs") != 0 || !procs_contains(f.text(), c.pid)) return std::nullopt;
  return n;
}

std::optional<std::uint64_t> host_oom_kills(const std::string& vmstat) {
  SmallFile f;
  if (f.read(vmstat) != 0) return std::nullopt;
  return flat_keyed(f.text(), "oom_kill");
}

}  // namespace composewatch::cgroup
