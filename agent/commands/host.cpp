#include "composewatch/commands/host.h"

#include "composewatch/commands/compose.h"
#include "composewatch/compose/drift.h"
#include "composewatch/engine/client.h"
#include "oneshot.h"

namespace composewatch::commands {

std::vector<docker::ContainerInfo> inspect_containers(const config::AgentConfig& cfg) {
  const engine::Endpoint ep = engine::parse_endpoint(cfg.docker_host);
  return detail::run_sync([&](boost::asio::any_io_executor ex) -> boost::asio::awaitable<std::vector<docker::ContainerInfo>> {
    engine::Client client(ex, ep, detail::oneshot_client_options());
    co_await client.negotiate();
    co_return co_await client.inspect_all();
  });
}

docker::SystemDf system_df(const config::AgentConfig& cfg) {
  const engine::Endpoint ep = engine::parse_endpoint(cfg.docker_host);
  engine::ClientOptions o = detail::oneshot_client_options();
  o.request_timeout = cfg.disk_timeout;
  return docker::parse_system_df(detail::run_sync([&](boost::asio::any_io_executor ex) -> boost::asio::awaitable<std::string> {
    engine::Client client(ex, ep, o);
    co_await client.negotiate();
    co_return co_await client.get("/system/df");
  }));
}

std::vector<compose::ProjectState> known_projects(const config::AgentConfig& cfg,
                                                  const std::vector<docker::LiveContainer>& live) {
  const auto env = process_environment();
  std::vector<compose::ProjectState> out;
  for (const auto& src : compose::merge_sources(compose::configured_sources(cfg.compose_projects),
                                                compose::discovered_sources(live)))
    out.push_back(compose::load_source(src, nullptr, env));
  return out;
}

std::vector<docker::LiveContainer> live_containers(const std::vector<docker::ContainerInfo>& infos) {
  std::vector<docker::LiveContainer> live;
  live.reserve(infos.size());
  for (const auto& info : infos) live.push_back(docker::live_container(info));
  return live;
}

}  // namespace composewatch::commands
