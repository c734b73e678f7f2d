#include "composewatch/jobs/oom_folder.h"


#include "composewatch/cgroup/reader.h"
#include "composewatch/docker/container.h"
#include "composewatch/jobs/repeat.h"
#include "composewatch/log/log.h"

namespace composewatch::jobs {

namespace asio = boost::asio;

OomFolder::OomFolder(asio::any_io_executor ex, std::shared_ptr<const cgroup::Reader> reader, state::StateModel& model,
                     std::chrono::seconds every)
    : ex_(std::move(ex)), reader_(std::move(reader)), model_(model), every_(every) {}

std::uint64_t OomFolder::fold_once() {
  struct Read {
    std::string id, name;
    int pid;
    std::uint64_t kills;
  };
  // Read first, fold after: folding must not change the map being walked.
  model_.sample_host_oom_kills();
  if (!reader_) return 0;
  std::vector<Read> reads;
  for (const auto& [name, r] : model_.containers()) {
    if (!r.present || r.state != "running" || r.pid <= 0) continue;
    if (auto n = reader_->oom_kills({r.id, r.pid, r.spec.cgroup_parent, r.spec.network_mode}); n && *n > 0)
      reads.push_back({r.id, name, r.pid, *n});
  }
  std::uint64_t total = 0;
  for (const auto& rd : reads) {
    if (std::uint64_t added = model_.fold_cgroup_oom_kills(rd.id, rd.pid, rd.kills)) {
      log::info("OOM kills in the cgroup that no event reported; counted",
                {{"container", rd.name}, {"id", docker::short_id(rd.id)}, {"added", added}});
      total += added;
    }
  }
  if (total > 0) model_.publish();
  return total;
}

asio::awaitable<void> OomFolder::run() {
  return repeat(
      [this]() -> asio::awaitable<std::chrono::milliseconds> {
        fold_once();
        co_return every_;
      },
      {.first_after = every_});
}

}  // namespace composewatch::jobs
