// Where the engine's cgroups are: the hierarchies from mountinfo, the driver from /info,
// and each container's path from its id.

#include <sys/stat.h>

#include <stdexcept>

#include "composewatch/cgroup/parse.h"
#include "composewatch/cgroup/reader.h"

namespace composewatch::cgroup {

namespace {

constexpr std::string_view kSysCgroup = "/sys/fs/cgroup";

bool is_dir(const std::string& p) {
  struct stat st{};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string rebase(const std::string& mount_point, std::string_view cgroup_root) {
  std::string_view mp = mount_point;
  if (mp.substr(0, kSysCgroup.size()) == kSysCgroup &&
      (mp.size() == kSysCgroup.size() || mp[kSysCgroup.size()] == '/'))
    return std::string(cgroup_root) + std::string(mp.substr(kSysCgroup.size()));
  return mount_point;
}

bool has(const std::vector<std::string>& v, std::string_view s) {
  for (const auto& x : v)
    if (x == s) return true;
  return false;
}

// systemd's slice naming: "a-b-c.slice" lives in "/a.slice/a-b.slice/a-b-c.slice".
std::string expand_slice(std::string_view slice) {
  constexpr std::string_view suffix = ".slice";
  if (slice == "-.slice" || slice.empty()) return "";
  if (slice.size() <= suffix.size() || slice.substr(slice.size() - suffix.size()) != suffix ||
      slice.find('/') != std::string_view::npos)
    return "/" + std::string(slice);  // not a slice name: taken as a path, as runc would fail anyway
  std::string_view stem = slice.substr(0, slice.size() - suffix.size());
  std::string path;
  for (std::size_t dash = stem.find('-'); dash != std::string_view::npos; dash = stem.find('-', dash + 1))
    path += "/" + std::string(stem.substr(0, dash)) + std::string(suffix);
  path += "/" + std::string(slice);
  return path;
}

}  // namespace

std::string Layout::describe() const {
  std::string s = version == Version::v1 ? "cgroup v1" : "cgroup v2";
  s += driver == Driver::systemd ? ", systemd driver" : ", cgroupfs driver";
  s += version == Version::v1 ? ", memory at " + memory.dir : ", mounted at " + unified.dir;
  return s;
}

Layout detect_layout(std::string_view mountinfo, const docker::EngineCgroupInfo& info, std::string_view cgroup_root,
                     std::string proc_root) {
  auto mounts = parse_mountinfo(mountinfo);
  Layout l;
  l.proc = std::move(proc_root);

  auto v1_of = [&](std::string_view controller) {
    for (const auto& m : mounts)
      if (!m.v2 && has(m.controllers, controller)) return Hierarchy{rebase(m.mount_point, cgroup_root), m.root};
    return Hierarchy{};
  };
  Hierarchy unified;
  for (const auto& m : mounts) {
    if (!m.v2) continue;
    // A hybrid host mounts cgroup2 at /sys/fs/cgroup/unified for systemd only; the
    // unified host mounts it at /sys/fs/cgroup itself.
    if (!unified.present() || m.mount_point == kSysCgroup) unified = Hierarchy{rebase(m.mount_point, cgroup_root), m.root};
  }
  l.memory = v1_of("memory");

  if (info.version == "2")
    l.version = Version::v2;
  else if (info.version == "1")
    l.version = Version::v1;
  else
    l.version = l.memory.present() ? Version::v1 : Version::v2;

  if (l.version == Version::v1) {
    if (!l.memory.present()) throw std::runtime_error("no cgroup v1 memory hierarchy is mounted");
    l.cpuacct = v1_of("cpuacct");
    l.cpu = v1_of("cpu");
    l.pids = v1_of("pids");
    l.blkio = v1_of("blkio");
  } else {
    if (!unified.present()) throw std::runtime_error("no cgroup2 hierarchy is mounted");
    l.unified = unified;
    l.memory = Hierarchy{};
  }

  if (info.driver == "systemd") {
    l.driver = Driver::systemd;
  } else if (info.driver == "cgroupfs") {
    l.driver = Driver::cgroupfs;
  } else {
    const std::string& base = l.version == Version::v1 ? l.memory.dir : l.unified.dir;
    if (is_dir(base + "/docker"))
      l.driver = Driver::cgroupfs;
    else if (is_dir(base + "/system.slice"))
      l.driver = Driver::systemd;
    else
      l.driver = l.version == Version::v2 ? Driver::systemd : Driver::cgroupfs;
  }
  return l;
}

std::string container_path(Driver driver, std::string_view id, std::string_view cgroup_parent) {
  if (driver == Driver::systemd) {
    std::string_view parent = cgroup_parent.empty() ? std::string_view("system.slice") : cgroup_parent;
    return expand_slice(parent) + "/docker-" + std::string(id) + ".scope";
  }
  std::string parent = cgroup_parent.empty() ? std::string("/docker") : std::string(cgroup_parent);
  if (parent.front() != '/') parent.insert(parent.begin(), '/');
  while (parent.size() > 1 && parent.back() == '/') parent.pop_back();
  if (parent == "/") parent.clear();
  return parent + "/" + std::string(id);
}

std::optional<std::string> parse_proc_cgroup(std::string_view text, std::string_view controller) {
  // "hierarchy-ID:controller-list:cgroup-path"; v2 is "0::/path".
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    auto c1 = line.find(':');
    if (c1 == std::string_view::npos) continue;
    auto c2 = line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    std::string_view list = line.substr(c1 + 1, c2 - c1 - 1);
    std::string_view path = line.substr(c2 + 1);
    if (controller.empty()) {
      if (list.empty() && line.substr(0, c1) == "0") return std::string(path);
      continue;
    }
    while (!list.empty()) {
      auto comma = list.find(',');
      if (list.substr(0, comma) == controller) return std::string(path);
      list.remove_prefix(comma == std::string_view::npos ? list.size() : comma + 1);
    }
  }
  return std::nullopt;
}

}  // namespace composewatch::cgroup
