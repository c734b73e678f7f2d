#include "composewatch/jobs/heartbeat.h"

#include "composewatch/jobs/repeat.h"

namespace composewatch::jobs {

namespace asio = boost::asio;

namespace {
std::int64_t steady_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

Heartbeat::Heartbeat(std::chrono::milliseconds every) : every_(every), beat_ms_(steady_now_ms()) {}

asio::awaitable<void> Heartbeat::run() {
  return repeat([this]() -> asio::awaitable<std::chrono::milliseconds> {
    beat_ms_.store(steady_now_ms());
    co_return every_;
  });
}

std::chrono::milliseconds Heartbeat::age() const { return std::chrono::milliseconds(steady_now_ms() - beat_ms_.load()); }

}  // namespace composewatch::jobs
