#pragma once
// The heartbeat: a job that only marks the time, every `every`, on the writer's executor.
// When the writer's event loop is stuck (a blocking call, a busy loop), the mark grows old;
// /healthz reads its age from the HTTP threads and fails past a bound.

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>

namespace composewatch::jobs {

class Heartbeat {
 public:
  explicit Heartbeat(std::chrono::milliseconds every = std::chrono::seconds(1));

  boost::asio::awaitable<void> run();
  // How long ago the last mark was made. From any thread.
  std::chrono::milliseconds age() const;

 private:
  std::chrono::milliseconds every_;
  std::atomic<std::int64_t> beat_ms_;  // steady clock, milliseconds
};

}  // namespace composewatch::jobs
