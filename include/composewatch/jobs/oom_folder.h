#pragma once
// Folds the cgroup's own oom_kill counter of every running container into the state
// model, so that a kill the event stream missed is still counted (StateModel::
// fold_cgroup_oom_kills says how a kill seen both ways counts once), and keeps the
// window of the host's OOM-kill count current (StateModel::sample_host_oom_kills), which
// counts a kill that neither the events nor a cgroup told of.
//
// One long-lived job on the writer's executor (the state model's single writer); started
// and supervised by jobs::Supervisor.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>

#include "composewatch/state/model.h"

namespace composewatch::cgroup {
class Reader;
}  // namespace composewatch::cgroup

namespace composewatch::jobs {

class OomFolder {
 public:
  // Without a reader (resources from the Engine API) only the host's count is sampled.
  OomFolder(boost::asio::any_io_executor ex, std::shared_ptr<const cgroup::Reader> reader, state::StateModel& model,
            std::chrono::seconds every = std::chrono::seconds(10));

  // fold_once() every `every`, forever. Throws only what the model or reader throw
  // unexpectedly (a vanished cgroup is not an error).
  boost::asio::awaitable<void> run();

  // One pass over the running containers: a few small file reads each, and a reading of
  // the host's count. Publishes and returns the number of kills added when there are
  // any. Writer only.
  std::uint64_t fold_once();

 private:
  boost::asio::any_io_executor ex_;
  std::shared_ptr<const cgroup::Reader> reader_;
  state::StateModel& model_;
  std::chrono::seconds every_;
};

}  // namespace composewatch::jobs
