#pragma once
// ProjectWatcher: the agent's Compose projects, kept loaded on the engine thread.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "composewatch/config/config.h"
#include "composewatch/state/model.h"

namespace composewatch::jobs {

// Knows the host's projects and keeps their models current: rediscovers from the state
// model's containers, watches each project's directories with inotify (so rename-on-save
// is seen) and reloads a project ~debounce after its files change, and reloads all on
// reload() (SIGHUP). Every change is published through StateModel::set_compose. A
// project's load error is logged once per change of the error.
//
// One long-lived job on the engine thread's executor (the state model's single writer),
// started and supervised by jobs::Supervisor; every member function must be called from
// that thread.
class ProjectWatcher {
 public:
  struct Options {
    std::chrono::milliseconds debounce{500};
    std::chrono::milliseconds rediscover_every{1000};
    std::map<std::string, std::string> environment;  // what interpolation sees
  };
  ProjectWatcher(boost::asio::any_io_executor ex, state::StateModel& model,
                 std::vector<config::ComposeProjectConfig> configured, Options options);
  ~ProjectWatcher();
  ProjectWatcher(const ProjectWatcher&) = delete;
  ProjectWatcher& operator=(const ProjectWatcher&) = delete;

  // Loads the configured projects, publishes, then watches and rediscovers until the
  // executor stops. Bad compose files are reported, never thrown.
  boost::asio::awaitable<void> run();
  // SIGHUP: takes the (new) configured projects and reloads every project's files now.
  void reload(std::vector<config::ComposeProjectConfig> configured);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace composewatch::jobs
