// ProjectWatcher: the agent's compose projects, kept current on the engine thread.

#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include "composewatch/jobs/compose_watcher.h"

#include "composewatch/compose/discovery.h"
#include "composewatch/log/log.h"

namespace composewatch::jobs {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

// What a project's load depends on: its files, its env files (explicit, recorded on its
// containers, or the default .env in the project directory), and the files its last good
// model was also read from (extends and include files, services' env_file).
std::set<std::string> watched_paths(const compose::ProjectState& p) {
  const compose::ProjectSource& s = p.source;
  std::set<std::string> out(s.files.begin(), s.files.end());
  out.insert(s.label_env_files.begin(), s.label_env_files.end());
  if (!s.env_file.empty())
    out.insert(s.env_file);
  else if (!s.project_directory.empty())
    out.insert((fs::path(s.project_directory) / ".env").string());
  else if (!s.files.empty())
    out.insert((fs::path(s.files.front()).parent_path() / ".env").string());
  if (p.model) out.insert(p.model->dependencies.begin(), p.model->dependencies.end());
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + v[i];
  return s;
}

}  // namespace

struct ProjectWatcher::Impl {
  Impl(asio::any_io_executor ex, state::StateModel& m, std::vector<config::ComposeProjectConfig> cfg, Options o)
      : model(m), configured(compose::configured_sources(cfg)), options(std::move(o)), wake(ex), inotify(ex) {}

  state::StateModel& model;
  std::vector<compose::ProjectSource> configured;
  Options options;
  std::vector<compose::ProjectState> projects;  // by name
  asio::steady_timer wake;             // the next rediscovery, or the end of a debounce
  SteadyClock::time_point last_change{};  // of a watched file, while `dirty` is not empty
  asio::posix::stream_descriptor inotify;
  std::map<int, std::string> dir_by_wd;
  std::map<std::string, int> wd_by_dir;
  std::set<std::string> dirty;  // project names whose files changed
  alignas(inotify_event) std::array<char, 16 * 1024> buf{};
  std::map<std::string, std::string> logged;  // project → the error last logged ("" = valid)
  bool published = false;

