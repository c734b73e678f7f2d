#include "composewatch/commands/image_report.h"

#include <algorithm>
#include <map>
#include <set>

#include "composewatch/images/service_image.h"
#include "oneshot.h"

namespace composewatch::commands {

namespace asio = boost::asio;

std::vector<images::RunningService> running_services(const std::vector<docker::ContainerInfo>& containers) {
  std::map<std::pair<std::string, std::string>, images::RunningService> by;
  std::vector<const docker::ContainerInfo*> sorted;
  for (const auto& c : containers) sorted.push_back(&c);
  std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return a->name < b->name; });
  for (const auto* c : sorted) {
    if (c->state != "running" || c->project().empty() || c->service().empty() || c->spec.compose.oneoff) continue;
    by.try_emplace({c->project(), c->service()},
                   images::RunningService{c->project(), c->service(), c->id, c->name, c->spec.image});
  }
  std::vector<images::RunningService> out;
  for (auto& [_, s] : by) out.push_back(std::move(s));
  return out;
}

std::map<std::string, std::string> current_images(const config::AgentConfig& cfg,
                                                  const std::vector<docker::LiveContainer>& containers) {
  const std::vector<std::string> refs = images::running_image_refs(containers);
  if (refs.empty()) return {};
  try {
    const engine::Endpoint ep = engine::parse_endpoint(cfg.docker_host);
    return detail::run_sync([&](asio::any_io_executor ex) -> asio::awaitable<std::map<std::string, std::string>> {
      engine::Client client(ex, ep, detail::oneshot_client_options());
      co_await client.negotiate();
      co_return co_await images::resolve_image_refs(client, refs);
    });
  } catch (const std::exception&) {
    return {};  // not compared: status shows the other fields
  }
}

HostImageReport host_image_report(const config::AgentConfig& cfg, const std::vector<compose::ProjectState>& projects,
                                  const std::vector<docker::ContainerInfo>& containers) {
  HostImageReport out;
  std::vector<images::ServiceReport> builds = images::check_builds(projects);
  std::vector<images::ServiceReport> running;
  // Only the services of the projects being checked (`check -f` names one).
  std::set<std::string> names;
  for (const auto& p : projects) names.insert(p.name);
  auto services = running_services(containers);
  std::erase_if(services, [&](const images::RunningService& s) { return !names.contains(s.project); });
  if (!services.empty()) {
    try {
      const engine::Endpoint ep = engine::parse_endpoint(cfg.docker_host);
      std::vector<docker::LiveContainer> live;
      for (const auto& c : containers)
        if (names.contains(c.project())) live.push_back(docker::live_container(c));
      const std::vector<std::string> refs = images::running_image_refs(live);
      running = detail::run_sync([&](asio::any_io_executor ex) -> asio::awaitable<std::vector<images::ServiceReport>> {
        engine::Client client(ex, ep, detail::oneshot_client_options());
        co_await client.negotiate();
        out.current_images = co_await images::resolve_image_refs(client, refs);
        images::ImageCache cache;
        std::vector<images::ServiceReport> reports;
        for (const auto& svc : services) {
          images::ServiceReport r;
          r.project = svc.project;
          r.service = svc.service;
          try {
            r.image = co_await images::inspect_service_image(client, svc, cache);
          } catch (const engine::EngineError& e) {
            if (e.kind != engine::EngineError::Kind::http_status) throw;
            r.image_error = e.what();
          } catch (const docker::ParseError& e) {
            r.image_error = e.what();
          }
          reports.push_back(std::move(r));
        }
        co_return reports;
      });
    } catch (const std::exception& e) {
      out.error = e.what();
    }
  }
  out.services = images::join_reports(std::move(builds), std::move(running));
  return out;
}

}  // namespace composewatch::commands
