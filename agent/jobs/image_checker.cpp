#include "composewatch/jobs/image_checker.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <set>

#include "composewatch/docker/image_ref.h"
#include "composewatch/jobs/repeat.h"
#include "composewatch/log/log.h"

namespace composewatch::jobs {

namespace asio = boost::asio;

namespace {
asio::awaitable<std::vector<images::ServiceReport>> check_builds_async(std::vector<compose::ProjectState> projects,
                                                               images::BuildOptions options) {
  co_return images::check_builds(projects, options);
}
}  // namespace

ImageChecker::ImageChecker(asio::any_io_executor ex, engine::Endpoint endpoint, state::StateModel& model,
                           ImageCheckerOptions options, engine::ClientOptions client)
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
  for (const auto& r : images::running_services(s.containers)) f += "c:" + r.project + "|" + r.service + "|" + r.container_id + "\n";
  // A pull, build or `docker tag` of a running container's tag (an image event the state
  // model notes) is checked at the next poll: the tag may have moved (image_stale).
  if (s.image_last_seen)
    for (const auto& ref : images::running_image_refs(state::live_containers(s.containers)))
      if (auto it = s.image_last_seen->find(docker::normalize_image_ref(ref)); it != s.image_last_seen->end())
        f += "t:" + ref + "|" + std::to_string(it->second) + "\n";
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
  std::vector<images::ServiceReport> builds = co_await asio::co_spawn(*files_, std::move(work), asio::use_awaitable);

  std::vector<images::ServiceReport> images;
  std::map<std::string, std::string> current_images;
  std::string error;
  const auto running = images::running_services(snap->containers);
  if (!running.empty()) {
    engine::ClientOptions o = client_;
    o.request_timeout = options_.timeout;
    o.connect_timeout = std::min<std::chrono::milliseconds>(o.connect_timeout, options_.timeout);
    try {
      engine::Client client(ex_, endpoint_, o);
      co_await client.negotiate();
      std::set<std::string> in_use;
      for (const auto& svc : running) {
        images::ServiceReport r;
        r.project = svc.project;
        r.service = svc.service;
        try {
          images::ServiceImage img = co_await images::inspect_service_image(client, svc, cache_, options_.layers);
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
      // The tags the running containers came from, as the engine resolves them now: a pull or
      // a rebuild without `up` moves a tag and leaves the container on the old image.
      current_images = co_await images::resolve_image_refs(
          client, images::running_image_refs(state::live_containers(snap->containers)));
    } catch (const engine::EngineError& e) {
      error = e.what();
    }
  }

  // An engine that did not answer leaves the last images read, so their findings stay.
  if (error.empty()) {
    last_images_ = images;
    last_current_images_ = current_images;
  } else {
    images = last_images_;
    current_images = last_current_images_;
  }
  auto report = std::make_shared<images::ImageReport>();
  report->services = images::join_reports(std::move(builds), std::move(images), options_.growth);
  report->checked_at = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  report->last_ok = error.empty();
  report->last_error = error;
  report->current_images = std::move(current_images);
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
  std::string last;
  std::optional<std::chrono::steady_clock::time_point> last_check;  // none: never checked
  return repeat([this, last, last_check]() mutable -> asio::awaitable<std::chrono::milliseconds> {
    const auto now = std::chrono::steady_clock::now();
    const std::string current = fingerprint(*model_.snapshot());
    if (!last_check || current != last || now - *last_check >= options_.interval) {
      co_await check_once();
      last = current;
      last_check = now;
    }
    co_return options_.poll;
  });
}

}  // namespace composewatch::jobs
