#include "composewatch/images/service_image.h"

#include <map>
#include <set>
#include <utility>

#include "composewatch/compose/discovery.h"
#include "composewatch/docker/container.h"
#include "composewatch/docker/objects.h"

namespace composewatch::images {

namespace asio = boost::asio;

std::vector<const ServiceReport*> services_of(const std::vector<ServiceReport>& reports, const std::string& project) {
  std::vector<const ServiceReport*> out;
  for (const auto& r : reports)
    if (r.project == project) out.push_back(&r);
  return out;
}

std::vector<RunningService> running_services(const std::vector<state::ContainerRecord>& containers) {
  std::map<std::pair<std::string, std::string>, RunningService> by_service;
  for (const auto& c : containers) {  // sorted by name: the first of a service wins
    if (!c.present || c.state != "running" || c.project().empty() || c.service().empty() || c.spec.compose.oneoff)
      continue;
    by_service.try_emplace({c.project(), c.service()},
                           RunningService{c.project(), c.service(), c.id, c.name, c.spec.image});
  }
  std::vector<RunningService> out;
  for (auto& [_, s] : by_service) out.push_back(std::move(s));
  return out;
}

std::vector<ServiceReport> check_builds(const std::vector<compose::ProjectState>& projects, const BuildOptions& options) {
  std::vector<ServiceReport> out;
  for (const auto& p : projects) {
    if (!p.model) continue;
    for (const auto& [name, svc] : p.model->services) {
      if (!svc.build || svc.build->remote || svc.build->context.empty()) continue;
      ServiceReport r;
      r.project = p.name;
      r.service = name;
      r.build = check_build(read_build_input(*svc.build, options), options);
      out.push_back(std::move(r));
    }
  }
  return out;
}

asio::awaitable<ServiceImage> inspect_service_image(engine::Client& client, const RunningService& svc, ImageCache& cache,
                                                    std::size_t layers) {
  ServiceImage img;
  img.project = svc.project;
  img.service = svc.service;
  img.container = svc.container_name;
  img.image = svc.image;
  const docker::ContainerInfo container =
      docker::parse_inspect(co_await client.get(engine::container_path(svc.container_id, "/json")));
  img.has_container_user = true;
  img.container_user = container.user;
  auto it = cache.find(container.image_id);
  if (it == cache.end()) {
    ImageFacts facts;
    facts.config = docker::parse_image_inspect(co_await client.get(engine::image_path(container.image_id, "/json")));
    facts.largest_layers = largest_layers(
        docker::parse_image_history(co_await client.get(engine::image_path(container.image_id, "/history"))), layers);
    it = cache.emplace(container.image_id, std::move(facts)).first;
  }
  img.config = it->second.config;
  img.largest_layers = it->second.largest_layers;
  co_return img;
}

std::vector<std::string> running_image_refs(const std::vector<docker::LiveContainer>& containers) {
  std::set<std::string> refs;
  for (const auto& c : containers)
    if (c.state == "running" && !c.project().empty() && !c.spec.compose.oneoff && !c.spec.image.empty())
      refs.insert(c.spec.image);
  return {refs.begin(), refs.end()};
}

asio::awaitable<std::map<std::string, std::string>> resolve_image_refs(engine::Client& client,
                                                                       const std::vector<std::string>& refs) {
  std::map<std::string, std::string> out;
  for (const auto& ref : refs) {
    try {
      out[ref] = docker::parse_image_inspect(co_await client.get(engine::image_path(ref, "/json"))).id;
    } catch (const engine::EngineError& e) {
      if (e.kind != engine::EngineError::Kind::http_status) throw;  // 404: the tag is gone, nothing to compare
    } catch (const docker::ParseError&) {
      // an answer we cannot read names no image to compare with
    }
  }
  co_return out;
}

std::vector<ServiceReport> join_reports(std::vector<ServiceReport> builds, std::vector<ServiceReport> images,
                                        const GrowthRule& growth) {
  std::map<std::pair<std::string, std::string>, ServiceReport> by;
  for (auto& b : builds) by[{b.project, b.service}] = std::move(b);
  for (auto& i : images) {
    ServiceReport& r = by[{i.project, i.service}];
    r.project = i.project;
    r.service = i.service;
    r.image = std::move(i.image);
    r.image_error = std::move(i.image_error);
  }
  std::vector<ServiceReport> out;
  for (auto& [_, r] : by) {
    r.findings.clear();
    if (r.build) r.findings = r.build->findings;
    if (r.image)
      for (auto& f : check_image(*r.image, growth)) r.findings.push_back(std::move(f));
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace composewatch::images
