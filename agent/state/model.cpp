#include "composewatch/state/model.h"

#include "composewatch/docker/image_ref.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <iterator>
#include <set>
#include <utility>

namespace composewatch::state {

StateModel::StateModel(StateOptions options) : options_(options) {
  published_.store(std::make_shared<const Snapshot>());
}

ContainerRecord& StateModel::record_for(const std::string& name) {
  auto [it, inserted] = by_name_.try_emplace(name);
  if (inserted) it->second.name = name;
  return it->second;
}

ContainerRecord* StateModel::find_by_id(const std::string& id) {
  return const_cast<ContainerRecord*>(std::as_const(*this).find_by_id(id));
}

const ContainerRecord* StateModel::find_by_id(const std::string& id) const {
  auto it = name_by_id_.find(id);
  if (it == name_by_id_.end()) return nullptr;
  auto rec = by_name_.find(it->second);
  return rec == by_name_.end() ? nullptr : &rec->second;
}

std::uint64_t StateModel::sequence_of(const std::string& id) const {
  const ContainerRecord* r = find_by_id(id);
  return r ? r->seq : 0;
}

std::string container_name(std::string_view attribute) {
  if (!attribute.empty() && attribute.front() == '/') attribute.remove_prefix(1);
  return std::string(attribute);
}

const ContainerRecord* StateModel::container(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &it->second;
}

const ContainerRecord* StateModel::record_of(const docker::Event& e) const {
  if (e.type != "container" || e.actor_id.empty()) return nullptr;
  // As apply() finds it: by the name the event carries, else by the id.
  const std::string name = container_name(e.attribute("name"));
  return name.empty() ? find_by_id(e.actor_id) : container(name);
}

void StateModel::note_image_seen(const std::string& key, double t) {
  if (key.empty() || t <= 0) return;
  auto [it, inserted] = images_seen_.try_emplace(key, t);
  if (!inserted) {
    if (it->second >= t) return;
    it->second = t;
  }
  images_seen_changed_ = true;
  if (images_seen_.size() > kMaxImagesSeen) {
    auto oldest = std::min_element(images_seen_.begin(), images_seen_.end(),
                                   [](const auto& a, const auto& b) { return a.second < b.second; });
    images_seen_.erase(oldest);
  }
}

bool ends_process(std::string_view signal) {
  int n = 0;
  if (std::from_chars(signal.data(), signal.data() + signal.size(), n).ptr == signal.data() + signal.size() &&
      !signal.empty()) {
    // Linux numbering (x86, arm): HUP 1, USR1 10, USR2 12, CHLD 17, CONT 18, STOP 19, TSTP 20,
    // TTIN 21, TTOU 22, URG 23, WINCH 28.
    static constexpr int kInformational[] = {1, 10, 12, 17, 18, 19, 20, 21, 22, 23, 28};
    return std::find(std::begin(kInformational), std::end(kInformational), n) == std::end(kInformational);
  }
  std::string name(signal);
  for (char& c : name) c = char(std::toupper(static_cast<unsigned char>(c)));
  if (name.starts_with("SIG")) name.erase(0, 3);
  for (const char* info : {"HUP", "USR1", "USR2", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "WINCH"})
    if (name == info) return false;
  return true;
}

namespace {
// OOM kills of the container's current instance, by whichever way counted more.
std::uint64_t instance_oom_kills(const ContainerRecord& r) {
  return std::max(r.oom_instance.counted, r.oom_instance.events);
}
}  // namespace

ExitReason classify_exit(const ContainerRecord& r, int exit_code) {
  const std::uint64_t ooms = instance_oom_kills(r);
  // A stop asked after the last OOM kill is why it ended; an OOM kill after the stop
  // (or with none) is.
  if (r.stop_requested && ooms <= r.ooms_at_stop) return ExitReason::stopped;
  if (ooms > 0) return ExitReason::oom;
  return exit_code == 0 ? ExitReason::completed : ExitReason::error;
}

const LastExit* current_exit(const ContainerRecord& r) {
  if (!r.present || (r.state != "exited" && r.state != "dead")) return nullptr;
  if (!r.last_exit || r.last_exit->id != r.id) return nullptr;
  return &*r.last_exit;
}

void StateModel::count_exit(ContainerRecord& r, int code, ExitReason reason, double at) {
  ++r.counters.exits[{code, reason}];
  r.last_exit = LastExit{r.id, code, reason, at};
}

void StateModel::settle_exit(ContainerRecord& r, ExitReason otherwise) {
  if (!r.pending_exit) return;
  const auto p = *r.pending_exit;
  r.pending_exit.reset();
  count_exit(r, p.code, instance_oom_kills(r) > 0 ? ExitReason::oom : otherwise, p.at);
}

void StateModel::count_oom_kills(ContainerRecord& r, std::uint64_t n, double at) {
  if (n == 0) return;
  r.counters.oom_kills += n;
  if (!r.last_oom_kill_at || at > *r.last_oom_kill_at) r.last_oom_kill_at = at;
}

namespace {
double seconds_now() {
  return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
}

// An image event's actor is an id ("sha256:…") or a reference as pulled ("x:1", "x@sha256:…").
std::string image_key(std::string_view actor) {
  if (actor.starts_with("sha256:")) return std::string(actor);
  return docker::normalize_image_ref(actor);
}
}  // namespace

Followup StateModel::apply(const docker::Event& e, Clock::time_point now) {
  ++events_[{e.type, e.action}];
  const double t = static_cast<double>(e.time_nano) / 1e9;
  if (e.type == "image" && !e.actor_id.empty()) {
    const std::string& a = e.action;
    if (a == "pull" || a == "tag" || a == "load" || a == "import") {
      note_image_seen(image_key(e.actor_id), t);
      // `tag` names the new reference in `name`; `pull` names only the repository there.
      if (a == "tag" && !e.attribute("name").empty()) note_image_seen(image_key(e.attribute("name")), t);
    }
    return Followup::none;
  }
  if (e.type != "container" || e.actor_id.empty()) return Followup::none;

  // Events carry the name; without one (never seen from real engines) fall back to the id.
  ContainerRecord* rec = nullptr;
  std::string name = container_name(e.attribute("name"));
  if (!name.empty()) {
    rec = &record_for(name);
    if (rec->id != e.actor_id) {
      if (!rec->id.empty()) name_by_id_.erase(rec->id);
      rec->id = e.actor_id;
      name_by_id_[e.actor_id] = name;
    }
  } else {
    rec = find_by_id(e.actor_id);
    if (!rec) return Followup::none;
  }
  ++rec->seq;
  // A die by SIGKILL waiting for its inspect: an `oom` event (late) makes it oom, a
  // `stop` (which the engine sends once the container is down) stopped; anything else
  // means the inspect will not tell more than what is known now.
  if (rec->pending_exit && e.action != "oom")
    settle_exit(*rec, e.action == "stop" ? ExitReason::stopped : ExitReason::error);
  if (e.action != "destroy" && !rec->present) {
    rec->present = true;  // re-created under a known name: counters carry on
  }
  if (auto img = e.attribute("image"); !img.empty()) rec->spec.image = std::string(img);
  if (e.has_attribute(docker::kLabelProject))
    rec->spec.compose.project = std::string(e.attribute(docker::kLabelProject));
  if (e.has_attribute(docker::kLabelService))
    rec->spec.compose.service = std::string(e.attribute(docker::kLabelService));

  const std::string& a = e.action;
  if (a == "create" || a == "start" || a == "die" || a == "destroy") {
    note_image_seen(rec->image_id, t);
    if (!rec->spec.image.empty() && !rec->spec.image.starts_with("sha256:"))
      note_image_seen(docker::normalize_image_ref(rec->spec.image), t);
  }
  if (a == "create") {
    rec->state = "created";
    rec->health = "none";
    rec->failing_streak = 0;
    rec->started_at.reset();
    return Followup::inspect;
  }
  if (a == "start") {
    if (rec->died_since_start) ++rec->counters.restarts;
    rec->died_since_start = false;
    rec->oom_instance = OomInstance{};  // a new cgroup, its oom_kill counter from 0
    rec->stop_requested = false;
    rec->ooms_at_stop = 0;
    rec->state = "running";
    rec->started_at = t;
    rec->failing_streak = 0;
    // A healthcheck starts over on every start; inspect tells whether there is one.
    return Followup::inspect;
  }
  if (a == "die") {
    rec->died_since_start = true;
    rec->state = "exited";
    rec->pid = 0;
    int code = -1;
    auto ec = e.attribute("exitCode");
    if (std::from_chars(ec.data(), ec.data() + ec.size(), code).ec != std::errc()) code = -1;
    // Killed by SIGKILL that Docker did not send, and no OOM kill of it known yet: the
    // engine may have lost the kill; the host's count tells. (A late `oom` of the run
    // before has not come by now: it is not awaited any longer.)
    rec->oom_from_host_count = false;
    if (code == 137 && !rec->stop_requested && instance_oom_kills(*rec) == 0) count_unreported_oom_kill(*rec, t, now);
    const ExitReason reason = classify_exit(*rec, code);
    // A SIGKILL may be an OOM kill whose `oom` event the engine lost: inspect tells, and
    // until it does an exit that would otherwise be an error waits.
    if (code == 137 && reason == ExitReason::error)
      rec->pending_exit = PendingExit{code, t};
    else
      count_exit(*rec, code, reason, t);
    // The exit is the record's until the next inspect: drift tells a completed one-shot
    // (0) from a failed one by it, and no inspect follows most deaths.
    if (code >= 0) rec->exit_code = code;
    return code == 137 ? Followup::inspect : Followup::none;
  }
  if (a == "oom") {
    OomInstance& i = rec->oom_instance;
    if (rec->oom_from_host_count) {
      // The late word of a kill already counted from the host's count: of the run that
      // died, even when a restart policy has started the next one since.
      rec->oom_from_host_count = false;
      settle_exit(*rec, ExitReason::error);
      return Followup::none;
    }
    ++i.events;
    if (i.events > i.counted) {  // else the cgroup's counter or the host's has already told of this kill
      count_live_oom_kills(*rec, i.events - i.counted, t, now);
      i.counted = i.events;
    }
    settle_exit(*rec, ExitReason::error);  // an oom after the die it caused: oom
    return Followup::none;
  }
  if (a == "kill" || a == "stop") {
    if (a == "stop" || ends_process(e.attribute("signal"))) {
      if (!rec->stop_requested) rec->ooms_at_stop = instance_oom_kills(*rec);
      rec->stop_requested = true;
    }
    return Followup::none;
  }
  if (a == "pause") {
    rec->state = "paused";
    return Followup::none;
  }
  if (a == "unpause") {
    rec->state = "running";
    return Followup::none;
  }
  if (a == "destroy") {
    rec->present = false;
    rec->state = "removing";
    rec->removed_at = now;
    // died_since_start stays: a start of a re-created container under this name is a restart.
    name_by_id_.erase(e.actor_id);
    return Followup::none;
  }
  if (a == "rename") {
    // The live container moves to its new name; the old name keeps its counters only.
    std::string old_name = container_name(e.attribute("oldName"));
    if (!old_name.empty() && old_name != name) {
      auto old = by_name_.find(old_name);
      if (old != by_name_.end()) {
        ContainerRecord& o = old->second;
        // Everything the container is moves; what was counted under a name stays with it.
        ContainerRecord moved = o;
        moved.name = rec->name;
        moved.counters = rec->counters;
        moved.last_oom_kill_at = rec->last_oom_kill_at;
        moved.died_since_start = rec->died_since_start;
        moved.seq = rec->seq;
        moved.present = true;
        moved.removed_at = {};
        *rec = std::move(moved);
        if (o.id == e.actor_id) {
          o.id.clear();
          o.present = false;
          o.removed_at = now;
        }
      }
    }
    return Followup::inspect;
  }
  if (a == "health_status") {
    const std::string& d = e.action_detail;
    if (d == "healthy" || d == "unhealthy" || d == "starting") rec->health = d;
    return Followup::inspect;  // for the failing streak
  }
  if (a == "update") return Followup::inspect;
  return Followup::none;
}

// An inspect's answer. When events for the container were applied after the inspect was
// sent (not `fresh`), the state and health it reports are older than what they said: those
// stay as the events left them.
void StateModel::take_inspect(ContainerRecord& r, const docker::ContainerInfo& info, bool fresh) {
  docker::ContainerInfo next = info;
  if (fresh) {
    if (next.health.empty()) next.health = "none";
    // Only a fresh answer says which instance runs: a stale one may still name the
    // init of the instance before the last start.
    if (info.pid > 0 && r.oom_instance.pid != info.pid) {
      if (r.oom_instance.pid != 0) r.oom_instance = OomInstance{};  // restarted unseen (events lost)
      r.oom_instance.pid = info.pid;
    }
  } else {
    next.state = r.state;
    next.health = r.health;
    next.failing_streak = r.failing_streak;
    next.started_at = r.started_at;
    next.exit_code = r.exit_code;  // of the last die the events told, as the state is
  }
  static_cast<docker::ContainerInfo&>(r) = std::move(next);
  r.present = true;
  name_by_id_[info.id] = info.name;
}

void StateModel::update(const docker::ContainerInfo& info, std::uint64_t seq_at_request) {
  if (info.name.empty()) return;
  ContainerRecord* r = find_by_id(info.id);
  // Unknown id or a renamed container: events have moved on (destroy, rename) since the
  // inspect was sent; they are the truth.
  if (!r || r->name != info.name) return;
  const bool fresh = r->seq == seq_at_request;
  take_inspect(*r, info, fresh);
  // The engine does not always emit `oom` for an OOM kill (its event comes from
  // containerd and is lost under load), and a container removed right after it dies is
  // gone before the cgroup's counter is read. The inspect that follows a die by SIGKILL,
  // answered before anything else happened to the container, still has the engine's own
  // flag: a kill of this instance that neither way counted is counted from it.
  if (fresh && r->died_since_start && (info.state == "exited" || info.state == "dead")) count_flagged_oom_kill(*r, info);
  if (fresh) settle_exit(*r, ExitReason::error);
}

void StateModel::count_flagged_oom_kill(ContainerRecord& r, const docker::ContainerInfo& info) {
  if (!info.oom_killed || r.oom_instance.events != 0 || r.oom_instance.counted != 0) return;
  count_live_oom_kills(r, 1, info.finished_at.value_or(seconds_now()), Clock::now());
  r.oom_instance.counted = 1;
}

void StateModel::reconcile(const std::vector<docker::ContainerInfo>& all, Clock::time_point now) {
  sample_host_oom_kills(now);
  std::set<std::string> live;
  for (const auto& info : all) {
    if (info.name.empty()) continue;
    live.insert(info.name);
    ContainerRecord& r = record_for(info.name);
    if (!r.id.empty() && r.id != info.id) name_by_id_.erase(r.id);
    if (r.pending_exit && r.id != info.id) settle_exit(r, ExitReason::error);
    take_inspect(r, info, true);
    if (r.pending_exit) {
      count_flagged_oom_kill(r, info);
      settle_exit(r, ExitReason::error);
    }
    // Found down with no exit seen (the agent's first listing, or re-created while it was
    // away): what inspect says of the last exit is all there is. Not counted: no one saw it happen.
    if ((info.state == "exited" || info.state == "dead") && info.finished_at &&
        (!r.last_exit || r.last_exit->id != info.id))
      r.last_exit = LastExit{info.id, info.exit_code, exit_reason_of_code(info.exit_code, info.oom_killed), *info.finished_at};
  }
  for (auto& [name, r] : by_name_) {
    if (r.present && !live.count(name)) {
      settle_exit(r, ExitReason::error);
      r.present = false;
      r.state = "removing";
      r.removed_at = now;
      if (!r.id.empty()) name_by_id_.erase(r.id);
    }
  }
}

std::uint64_t StateModel::fold_cgroup_oom_kills(const std::string& id, int pid, std::uint64_t cgroup_oom_kills) {
  ContainerRecord* r = find_by_id(id);
  if (!r || pid <= 0 || r->pid != pid || r->oom_instance.pid != pid) return 0;
  OomInstance& i = r->oom_instance;
  if (cgroup_oom_kills <= i.counted) return 0;
  std::uint64_t added = cgroup_oom_kills - i.counted;
  count_live_oom_kills(*r, added, seconds_now(), Clock::now());
  i.counted = cgroup_oom_kills;
  return added;
}

void StateModel::count_live_oom_kills(ContainerRecord& r, std::uint64_t n, double at, Clock::time_point now) {
  count_oom_kills(r, n, at);
  host_oom_.explained(now, n);
}

void StateModel::set_host_oom_reader(std::function<std::optional<std::uint64_t>()> read) {
  host_oom_reader_ = std::move(read);
}

void StateModel::sample_host_oom_kills(Clock::time_point now) {
  if (!host_oom_reader_) return;
  if (auto n = host_oom_reader_()) host_oom_.sample(now, *n);
}

bool StateModel::count_unreported_oom_kill(ContainerRecord& r, double at, Clock::time_point now) {
  if (!host_oom_reader_) return false;
  // Only a death of the last seconds: the host's count says nothing of when older kills
  // happened (a death replayed after a reconnect is judged by its inspect alone).
  const double age = std::chrono::duration<double>(now.time_since_epoch()).count() - at;
  if (age > double(HostOomLedger::kWindow.count())) return false;
  const auto n = host_oom_reader_();
  if (!n || !host_oom_.take_unexplained(now, *n)) return false;
  count_oom_kills(r, 1, at);
  r.oom_instance.counted = 1;
  r.oom_from_host_count = true;
  ++host_oom_attributions_;
  return true;
}

void StateModel::set_api_stats(std::shared_ptr<const ApiStats> stats) { api_stats_ = std::move(stats); }

void StateModel::set_engine_up(bool up, std::string error) {
  engine_.up = up;
  engine_.error = up ? std::string() : std::move(error);
}
void StateModel::set_engine_info(std::string version, std::string api_version) {
  engine_.version = std::move(version);
  engine_.api_version = std::move(api_version);
}
void StateModel::set_ready(bool ready) { engine_.ready = ready; }
void StateModel::count_reconnect() { ++engine_.stream_reconnects; }
void StateModel::set_event_gap(double seconds, Clock::time_point at) {
  engine_.event_gap_seconds = seconds;
  if (seconds > 0) engine_.event_gap_at = std::chrono::duration<double>(at.time_since_epoch()).count();
}

void StateModel::count_missed_death(const std::string& id, const std::string& name, int exit_code, bool oom_killed,
                                    bool started_again, std::optional<double> finished_at) {
  ContainerRecord* r = find_by_id(id);
  if (!r) {
    if (name.empty()) return;
    r = &record_for(name);
  }
  settle_exit(*r, ExitReason::error);
  const double at = finished_at.value_or(0);
  const ExitReason reason = exit_reason_of_code(exit_code, oom_killed);
  ++r->counters.exits[{exit_code, reason}];
  r->last_exit = LastExit{id, exit_code, reason, at};
  if (oom_killed) count_oom_kills(*r, 1, finished_at.value_or(seconds_now()));
  if (started_again) {
    ++r->counters.restarts;
    r->died_since_start = false;
  } else {
    r->died_since_start = true;
  }
}

namespace {
double to_seconds(Clock::time_point t) { return std::chrono::duration<double>(t.time_since_epoch()).count(); }
Clock::time_point from_seconds(double s) {
  return Clock::time_point(std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s)));
}
}  // namespace