  asio::awaitable<void> run() {
    using namespace boost::asio::experimental::awaitable_operators;
    int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) {
      log::warn("cannot watch compose files; they are reloaded on SIGHUP only",
                {{"inotify_error", std::strerror(errno)}});
    } else {
      if (inotify.is_open()) {  // a restart of this job: its watches went with the old descriptor
        inotify.close();
        dir_by_wd.clear();
        wd_by_dir.clear();
      }
      inotify.assign(fd);
    }
    sync(/*reload_all=*/true);
    if (inotify.is_open())
      co_await (watch_files() && tick());
    else
      co_await tick();
  }

  // Rediscovers every rediscover_every, and reloads dirty projects once their files have
  // been quiet for `debounce`.
  asio::awaitable<void> tick() {
    auto next_rediscovery = SteadyClock::now() + options.rediscover_every;
    for (;;) {
      auto due = next_rediscovery;
      if (!dirty.empty()) due = std::min(due, last_change + options.debounce);
      wake.expires_at(due);
      co_await wake.async_wait(use_tuple);  // cancelled when a file changes: recompute `due`
      const auto now = SteadyClock::now();
      if (now < due) continue;
      sync(false);
      if (now >= next_rediscovery) next_rediscovery = now + options.rediscover_every;
    }
  }

  asio::awaitable<void> watch_files() {
    for (;;) {
      auto [ec, n] = co_await inotify.async_read_some(asio::buffer(buf), use_tuple);
      if (ec) {
        log::warn("inotify read failed; compose files are reloaded on SIGHUP only", {{"error", ec.message()}});
        co_return;
      }
      on_events(n);
    }
  }

  std::vector<compose::ProjectSource> sources() {
    // The writer publishes after every change, so the last snapshot is current. Its
    // containers are read again only when a new one was published: copying every
    // container's spec each second was most of an idle agent's CPU on a large host.
    const auto snap = model.snapshot();
    if (snap->sequence == 0 || snap->sequence != discovered_at) {
      discovered = compose::discovered_sources(state::live_containers(snap->containers));
      discovered_at = snap->sequence;
    }
    return compose::merge_sources(configured, discovered);
  }
  std::vector<compose::ProjectSource> discovered;  // from the containers of snapshot `discovered_at`
  std::uint64_t discovered_at = 0;

  void log_change(const compose::ProjectState& st) {
    auto it = logged.find(st.name);
    const std::string now = st.valid ? "" : st.error;
    if (it != logged.end() && it->second == now) return;
    const bool first = it == logged.end();
    logged[st.name] = now;
    if (!st.valid && !st.source.configured && !st.source.problem.empty()) {
      log::debug("compose project not checked", {{"project", st.name}, {"reason", st.error}});
    } else if (!st.valid) {
      log::error(st.model ? "compose project could not be loaded; keeping the last good model"
                          : "compose project could not be loaded",
                 {{"project", st.name}, {"error", st.error}});
    } else {
      log::info(first ? "compose project loaded" : "compose project reloaded",
                {{"project", st.name},
                 {"files", join(st.source.files)},
                 {"services", st.model->services.size()},
                 {"lint_findings", st.findings.size()}});
      // As Compose prints them: unset variables, env files the agent may not read.
      for (const auto& w : st.model->warnings) log::warn("compose project warning", {{"project", st.name}, {"warning", w}});
      std::set<std::string> unknown;
      for (const auto& [name, svc] : st.model->services)
        for (const auto& [field, vars] : svc.unknown) unknown.insert(vars.begin(), vars.end());
      if (!unknown.empty())
        log::warn("compose fields depend on variables the agent does not have; they are not compared",
                  {{"project", st.name},
                   {"variables", join({unknown.begin(), unknown.end()})},
                   {"fix", "set compose.projects[].env_file in the config file, or Environment=/EnvironmentFile= "
                           "in a systemd drop-in (systemctl edit composewatch)"}});
    }
  }

  // Brings `projects` in line with the current sources; loads what is new, changed,
  // dirty, or everything when reload_all. Publishes when anything changed.
  void sync(bool reload_all) {
    std::vector<compose::ProjectState> next;
    bool changed = false;
    for (const compose::ProjectSource& src : sources()) {
      const compose::ProjectState* old = nullptr;
      for (const auto& p : projects)
        if (p.name == src.name) old = &p;
      if (old && old->source == src && !reload_all && !dirty.count(src.name)) {
        next.push_back(*old);
        continue;
      }
      compose::ProjectState st = compose::load_source(src, old, options.environment);
      st.name = src.name;
      log_change(st);
      next.push_back(std::move(st));
      changed = true;
    }
    for (const auto& p : projects) {
      bool kept = std::any_of(next.begin(), next.end(), [&](const compose::ProjectState& n) { return n.name == p.name; });
      if (!kept) {
        log::info("compose project no longer configured nor running; forgotten", {{"project", p.name}});
        logged.erase(p.name);
        changed = true;
      }
    }
    dirty.clear();
    projects = std::move(next);
    update_watches();
    // The first sync publishes even no project: "none known" is news too (prune waits
    // for it before it trusts that no compose file names an image).
    if (changed || !published) {
      published = true;
      model.set_compose(std::make_shared<const compose::ComposeState>(compose::ComposeState{projects}));
      model.publish();
    }
  }

  void update_watches() {
    if (!inotify.is_open()) return;
    std::set<std::string> dirs;
    for (const auto& p : projects)
      for (const auto& f : watched_paths(p)) dirs.insert(fs::path(f).parent_path().string());
    for (auto it = wd_by_dir.begin(); it != wd_by_dir.end();) {
      if (dirs.count(it->first)) {
        ++it;
        continue;
      }
      ::inotify_rm_watch(inotify.native_handle(), it->second);
      dir_by_wd.erase(it->second);
      it = wd_by_dir.erase(it);
    }
    for (const auto& d : dirs) {
      if (wd_by_dir.count(d)) continue;
      // Directories, not files: editors save by writing a new file and renaming it over.
      int wd = ::inotify_add_watch(inotify.native_handle(), d.c_str(),
                                   IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE |
                                       IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR);
      if (wd < 0) continue;  // missing for now: the project is invalid; retried at every rediscovery
      wd_by_dir[d] = wd;
      dir_by_wd[wd] = d;
      // A directory that appears (again) may hold files that changed while unwatched.
      for (const auto& p : projects)
        if (!p.valid) mark_if_uses(p, d, std::nullopt);
    }
  }

  // Marks `p` dirty when it depends on a file in `dir` (named `name`, or any when nullopt).
  bool mark_if_uses(const compose::ProjectState& p, const std::string& dir, const std::optional<std::string>& name) {
    for (const auto& f : watched_paths(p)) {
      fs::path path(f);
      if (path.parent_path().string() != dir) continue;
      if (name && path.filename().string() != *name) continue;
      dirty.insert(p.name);
      arm_debounce();
      return true;
    }
    return false;
  }

  void arm_debounce() {
    last_change = SteadyClock::now();
    wake.cancel();
  }

  void on_events(std::size_t n) {
    std::size_t off = 0;
    while (off + sizeof(inotify_event) <= n) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf.data() + off);
      off += sizeof(inotify_event) + ev->len;
      auto it = dir_by_wd.find(ev->wd);
      if (it == dir_by_wd.end()) continue;
      const std::string dir = it->second;
      if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
        // The directory itself went away: its projects fail to load now, and are loaded
        // again once it is back (update_watches at the next rediscovery).
        if (ev->mask & IN_IGNORED) {
          wd_by_dir.erase(dir);
          dir_by_wd.erase(ev->wd);
        }
        for (const auto& p : projects) mark_if_uses(p, dir, std::nullopt);
        continue;
      }
      std::optional<std::string> name;
      if (ev->len > 0) name = std::string(ev->name);
      for (const auto& p : projects) mark_if_uses(p, dir, name);
    }
  }

};

ProjectWatcher::ProjectWatcher(asio::any_io_executor ex, state::StateModel& model,
                               std::vector<config::ComposeProjectConfig> configured, Options options)
    : impl_(std::make_shared<Impl>(std::move(ex), model, std::move(configured), std::move(options))) {}

ProjectWatcher::~ProjectWatcher() = default;

asio::awaitable<void> ProjectWatcher::run() { return impl_->run(); }

void ProjectWatcher::reload(std::vector<config::ComposeProjectConfig> configured) {
  impl_->configured = compose::configured_sources(configured);
  impl_->sync(/*reload_all=*/true);
}

}  // namespace composewatch::jobs
