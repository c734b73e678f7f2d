// Single-flight reads of container resources: the first caller for a snapshot starts a
// Flight; every caller of the same snapshot, and a posted helper, claim containers from
// its counter, then wait for the whole result.

#include "composewatch/metrics/shared_read.h"


#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <vector>

#include "composewatch/cgroup/reader.h"
#include "composewatch/log/log.h"

namespace composewatch::metrics {

using SteadyClock = std::chrono::steady_clock;
using Result = std::shared_ptr<const ResourceReadings>;

std::optional<docker::ResourceStats> ResourceReadings::of(std::string_view id) const {
  auto it = by_id.find(id);
  return it == by_id.end() ? std::nullopt : it->second;
}

bool reports_resources(const state::ContainerRecord& r) {
  return r.present && (r.state == "running" || r.state == "paused");
}

namespace {

// One read of one snapshot. `items` point into the snapshot of the caller that started it,
// which waits until every claimed item is finished: an item is only touched after a
// successful claim, so a late helper that claims nothing never touches the snapshot.
struct Flight {
  std::uint64_t sequence = 0;
  SharedRead::ReadOne read;
  std::vector<const state::ContainerRecord*> items;
  std::vector<std::optional<docker::ResourceStats>> stats;
  std::vector<std::string> errors;  // per item; empty: read fine
  std::atomic<std::size_t> next{0};
  std::mutex mu;
  std::condition_variable all_done;
  std::size_t finished = 0;
  std::promise<Result> promise;
  std::shared_future<Result> result = promise.get_future().share();
  std::optional<SteadyClock::time_point> finished_at;  // under Impl::mu; nullopt while in flight

  // Reads items until none is left to claim.
  void help() {
    for (std::size_t i; (i = next.fetch_add(1)) < items.size();) {
      // One container's failure is that container's missing series, never the scrape's.
      try {
        stats[i] = read(*items[i]);
      } catch (const std::exception& e) {
        errors[i] = e.what();
      } catch (...) {
        errors[i] = "unknown exception";
      }
      std::lock_guard lock(mu);
      if (++finished == items.size()) all_done.notify_all();
    }
  }

  Result wait_and_assemble() {
    {
      std::unique_lock lock(mu);
      all_done.wait(lock, [&] { return finished == items.size(); });
    }
    auto out = std::make_shared<ResourceReadings>();
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (!errors[i].empty()) {
        if (out->failed++ == 0) out->first_error = items[i]->name + ": " + errors[i];
        continue;
      }
      out->by_id.insert_or_assign(items[i]->id, std::move(stats[i]));
    }
    if (out->failed)
      log::warn("resources: reading containers failed; left out of this scrape",
                {{"failed", out->failed}, {"first_error", out->first_error}});
    return out;
  }
};

}  // namespace

struct SharedRead::Impl {
  ReadOne read;
  Options options;
  std::mutex mu;
  std::shared_ptr<Flight> last;  // the latest read started for a published snapshot

  std::shared_ptr<Flight> make_flight(const state::Snapshot& s) const {
    auto f = std::make_shared<Flight>();
    f->sequence = s.sequence;
    f->read = read;
    for (const auto& r : s.containers)
      if (reports_resources(r)) f->items.push_back(&r);
    f->stats.resize(f->items.size());
    f->errors.resize(f->items.size());
    return f;
  }

  Result run(const std::shared_ptr<Flight>& f) const {
    if (options.helper && f->items.size() >= options.help_from) options.helper([f] { f->help(); });
    f->help();
    return f->wait_and_assemble();
  }
};

SharedRead::SharedRead(ReadOne read, Options options) : impl_(std::make_unique<Impl>()) {
  impl_->read = std::move(read);
  impl_->options = std::move(options);
}
SharedRead::SharedRead(ReadOne read) : SharedRead(std::move(read), Options{}) {}
SharedRead::~SharedRead() = default;

Result SharedRead::get(const state::Snapshot& s) const {
  Impl& m = *impl_;
  if (s.sequence == 0) return m.run(m.make_flight(s));

  std::shared_ptr<Flight> flight;
  {
    std::unique_lock lock(m.mu);
    if (m.last && m.last->sequence == s.sequence &&
        (!m.last->finished_at || SteadyClock::now() - *m.last->finished_at <= m.options.max_age)) {
      auto joined = m.last;
      lock.unlock();  // read and wait outside the lock: another snapshot's read must not queue behind this one
      joined->help();
      return joined->result.get();
    }
    flight = m.make_flight(s);
    m.last = flight;
  }

  Result result;
  try {
    result = m.run(flight);
  } catch (...) {  // std::bad_alloc while assembling: the waiters get it too, the next scrape reads again
    std::lock_guard lock(m.mu);
    if (m.last == flight) m.last.reset();
    flight->promise.set_exception(std::current_exception());
    throw;
  }
  {
    std::lock_guard lock(m.mu);
    if (m.last == flight) flight->finished_at = SteadyClock::now();
  }
  flight->promise.set_value(result);
  return result;
}

std::shared_ptr<const SharedRead> shared_cgroup_read(std::shared_ptr<const cgroup::Reader> reader,
                                                     SharedRead::Options options) {
  return std::make_shared<const SharedRead>(
      [reader = std::move(reader)](const state::ContainerRecord& r) {
        return reader->read(cgroup::ContainerRef{r.id, r.pid, r.spec.cgroup_parent, r.spec.network_mode});
      },
      std::move(options));
}

}  // namespace composewatch::metrics