void StateModel::save_to(SavedState& out) const {
  out.stream_reconnects = engine_.stream_reconnects;
  out.events.clear();
  for (const auto& [key, n] : events_) out.events.push_back({key.first, key.second, n});
  out.containers.clear();
  out.containers.reserve(by_name_.size());
  for (const auto& [name, r] : by_name_) {
    SavedContainer c;
    c.name = name;
    c.id = r.id;
    c.project = r.project();
    c.service = r.service();
    c.image = r.spec.image;
    c.state = r.state;
    c.present = r.present;
    if (!r.present) c.removed_at = to_seconds(r.removed_at);
    c.counters = r.counters;
    c.last_exit = r.last_exit;
    if (r.pending_exit) {  // saved as what it will be unless an inspect says otherwise
      ++c.counters.exits[{r.pending_exit->code, ExitReason::error}];
      c.last_exit = LastExit{r.id, r.pending_exit->code, ExitReason::error, r.pending_exit->at};
    }
    c.last_oom_kill_at = r.last_oom_kill_at;
    if (r.stop_requested) c.stop_requested_at_ooms = r.ooms_at_stop;
    c.died_since_start = r.died_since_start;
    c.oom_instance = r.oom_instance;
    out.containers.push_back(std::move(c));
  }
  out.autoheal = autoheal_ ? *autoheal_ : std::vector<AutohealRecord>{};
  out.images_seen = images_seen_;
}

