#pragma once
// Builds container events as the engine sends them, for state and exposition tests.

#include <string>
#include <utility>
#include <vector>

#include "composewatch/docker/event.h"

namespace composewatch::test_support {

using Attributes = std::vector<std::pair<std::string, std::string>>;

// A container event at `t` seconds with Actor.Attributes name, image and `extra`
// (labels, exitCode, oldName, ...). `action` may carry a detail ("health_status: healthy").
inline docker::Event container_event(std::string action, std::string id, std::string name, std::int64_t t,
                                     std::string image, Attributes extra = {}) {
  docker::Event e;
  e.type = "container";
  auto [head, detail] = docker::split_action(action);
  e.action = std::string(head);
  e.action_detail = std::string(detail);
  e.actor_id = std::move(id);
  e.time_nano = t * 1'000'000'000;
  e.attributes = {{"name", std::move(name)}, {"image", std::move(image)}};
  for (auto& kv : extra) e.attributes.push_back(std::move(kv));
  return e;
}

}  // namespace composewatch::test_support
