#pragma once
// Keeps the state file current: a long-lived job on the writer's executor (supervised by
// jobs::Supervisor) that saves the counters and the stream position every `interval` when
// a counter changed, at least every `refresh` so that the resume point stays recent, and
// once more at shutdown (save_now). A failed write is logged (once per distinct error)
// and tried again at the next interval; the agent goes on counting.
//
// Thread-safety: all members on the writer's thread (the state model's single writer), so
// that counters and stream position are taken at the same moment.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <string>

#include "composewatch/state/model.h"
#include "composewatch/state/store.h"

namespace composewatch::jobs {

struct StateSaverOptions {
  std::chrono::seconds interval{10};
  std::chrono::seconds refresh{300};
};

class StateSaver {
 public:
  using Position = std::function<state::StreamPosition()>;
  StateSaver(boost::asio::any_io_executor ex, const state::StateModel& model, state::StateFile file, Position position,
             StateSaverOptions options = {});

  boost::asio::awaitable<void> run();
  // Saves now whatever changed or not. Returns false (and logs) when the write failed.
  bool save_now();

 private:
  // Saves when the counters changed since the last save, or `force`.
  bool save(bool force);

  boost::asio::any_io_executor ex_;
  const state::StateModel& model_;
  state::StateFile file_;
  Position position_;
  StateSaverOptions options_;
  std::string last_counters_;  // the last saved text without the moving parts
  std::chrono::steady_clock::time_point last_save_{};
  std::string last_error_;
};

}  // namespace composewatch::jobs