void StateModel::restore(const SavedState& saved) {
  engine_.stream_reconnects = saved.stream_reconnects;
  for (const auto& e : saved.events) events_[{e.type, e.action}] = e.count;
  for (const auto& c : saved.containers) {
    ContainerRecord& r = record_for(c.name);
    r.id = c.id;
    r.spec.compose.project = c.project;
    r.spec.compose.service = c.service;
    r.spec.image = c.image;
    r.state = c.state;
    r.present = c.present;
    if (!c.present) r.removed_at = c.removed_at ? from_seconds(*c.removed_at) : Clock::now();
    r.counters = c.counters;
    r.last_exit = c.last_exit;
    r.last_oom_kill_at = c.last_oom_kill_at;
    r.stop_requested = c.stop_requested_at_ooms.has_value();
    r.ooms_at_stop = c.stop_requested_at_ooms.value_or(0);
    r.died_since_start = c.died_since_start;
    r.oom_instance = c.oom_instance;
    if (c.present && !c.id.empty()) name_by_id_[c.id] = c.name;
  }
  if (!saved.autoheal.empty()) autoheal_ = std::make_shared<const std::vector<AutohealRecord>>(saved.autoheal);
  for (const auto& [key, t] : saved.images_seen) note_image_seen(key, t);
}

