// process_* metrics of the agent itself, from /proc/self (as client_golang and
// node_exporter export them).

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <stdexcept>
#include <string_view>

#include "composewatch/metrics/collector.h"
#include "composewatch/metrics/text_writer.h"

namespace composewatch::metrics {
namespace {

struct ProcStat {
  double utime = 0, stime = 0, starttime = 0, vsize = 0, rss_pages = 0;
};

ProcStat read_proc_stat() {
  // One read into a buffer and the fields parsed in place: this runs at every scrape.
  char buf[1024];
  const int fd = ::open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("/proc/self/stat: cannot open");
  const ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  if (n <= 0) throw std::runtime_error("/proc/self/stat: cannot read");
  const std::string_view text(buf, std::size_t(n));
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  const auto close = text.rfind(')');
  if (close == std::string_view::npos) throw std::runtime_error("/proc/self/stat: unexpected format");
  std::string_view rest = text.substr(close + 1);
  // The fields 3 (state) to 24 (rss) of proc(5), by number.
  std::array<std::string_view, 25> fields{};
  for (std::size_t i = 3; i < fields.size(); ++i) {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    const auto end = std::min(rest.find(' '), rest.size());
    fields[i] = rest.substr(0, end);
    rest.remove_prefix(end);
  }
  auto field = [&](std::size_t i) {
    double v = 0;
    const auto f = fields[i];
    if (std::from_chars(f.data(), f.data() + f.size(), v).ec != std::errc() || f.empty())
      throw std::runtime_error("/proc/self/stat: unexpected format");
    return v;
  };
  return ProcStat{field(14), field(15), field(22), field(23), field(24)};
}

// When the machine booted, from the clocks rather than /proc/stat's btime: under
// ProcSubset=pid (the systemd unit) only /proc/<pid> entries are there.
double boot_time() {
  timespec real{}, boot{};
  clock_gettime(CLOCK_REALTIME, &real);
  clock_gettime(CLOCK_BOOTTIME, &boot);
  return double(real.tv_sec - boot.tv_sec) + double(real.tv_nsec - boot.tv_nsec) / 1e9;
}

double open_fds() {
  DIR* d = opendir("/proc/self/fd");
  if (!d) return 0;
  double n = 0;
  while (auto* e = readdir(d))
    if (e->d_name[0] != '.') ++n;
  closedir(d);
  return n - 1;  // the directory handle itself
}

class ProcessCollector final : public Collector {
 public:
  ProcessCollector()
      : ticks_(double(sysconf(_SC_CLK_TCK))), page_(double(sysconf(_SC_PAGESIZE))), btime_(boot_time()) {}
  std::string_view name() const override { return "process"; }
  void collect(const state::Snapshot&, TextWriter& out) const override {
    ProcStat st = read_proc_stat();
    auto gauge = [&](const char* name, const char* help, double v) {
      out.family(name, help, MetricType::gauge);
      out.sample(v);
    };
    out.family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", MetricType::counter);
    out.sample((st.utime + st.stime) / ticks_);
    gauge("process_resident_memory_bytes", "Resident memory size in bytes.", st.rss_pages * page_);
    gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", st.vsize);
    gauge("process_open_fds", "Number of open file descriptors.", open_fds());
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
      gauge("process_max_fds", "Maximum number of open file descriptors.", double(rl.rlim_cur));
    gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
          btime_ + st.starttime / ticks_);
  }

 private:
  double ticks_, page_, btime_;
};

}  // namespace

std::unique_ptr<Collector> make_process_collector() { return std::make_unique<ProcessCollector>(); }

}  // namespace composewatch::metrics
