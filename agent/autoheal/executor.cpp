#include "composewatch/autoheal/executor.h"

namespace composewatch::autoheal {

std::string_view action_name(Action a) { return a == Action::stop ? "stop" : "restart"; }
Action parse_action(std::string_view text) { return text == "stop" ? Action::stop : Action::restart; }

std::string_view outcome_name(Outcome o) {
  switch (o) {
    case Outcome::done: return "done";
    case Outcome::gone: return "gone";
    case Outcome::already_stopped: return "already_stopped";
  }
  return "done";
}

boost::asio::awaitable<Outcome> carry_out(engine::Client& client, const std::string& id, Action action) {
  const std::string target = engine::container_path(id, "/" + std::string(action_name(action)));
  try {
    co_await client.post(target);
  } catch (const engine::EngineError& e) {
    if (e.kind != engine::EngineError::Kind::http_status) throw;
    if (e.http_status == 404) co_return Outcome::gone;
    if (e.http_status == 304) co_return Outcome::already_stopped;
    throw;
  }
  co_return Outcome::done;
}

}  // namespace composewatch::autoheal
