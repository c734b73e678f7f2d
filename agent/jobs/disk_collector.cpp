#include "composewatch/jobs/disk_collector.h"


#include "composewatch/docker/info.h"
#include "composewatch/jobs/repeat.h"
#include "composewatch/log/log.h"

namespace composewatch::jobs {

namespace asio = boost::asio;

namespace {
double epoch_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}
}  // namespace

DiskCollector::DiskCollector(asio::any_io_executor ex, engine::Endpoint endpoint, state::StateModel& model,
                             DiskCollectorOptions options, engine::ClientOptions client)
    : ex_(std::move(ex)),
      endpoint_(std::move(endpoint)),
      model_(model),
      options_(options),
      client_(client),
      report_(std::make_shared<const disk::DiskReport>()) {}

asio::awaitable<void> DiskCollector::collect_once() {
  auto next = std::make_shared<disk::DiskReport>(*report_);
  engine::ClientOptions o = client_;
  o.request_timeout = options_.timeout;
  o.connect_timeout = std::min<std::chrono::milliseconds>(o.connect_timeout, options_.timeout);
  const auto t0 = std::chrono::steady_clock::now();
  std::string error;
  try {
    engine::Client client(ex_, endpoint_, o);
    co_await client.negotiate();
    // The root dir's filesystem is this machine's only when the engine is (a unix socket);
    // statvfs on a remote engine's path would measure the wrong disk.
    if (next->docker_root_dir.empty() && endpoint_.kind == engine::Endpoint::Kind::unix_socket)
      next->docker_root_dir = docker::parse_docker_root_dir(co_await client.get("/info"));
    auto df = std::make_shared<const docker::SystemDf>(docker::parse_system_df(co_await client.get("/system/df")));
    next->summary = docker::summarize(*df);
    next->df = std::move(df);
    next->df_taken_at = epoch_now();
    next->df_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!report_->last_ok)
      log::info("disk usage collected", {{"seconds", next->df_seconds}, {"images", next->summary.images.objects},
                                         {"volumes", next->summary.volumes.objects}});
    next->last_ok = true;
    next->last_error.clear();
  } catch (const engine::EngineError& e) {
    error = e.what();
  } catch (const docker::ParseError& e) {
    error = e.what();
  }
  if (!error.empty()) {
    next->last_ok = false;
    if (next->last_error != error)
      log::warn("disk usage not collected; keeping the last figures",
                {{"error", error}, {"last_collected", next->df ? next->df_taken_at : 0.0}});
    next->last_error = error;
  }
  report_ = next;
  model_.set_disk(report_);
  model_.publish();
}

asio::awaitable<void> DiskCollector::run() {
  return repeat([this]() -> asio::awaitable<std::chrono::milliseconds> {
    co_await collect_once();
    co_return report_->df ? options_.interval : std::min(options_.interval, options_.first_retry);
  });
}

}  // namespace composewatch::jobs
