#include "composewatch/images/checker.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <set>

#include "composewatch/log/log.h"

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
  const ContainerImageRef ref = parse_container_image_ref(co_await client.get("/containers/" + svc.container_id + "/json"));
  img.has_container_user = true;
  img.container_user = ref.user;
  auto it = cache.find(ref.image_id);
  if (it == cache.end()) {
    ImageFacts facts;
    facts.config = parse_image_config(co_await client.get("/images/" + ref.image_id + "/json"));
    facts.largest_layers =
        largest_layers(docker::parse_image_history(co_await client.get("/images/" + ref.image_id + "/history")), layers);
    it = cache.emplace(ref.image_id, std::move(facts)).first;
  }
  img.config = it->second.config;
  img.largest_layers = it->second.largest_layers;
  co_return img;
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

namespace {
asio::awaitable<std::vector<ServiceReport>> check_builds_async(std::vector<compose::ProjectState> projects,
                                                               BuildOptions options) {
  co_return check_builds(projects, options);
}
}  // namespace

ImageChecker::ImageChecker(asio::any_io_executor ex, engine::Endpoint endpoint, state::StateModel& model,
                           CheckerOptions options, engine::ClientOptions client)
    : ex_(std::move(ex)),
      endpoint_(std::move(endpoint)),
      model_(model),
      options_(options),
      client_(client),
      files_(std::make_unique<asio::thread_pool>(1)) {}

ImageChecker::~ImageChecker() { files_->join(); }

std::string ImageChecker::fingerprint(const state::Snapshot& s) const {
  std::string f;
  if (s.compose)
    for (const auto& p : s.compose->projects) {
      f += "p:" + p.name + "\n";
      if (!p.model) continue;
      for (const auto& [name, svc] : p.model->services) {
        if (!svc.build) continue;
        f += "b:" + name + "|" + svc.build->context + "|" + svc.build->dockerfile + "|" + svc.build->target + "|" +
             std::to_string(std::hash<std::string>{}(svc.build->dockerfile_inline)) + "\n";
        for (const auto& [k, v] : svc.build->args) f += "a:" + k + "=" + std::to_string(std::hash<std::string>{}(v)) + "\n";
      }
    }
  for (const auto& r : running_services(s.containers)) f += "c:" + r.project + "|" + r.service + "|" + r.container_id + "\n";
  return f;
}

asio::awaitable<void> ImageChecker::check_once() {
  const auto snap = model_.snapshot();
  const auto t0 = std::chrono::steady_clock::now();

  // The files, on a thread of their own: a context walk can take a while. (A plain
  // coroutine function, not a capturing lambda: GCC 12 mishandles the latter's frame.)
  std::vector<compose::ProjectState> projects;
  if (snap->compose) projects = snap->compose->projects;
  auto work = check_builds_async(std::move(projects), options_.build);
  std::vector<ServiceReport> builds = co_await asio::co_spawn(*files_, std::move(work), asio::use_awaitable);

  std::vector<ServiceReport> images;
  std::string error;
  const auto running = running_services(snap->containers);
  if (!running.empty()) {
    engine::ClientOptions o = client_;
    o.request_timeout = options_.timeout;
    o.connect_timeout = std::min<std::chrono::milliseconds>(o.connect_timeout, options_.timeout);
    try {
      engine::Client client(ex_, endpoint_, o);
      co_await client.negotiate();
      std::set<std::string> in_use;
      for (const auto& svc : running) {
        ServiceReport r;
        r.project = svc.project;
        r.service = svc.service;
        try {
          ServiceImage img = co_await inspect_service_image(client, svc, cache_, options_.layers);
          const auto key = std::pair{svc.project, svc.service};
          if (auto cur = current_.find(key); cur != current_.end() && cur->second.id != img.config.id)
            previous_[key] = cur->second;
          current_[key] = {img.config.id, img.config.size};
          if (auto prev = previous_.find(key); prev != previous_.end()) img.previous = prev->second;
          in_use.insert(img.config.id);
          r.image = std::move(img);
        } catch (const engine::EngineError& e) {
          if (e.kind != engine::EngineError::Kind::http_status) throw;  // the engine itself failed: stop here
          r.image_error = e.what();  // the container went away in between
        } catch (const docker::ParseError& e) {
          r.image_error = e.what();
        }
        images.push_back(std::move(r));
      }
      // Images no running service uses any more are forgotten.
      std::erase_if(cache_, [&](const auto& kv) { return !in_use.contains(kv.first); });
    } catch (const engine::EngineError& e) {
      error = e.what();
    }
  }

  // An engine that did not answer leaves the last images read, so their findings stay.
  if (error.empty())
    last_images_ = images;
  else
    images = last_images_;
  auto report = std::make_shared<ImageReport>();
  report->services = join_reports(std::move(builds), std::move(images), options_.growth);
  report->checked_at = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  report->last_ok = error.empty();
  report->last_error = error;
  if (!error.empty() && error != last_error_)
    log::warn("image checks: the engine did not answer; images not checked", {{"error", error}});
  last_error_ = error;
  std::size_t findings = 0;
  for (const auto& s : report->services) findings += s.findings.size();
  log::debug("image checks done",
             {{"services", report->services.size()}, {"findings", findings},
              {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()}});
  model_.set_images(std::move(report));
  model_.publish();
}

asio::awaitable<void> ImageChecker::run() {
  asio::steady_timer timer(ex_);
  std::string last;
  std::optional<std::chrono::steady_clock::time_point> last_check;  // none: never checked
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    const std::string current = fingerprint(*model_.snapshot());
    if (!last_check || current != last || now - *last_check >= options_.interval) {
      co_await check_once();
      last = current;
      last_check = now;
    }
    timer.expires_after(options_.poll);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

}  // namespace composewatch::images
