#include "composewatch/jobs/expiry.h"

#include "composewatch/jobs/repeat.h"

namespace composewatch::jobs {

namespace asio = boost::asio;

Expiry::Expiry(state::StateModel& model, std::chrono::milliseconds every) : model_(model), every_(every) {}

asio::awaitable<void> Expiry::run() {
  return repeat(
      [this]() -> asio::awaitable<std::chrono::milliseconds> {
        model_.expire();
        model_.publish();
        co_return every_;
      },
      {.first_after = every_});
}

}  // namespace composewatch::jobs
