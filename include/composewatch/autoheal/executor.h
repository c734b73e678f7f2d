#pragma once
// Carrying out an auto-heal decision: thin calls of the Engine API, each under the
// client's deadline. Included by the healer only (Asio stays out of other headers).
//
// Error policy: throws engine::EngineError with the engine's answer; 404 (gone) and, for
// stop, 304 (already stopped) are answers, not errors.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>
#include <string_view>

#include "composewatch/engine/client.h"

namespace composewatch::autoheal {

enum class Action { restart, stop };
// The `action` label and config value: restart, stop.
std::string_view action_name(Action a);
Action parse_action(std::string_view text);  // "stop" → stop, anything else → restart

enum class Outcome { done, gone, already_stopped };
std::string_view outcome_name(Outcome o);

// POST /containers/{id}/restart?t=N or /containers/{id}/stop?t=N: the engine sends the
// stop signal, waits up to `stop_timeout` and then kills. The client's request deadline
// must be longer than stop_timeout.
boost::asio::awaitable<Outcome> carry_out(engine::Client& client, const std::string& id, Action action,
                                          std::chrono::seconds stop_timeout);

}  // namespace composewatch::autoheal
