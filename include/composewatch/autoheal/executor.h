#pragma once
// Carrying out an auto-heal decision: thin calls of the Engine API, each under the
// client's deadline. Included by the healer only (Asio stays out of other headers).
//
// Error policy: throws engine::EngineError with the engine's answer; 404 (gone) and, for
// stop, 304 (already stopped) are answers, not errors.

#include <boost/asio/awaitable.hpp>
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

// POST /containers/{id}/restart or /containers/{id}/stop, without `t`: the engine sends
// the container's stop signal and waits the container's own stop timeout (Compose's
// stop_grace_period, `--stop-timeout`: Config.StopTimeout; else its default, 10 s) before
// SIGKILL — a `t` would override what its owner chose. The client's request deadline must
// outlast that timeout (policy.h: request_deadline).
boost::asio::awaitable<Outcome> carry_out(engine::Client& client, const std::string& id, Action action);

}  // namespace composewatch::autoheal