void StateModel::count_stream_errors(const StreamErrors& more) {
  engine_.stream_errors.parse += more.parse;
  engine_.stream_errors.oversized += more.oversized;
  engine_.stream_errors.truncated += more.truncated;
}
void StateModel::set_compose(std::shared_ptr<const compose::ComposeState> compose) { compose_ = std::move(compose); }
void StateModel::set_disk(std::shared_ptr<const disk::DiskReport> disk) { disk_ = std::move(disk); }
void StateModel::set_prune(std::shared_ptr<const prune::PruneStatus> prune) { prune_ = std::move(prune); }
void StateModel::set_autoheal(std::shared_ptr<const std::vector<AutohealRecord>> records) {
  autoheal_ = std::move(records);
}
void StateModel::set_images(std::shared_ptr<const images::ImageReport> images) { images_ = std::move(images); }

void StateModel::expire(Clock::time_point now) {
  for (auto it = by_name_.begin(); it != by_name_.end();) {
    const ContainerRecord& r = it->second;
    if (!r.present && now - r.removed_at >= options_.retention)
      it = by_name_.erase(it);
    else
      ++it;
  }
}

void StateModel::publish(Clock::time_point now) {
  auto snap = std::make_shared<Snapshot>();
  snap->containers.reserve(by_name_.size());
  for (const auto& [name, r] : by_name_) snap->containers.push_back(r);
  snap->events.reserve(events_.size());
  for (const auto& [key, n] : events_) snap->events.push_back(EventCount{key.first, key.second, n});
  snap->engine = engine_;
  snap->compose = compose_;
  snap->disk = disk_;
  snap->prune = prune_;
  snap->autoheal = autoheal_;
  snap->images = images_;
  if (images_seen_changed_) {
    images_seen_published_ = std::make_shared<const std::map<std::string, double>>(images_seen_);
    images_seen_changed_ = false;
  }
  snap->image_last_seen = images_seen_published_;
  snap->api_stats = api_stats_;
  snap->taken_at = now;
  snap->sequence = ++published_count_;
  published_.store(std::move(snap));
}

LiveByProject live_containers_by_project(const std::vector<ContainerRecord>& records,
                                         const std::vector<std::string_view>& projects) {
  LiveByProject out;
  for (const auto p : projects) out.try_emplace(std::string(p));
  for (const auto& r : records)
    if (r.present)
      if (auto it = out.find(r.project()); it != out.end()) it->second.push_back(docker::live_container(r));
  return out;
}

std::vector<docker::LiveContainer> live_containers(const std::vector<ContainerRecord>& records) {
  std::vector<docker::LiveContainer> out;
  out.reserve(records.size());
  for (const auto& r : records) {
    if (r.present) out.push_back(docker::live_container(r));
  }
  return out;
}

}  // namespace composewatch::state
