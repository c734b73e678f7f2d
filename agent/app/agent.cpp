// `composewatch run`: wires the engine tracker, the state model, the collectors and the
// HTTP server. Threads: this one runs the engine io_context (the state model's single
// writer); the HTTP server runs its own; scrapes read immutable snapshots.

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <csignal>
#include <cstdlib>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include "composewatch/app/agent.h"
#include "composewatch/autoheal/policy.h"
#include "composewatch/cgroup/reader.h"
#include "composewatch/cgroup/source.h"
#include "composewatch/commands/compose.h"
#include "composewatch/http/server.h"
#include "composewatch/http/socket_activation.h"
#include "composewatch/jobs/compose_watcher.h"
#include "composewatch/jobs/disk_collector.h"
#include "composewatch/jobs/event_follower.h"
#include "composewatch/jobs/expiry.h"
#include "composewatch/jobs/healer.h"
#include "composewatch/jobs/heartbeat.h"
#include "composewatch/jobs/drift_logger.h"
#include "composewatch/jobs/image_checker.h"
#include "composewatch/jobs/oom_folder.h"
#include "composewatch/jobs/prune_scheduler.h"
#include "composewatch/jobs/state_saver.h"
#include "composewatch/jobs/stats_poller.h"
#include "composewatch/jobs/supervisor.h"
#include "composewatch/jobs/systemd_notifier.h"
#include "composewatch/log/log.h"
#include "composewatch/metrics/collector.h"
#include "composewatch/metrics/shared_read.h"
#include "composewatch/prune/host_lock.h"
#include "composewatch/state/store.h"
#include "composewatch/version.h"
#include "composewatch/web/routes.h"

namespace composewatch::app {

namespace asio = boost::asio;
// How long a stop signal waits for a prune run's deletion in flight (under the unit's
// TimeoutStopSec=40s).
constexpr std::chrono::seconds kPruneStopGrace{25};

namespace {

// Beyond this age of the writer's heartbeat, /healthz fails: the event loop is stuck.
constexpr std::chrono::seconds kHeartbeatStale{15};

asio::awaitable<std::string> fetch_info(engine::Endpoint ep, engine::ClientOptions o) {
  engine::Client client(co_await asio::this_coro::executor, std::move(ep), o);
  co_await client.negotiate();
  co_return co_await client.get("/info");
}

// --stats.source, decided once: GET /info (CgroupDriver, CgroupVersion) with a short
// deadline, then the mounted hierarchies. The request runs on the agent's io_context, so
// that SIGTERM/SIGINT (whose handler sets `stop_requested` and stops `ioc`) end the wait:
// nullopt then.
std::optional<cgroup::SourceChoice> choose_stats_source(const config::AgentConfig& cfg, const engine::Endpoint& ep,
                                                        asio::io_context& ioc, const bool& stop_requested) {
  std::optional<docker::EngineCgroupInfo> info;
  if (cfg.stats_source != "api") {
    engine::ClientOptions o;
    o.connect_timeout = std::chrono::seconds(2);
    o.request_timeout = std::chrono::seconds(5);
    struct Answer {
      bool done = false;
      std::exception_ptr error;
      std::string body;
    };
    auto answer = std::make_shared<Answer>();
    asio::co_spawn(ioc, fetch_info(ep, o), [answer](std::exception_ptr e, std::string body) {
      answer->done = true;
      answer->error = e;
      answer->body = std::move(body);
    });
    while (!answer->done && !stop_requested && ioc.run_one() > 0) {
    }
    if (stop_requested) return std::nullopt;
    try {
      if (answer->error) std::rethrow_exception(answer->error);
      info = docker::parse_engine_info(answer->body);
    } catch (const std::exception& e) {
      log::debug("stats source: GET /info failed", {{"error", e.what()}});
    }
  }
  return cgroup::choose_stats_source(cfg.stats_source, ep.kind == engine::Endpoint::Kind::unix_socket, info,
                                     cfg.procfs);
}

// The descriptors besides HTTP connections: the engine client's connections, cgroup and
// /proc reads, the state file and its directory, compose files and inotify, the prune lock,
// listeners, epoll and timers: 16 to 18 through the 30-minute soak (docs/benchmarks.md),
// so this leaves a wide margin.
constexpr std::uint64_t kDescriptorsBesidesConnections = 128;

// A limit below --web.max-connections plus the rest would let idle connections starve the
// engine client and the state saves of descriptors: say so at start (LimitNOFILE= in the unit).
void warn_if_too_few_descriptors(std::size_t max_connections) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return;
  const std::uint64_t needed = max_connections + kDescriptorsBesidesConnections;
  if (limit.rlim_cur >= needed) return;
  log::warn("the open-files limit is below what --web.max-connections needs; raise LimitNOFILE= or lower it",
            {{"open_files_limit", std::uint64_t(limit.rlim_cur)},
             {"max_connections", max_connections},
             {"needed", needed}});
}

const sigset_t& agent_signals() {
  static const sigset_t set = [] {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGINT);
    sigaddset(&s, SIGTERM);
    sigaddset(&s, SIGHUP);
    return s;
  }();
  return set;
}

}  // namespace

