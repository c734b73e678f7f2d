#include "composewatch/jobs/state_saver.h"


#include "composewatch/jobs/repeat.h"
#include "composewatch/log/log.h"

namespace composewatch::jobs {

namespace asio = boost::asio;

StateSaver::StateSaver(asio::any_io_executor ex, const state::StateModel& model, state::StateFile file, Position position,
                       StateSaverOptions options)
    : ex_(std::move(ex)), model_(model), file_(std::move(file)), position_(std::move(position)), options_(options) {}

bool StateSaver::save(bool force) {
  state::SavedState s;
  model_.save_to(s);
  s.stream = position_();
  // What changes by itself (the clock, the resume point moving on while the stream is
  // open) alone does not make a write; a counted event does.
  state::SavedState still = s;
  still.stream = {};
  std::string counters = state::encode_saved_state(still);
  const auto now = std::chrono::steady_clock::now();
  if (!force && counters == last_counters_ && now - last_save_ < options_.refresh) return true;
  s.saved_at = std::chrono::duration<double>(state::Clock::now().time_since_epoch()).count();
  try {
    file_.save(s);
  } catch (const std::exception& e) {
    if (e.what() != last_error_) log::warn("cannot save the state", {{"file", file_.path().string()}, {"error", e.what()}});
    last_error_ = e.what();
    return false;
  }
  if (!last_error_.empty()) log::info("state saved again", {{"file", file_.path().string()}});
  last_error_.clear();
  last_counters_ = std::move(counters);
  last_save_ = now;
  return true;
}

bool StateSaver::save_now() { return save(true); }

asio::awaitable<void> StateSaver::run() {
  const std::chrono::milliseconds every = options_.interval;
  return repeat(
      [this, every]() -> asio::awaitable<std::chrono::milliseconds> {
        save(false);
        co_return every;
      },
      {.first_after = every});
}

}  // namespace composewatch::jobs
