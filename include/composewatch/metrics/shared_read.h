#pragma once
// One read of the running containers' resources, shared by the scrapes (and status page
// renders) that ask for the same snapshot at the same moment: a scrape that arrives while
// a read of its snapshot is in flight waits for that read and takes its result, and a
// result stays good for the same snapshot for `max_age`. Prometheus servers scraping
// together, or a scrape and the status page, so cost one pass over the cgroup files.
//
// Who reads: the caller that starts the read (a handler thread of the HTTP server), the
// callers that wait for it, and, with Options::helper, one task posted to another thread
// (the server's handler pool) — all take containers from one shared counter, so a helper
// that cannot start at once costs nothing and nobody waits for a task that never ran.
// Reading ~9 files per container is syscall-bound: a second thread halves a large pass.
// No thread is started here.
//
// Error policy: get() never throws for a failing read: a container whose read throws
// (anything, std::bad_alloc included) is left out of the result and counted in `failed`
// (the collector then reports composewatch_collector_success 0).
//
// Thread-safety: get() may be called from any number of threads at once; the ReadOne
// function is called from them and must be thread-safe (cgroup::Reader::read is).

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "composewatch/docker/stats.h"
#include "composewatch/state/model.h"

namespace composewatch::cgroup {
class Reader;
}

namespace composewatch::metrics {

// The figures of a snapshot's running and paused containers, by full container id.
struct ResourceReadings {
  std::map<std::string, std::optional<docker::ResourceStats>, std::less<>> by_id;  // nullopt: the cgroup is gone
  std::size_t failed = 0;   // reads that threw; those containers are not in by_id
  std::string first_error;  // what the first of them threw

  // The figures of `id`, nullopt when there are none (gone, failed, not running).
  std::optional<docker::ResourceStats> of(std::string_view id) const;
};

// The containers whose resources are reported: present, and running or paused.
bool reports_resources(const state::ContainerRecord& r);

class SharedRead {
 public:
  using ReadOne = std::function<std::optional<docker::ResourceStats>(const state::ContainerRecord&)>;
  using Post = std::function<void(std::function<void()>)>;
  struct Options {
    std::chrono::milliseconds max_age{1'000};  // a finished read serves its snapshot this long
    // Runs a task on another thread (may run it late or never); null: no helper.
    Post helper;
    // Containers; below that the caller reads alone. A second thread halves a large read's
    // wall time but costs CPU (the two threads' path lookups contend in the kernel): at 200
    // containers one thread took 14.0 ms of CPU a scrape against 15.3 with two, p99 20 ms
    // against 17 (docs/benchmarks.md, "Scrape cost").
    std::size_t help_from = 400;
  };

  SharedRead(ReadOne read, Options options);
  explicit SharedRead(ReadOne read);
  ~SharedRead();
  SharedRead(const SharedRead&) = delete;
  SharedRead& operator=(const SharedRead&) = delete;

  // The figures for `snapshot`'s containers that reports_resources(). Shared between
  // callers with the same Snapshot::sequence (see above); a snapshot with sequence 0 (not
  // published by a StateModel: hand-built in tests) is always read afresh.
  std::shared_ptr<const ResourceReadings> get(const state::Snapshot& snapshot) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A SharedRead over cgroup::Reader::read.
std::shared_ptr<const SharedRead> shared_cgroup_read(std::shared_ptr<const cgroup::Reader> reader,
                                                     SharedRead::Options options = {});

}  // namespace composewatch::metrics