void hold_agent_signals() { pthread_sigmask(SIG_BLOCK, &agent_signals(), nullptr); }

int run_agent(const config::AgentConfig& cfg) {
  engine::Endpoint endpoint;
  try {
    endpoint = engine::parse_endpoint(cfg.docker_host);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("--docker.host: ") + e.what());
  }
  // Sockets systemd opened for us (composewatch.socket): served instead of binding
  // --web.listen-address. Taken first, before anything could start a child process.
  std::vector<int> listen_fds;
  try {
    listen_fds = http::inherited_listen_fds();
  } catch (const std::runtime_error& e) {
    throw config::ConfigError(e.what());  // the socket unit's configuration: exit 78
  }
  if (!listen_fds.empty()) {
    // Kept as a warning, not a refusal: an ARGS= with --web.listen-address from before the
    // socket unit must not stop the agent after an upgrade.
    if (cfg.listen_address != config::AgentConfig{}.listen_address)
      log::warn("--web.listen-address / web.listen_address is not used: the agent serves on the sockets systemd "
                "passed, the socket unit decides where (systemctl edit composewatch.socket)",
                {{"listen_address", cfg.listen_address}});
    // The packaged unit runs in a network namespace of its own (PrivateNetwork=yes): an
    // engine over TCP is out of reach there.
    if (endpoint.kind == engine::Endpoint::Kind::tcp)
      log::warn("the Docker engine is reached over TCP, which the packaged unit's PrivateNetwork=yes prevents "
                "(no network but loopback of its own); use the engine's unix socket, or a drop-in with "
                "PrivateNetwork=no and RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 (docs/install.md)",
                {{"engine", endpoint.text}});
  }

  // Signals first: from here SIGTERM/SIGINT stop the agent cleanly (exit 0) whatever it
  // is waiting for, and SIGHUP never kills it. Held blocked since the command line was read
  // (hold_agent_signals); a SIGHUP before the jobs run stays queued in reload_signal and is
  // handled once they do.
  asio::io_context ioc(1);
  const auto ex = ioc.get_executor();
  bool stop_requested = false;
  asio::signal_set stop_signals(ioc, SIGINT, SIGTERM);
  asio::signal_set reload_signal(ioc, SIGHUP);
  pthread_sigmask(SIG_UNBLOCK, &agent_signals(), nullptr);
  // What a stop signal does; once the prune scheduler exists, it first lets a run in
  // flight finish its deletion in flight.
  std::function<void()> stop_agent = [&] { ioc.stop(); };
  stop_signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    log::info(sig == SIGTERM ? "received SIGTERM, shutting down" : "received SIGINT, shutting down");
    stop_requested = true;
    stop_agent();
  });

  auto stats_source_or_stop = choose_stats_source(cfg, endpoint, ioc, stop_requested);  // throws for an unreadable forced cgroup
  if (!stats_source_or_stop) {
    log::info("stopped");
    return 0;
  }
  cgroup::SourceChoice stats_source = std::move(*stats_source_or_stop);
  jobs::ApiStatsOptions api_stats;
  if (stats_source.reader)
    log::info("container resources from cgroups", {{"reason", stats_source.reason}});
  else
    log::info("container resources from the Engine API",
              {{"poll_seconds", std::int64_t(api_stats.interval.count())}, {"reason", stats_source.reason}});

  state::StateModel model;
  // The kernel's count of OOM kills: a kill the engine loses is still counted.
  if (cgroup::host_oom_kills())
    model.set_host_oom_reader([] { return cgroup::host_oom_kills(); });
  else
    log::warn("the kernel's OOM-kill count is not readable: an OOM kill the engine does not report is not counted",
              {{"file", "/proc/vmstat"}, {"needs", "Linux 4.13 or later, /proc mounted"}});
  model.publish();
  jobs::Heartbeat heartbeat;

  int exit_code = 0;
  // Every long-lived job of the writer's thread, started and supervised here.
  jobs::Supervisor supervisor(ex, [&](int code) {
    exit_code = code;
    ioc.stop();
  });
  // Test only (documented in supervisor.h): make named jobs fail, to prove supervision.
  if (const char* faults = std::getenv("COMPOSEWATCH_TEST_FAULT")) {
    try {
      supervisor.inject_faults(faults);
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(e.what());
    }
  }

  http::ServerOptions server_options;
  server_options.listen_address = cfg.listen_address;
  server_options.listen_fds = listen_fds;
  server_options.max_requests = cfg.max_requests;
  server_options.max_connections = cfg.max_connections;
  server_options.web_config_file = cfg.web_config_file;
  std::shared_ptr<const web::Routes> routes;  // set before start(), the first call of the handler
  http::Server server(server_options, [&routes](const http::Request& r) { return (*routes)(r); });
  // /healthz: the writer's loop is alive and no job is crash-looping.
  auto health = [&heartbeat, &supervisor]() {
    std::vector<std::string> problems;
    if (const auto age = heartbeat.age(); age > kHeartbeatStale)
      problems.push_back("event loop stalled for " + std::to_string(age.count() / 1000) + "s");
    for (const auto& line : supervisor.unhealthy()) problems.push_back("job crash-looping: " + line);
    return problems;
  };
  routes = std::make_shared<const web::Routes>(cfg, model, health, stats_source.reader,
                                               [&server](std::function<void()> task) {
                                                 server.post_to_handler_pool(std::move(task));
                                               });
  // Throws with a one-line reason (address in use, bad web config). The accept loop runs
  // on the server's thread, supervised like the writer's jobs.
  server.start([&supervisor](std::string name, asio::any_io_executor on, jobs::Supervisor::Job job) {
    supervisor.start_on(std::move(on), std::move(name), std::move(job));
  });
  warn_if_too_few_descriptors(cfg.max_connections);

  log::info("composewatch listening", {{"version", kVersion},
                                       {"revision", kRevision},
                                       {"address", server.local_address()},
                                       {"sockets", listen_fds.empty() ? "bound" : "from systemd"},
                                       {"engine", endpoint.text},
                                       {"config", cfg.config_file.empty() ? "none" : cfg.config_file}});

  // The healer follows what the event follower applies to the model (declared first: it
  // outlives the follower that tells it).
  jobs::Healer healer(ex, endpoint, model, cfg.autoheal);
  jobs::EventFollower tracker(ex, endpoint, model);
  tracker.add_listener({.event = [&healer](const docker::Event& e, const state::ContainerRecord* r) { healer.on_event(e, r); },
                        .listed = [&healer] { healer.on_listed(); }});
  // Counters and the stream position of the last run: the first connect resumes there.
  std::error_code dir_error;
  std::filesystem::create_directories(cfg.state_dir, dir_error);
  state::StateFile state_file(cfg.state_dir);
  if (auto saved = state_file.load()) {
    model.restore(*saved);
    tracker.restore(saved->stream);
    model.publish();
    log::info("saved state loaded", {{"file", state_file.path().string()},
                                     {"containers", saved->containers.size()},
                                     {"resume_from", docker::format_since(saved->stream.live_until_nano)}});
  }
  jobs::StateSaver state_saver(ex, model, state_file, [&] { return tracker.position(); });
  supervisor.start("events", tracker);
  supervisor.start("state", state_saver);
  std::optional<jobs::OomFolder> oom_folder;
  std::optional<jobs::ApiStatsPoller> stats_poller;
  oom_folder.emplace(ex, stats_source.reader, model);
  supervisor.start("oom-folder", *oom_folder);
  if (!stats_source.reader) {
    stats_poller.emplace(ex, endpoint, model, api_stats);
    supervisor.start("stats-poller", *stats_poller);
  }
  jobs::ProjectWatcher compose_projects(ex, model, cfg.compose_projects,
                                           {.environment = commands::process_environment()});
  supervisor.start("compose-watcher", compose_projects);
  jobs::DiskCollector disk_usage(ex, endpoint, model, {.interval = cfg.disk_interval, .timeout = cfg.disk_timeout});
  supervisor.start("disk", disk_usage);
  jobs::ImageChecker image_checks(ex, endpoint, model);
  supervisor.start("images", image_checks);
  jobs::DriftLogger drift_log(model);
  supervisor.start("drift-log", drift_log);
  jobs::PruneScheduler prune_policies(ex, endpoint, model, cfg.prune_policies,
                                       {.lock_path = prune::lock_path(cfg.state_dir),
                                        .df_timeout = cfg.disk_timeout,
                                        .random = {}});
  // A stop signal during an applied run: the deletion in flight finishes (an image's every
  // untag included), logged and counted, within kPruneStopGrace; the unit's
  // TimeoutStopSec leaves room for it.
  asio::steady_timer prune_stop_grace(ioc);
  stop_agent = [&] {
    if (!prune_policies.request_stop([&] {
          log::info("prune run stopped; shutting down");
          ioc.stop();
        })) {
      ioc.stop();
      return;
    }
    log::info("waiting for the prune run in flight to finish its deletion in flight",
              {{"bound_seconds", std::int64_t(kPruneStopGrace.count())}});
    prune_stop_grace.expires_after(kPruneStopGrace);
    prune_stop_grace.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      log::warn("prune run still deleting at the bound; shutting down anyway",
                {{"bound_seconds", std::int64_t(kPruneStopGrace.count())}});
      ioc.stop();
    });
  };
  bool prune_started = !cfg.prune_policies.empty();
  if (prune_started) {
    supervisor.start("prune", prune_policies);
    for (const auto& p : cfg.prune_policies)
      log::info("prune policy scheduled", {{"policy", p.name}, {"target", p.target}, {"schedule", p.schedule},
                                           {"dry_run", p.dry_run}});
  }
  // Auto-heal always runs: the label composewatch.autoheal=true opts a container in with
  // the default settings even without an autoheal section. It touches nothing else.
  supervisor.start("autoheal", healer);
  log::info("auto-heal follows opted-in containers",
            {{"label", std::string(autoheal::kOptInLabel) + "=true"},
             {"services", cfg.autoheal.services.size()},
             {"unhealthy_for_seconds", std::int64_t(cfg.autoheal.unhealthy_for.count())},
             {"action", cfg.autoheal.action},
             {"dry_run", cfg.autoheal.dry_run}});
  // After server.start(): its READY=1 says the HTTP endpoint serves (engine or not).
  jobs::SystemdNotifier systemd(model, endpoint.text);
  if (systemd.enabled()) {
    supervisor.start("systemd", systemd);
    log::info("running under systemd", {{"watchdog_seconds",
                                         systemd.watchdog() ? double(systemd.watchdog()->count()) / 1e6 : 0.0}});
  }
  supervisor.start("heartbeat", heartbeat);
  jobs::Expiry expiry(model);
  supervisor.start("expiry", expiry);

  auto configured_projects = cfg.compose_projects;
  std::function<void(const boost::system::error_code&, int)> on_hup = [&](const boost::system::error_code& ec, int) {
    if (ec) return;
    systemd.reloading();
    try {
      auto next = config::reload_config(cfg);
      // compose.projects and prune.policies change at run time; the rest is validated so
      // that a broken edit is reported now and not at the next restart, and named when it
      // changed: only what took effect is said to be reloaded.
      prune_policies.reload(next.prune_policies);
      if (!prune_started && !next.prune_policies.empty()) {
        supervisor.start("prune", prune_policies);
        prune_started = true;
      }
      configured_projects = next.compose_projects;
      log::info("SIGHUP: configuration valid; compose.projects and prune.policies reloaded",
                {{"file", next.config_file}});
      if (const auto pending = config::changes_needing_restart(cfg, next); !pending.empty()) {
        std::string names;
        for (const auto& n : pending) names += (names.empty() ? "" : ",") + n;
        log::warn("SIGHUP: changed settings not applied; they take effect at the next start", {{"settings", names}});
      }
    } catch (const std::exception& e) {
      log::error("SIGHUP: rejected the new configuration, keeping the old one", {{"error", e.what()}});
      // A policy edit that does not load must not leave the old policies deleting: no
      // prune runs until the file is valid again.
      prune_policies.suspend(e.what());
    }
    compose_projects.reload(configured_projects);  // the compose files are re-read either way
    systemd.reloaded();
    reload_signal.async_wait(on_hup);
  };
  reload_signal.async_wait(on_hup);

  ioc.run();
  if (stop_requested) systemd.stopping();
  state_saver.save_now();  // the writer's thread is this one again: counters and position agree
  server.stop();
  log::info("stopped");
  return exit_code;
}

}  // namespace composewatch::app
