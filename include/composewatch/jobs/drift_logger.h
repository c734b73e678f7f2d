#pragma once
// The drift logger: a job that logs, once each, the compose states an operator must act on
// and that nothing else puts in the log — a container whose tag was pulled or rebuilt but
// not applied (image_stale, with both image ids), a service the engine gave up restarting
// (on-failure:N used up), and a one-shot service that ran to completion. It reads the
// published snapshot every `poll` (drift as the compose collector computes it, with the
// image checker's resolved tags) and never calls the engine.
//
// One long-lived job on the writer's executor; started and supervised by jobs::Supervisor.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "composewatch/compose/drift.h"
#include "composewatch/state/model.h"

namespace composewatch::jobs {

// One line to log, with its fields.
struct DriftNotice {
  enum class Kind { image_stale, gave_up, completed } kind;
  std::string project, service, container;
  std::string image, running_image_id, current_image_id;  // image_stale
  std::string detail;
};

// Which notices are new since the last call: a state is logged when it appears, and again
// only after it went away and came back (another image, another give-up). Pure.
class DriftNotices {
 public:
  std::vector<DriftNotice> update(const std::string& project, const compose::ProjectDrift& drift);
  // Forgets the projects not in `projects` (call after every pass).
  void keep_only(const std::set<std::string>& projects);

 private:
  std::set<std::string> seen_;  // project and key of what was logged and still holds
};

class DriftLogger {
 public:
  explicit DriftLogger(state::StateModel& model, std::chrono::milliseconds poll = std::chrono::seconds(2));
  boost::asio::awaitable<void> run();

 private:
  void pass();
  state::StateModel& model_;
  std::chrono::milliseconds poll_;
  DriftNotices notices_;
  std::uint64_t last_sequence_ = 0;
};

}  // namespace composewatch::jobs
