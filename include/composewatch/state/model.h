#pragma once
// The container state model: the single writer of what composewatch knows about the
// engine. Fed by events and inventory (the engine thread); read through immutable
// snapshots (any thread, lock-free for readers but for one atomic load).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "composewatch/docker/container.h"
#include "composewatch/docker/event.h"
#include "composewatch/docker/stats.h"
#include "composewatch/state/host_oom_ledger.h"
#include "composewatch/state/saved.h"

namespace composewatch::compose {
struct ComposeState;  // compose/discovery.h
}  // namespace composewatch::compose
namespace composewatch::disk {
struct DiskReport;  // disk/report.h
}  // namespace composewatch::disk
namespace composewatch::prune {
struct PruneStatus;  // prune/status.h
}  // namespace composewatch::prune
namespace composewatch::images {
struct ImageReport;  // images/report.h
}  // namespace composewatch::images

namespace composewatch::state {

using Clock = std::chrono::system_clock;

// A die whose class waits for the inspect that follows it (ContainerRecord::pending_exit).
struct PendingExit {
  int code = 0;
  double at = 0;  // the die's time, seconds since the epoch
};

// What the model knows of one container name. The docker-side part is the container as
// the last inspect described it (its name is the key; its id that of the current or last
// container with this name), kept current between inspects by events: they update the
// state (and "removing" once destroyed), health, start time and pid they imply, and the
// image and Compose project and service they carry. The rest is counted by the model.
struct ContainerRecord : docker::ContainerInfo {
  ContainerRecord() { health = "none"; }  // until an inspect or a health event says
  bool present = true;  // false once destroyed; then only the counters are exported
  Clock::time_point removed_at{};
  Counters counters;
  bool died_since_start = false;  // a start after a die is a restart
  OomInstance oom_instance;
  std::uint64_t seq = 0;  // bumped by every event applied to this name

  // Since the last start: a `kill` (of a signal that ends a process) or `stop` event asked
  // the container to stop, when the OOM kills of the instance stood at `ooms_at_stop`.
  bool stop_requested = false;
  std::uint64_t ooms_at_stop = 0;
  // A die by SIGKILL with no stop asked and no OOM kill counted: the engine may have lost
  // the `oom` event, so the exit is counted once the inspect that follows (or the next
  // event for the container) tells whether the engine saw an OOM kill.
  std::optional<PendingExit> pending_exit;
  // An OOM kill counted from the host's count at a die (HostOomLedger), whose own `oom`
  // event may still come, late, also after the next start: that event is this kill.
  bool oom_from_host_count = false;
  std::optional<LastExit> last_exit;       // of the container `id` or an earlier one under the name
  std::optional<double> last_oom_kill_at;  // when the last OOM kill counted for the name happened
};

// The class of an exit of this container now, from what the events since its start said
// (docs/resources.md, "How exits are classified").
ExitReason classify_exit(const ContainerRecord& r, int exit_code);

// Whether a `kill` event's `signal` attribute (a number, or a name with or without SIG)
// asks the process to end. Signals a program handles to reload or to be told something
// (HUP, USR1, USR2, WINCH, CONT, STOP, TSTP, TTIN, TTOU, URG, CHLD) do not.
bool ends_process(std::string_view signal);

// The container's last exit when it is down now (exited or dead) and that exit is known:
// what composewatch_container_last_exit_reason exports.
const LastExit* current_exit(const ContainerRecord& r);

// A container's name as events carry it ("name", "oldName"): the engine's "/web" or "web".
std::string container_name(std::string_view attribute);

// The records of the containers that exist, as Compose discovery and drift read them.
std::vector<docker::LiveContainer> live_containers(const std::vector<ContainerRecord>& records);
// The present containers labelled with each of `projects` (Compose project names), by
// project; a project without any has an empty list. What compose::compare_project reads of
// each project, without copying every other container's spec.
using LiveByProject = std::map<std::string, std::vector<docker::LiveContainer>, std::less<>>;
LiveByProject live_containers_by_project(const std::vector<ContainerRecord>& records,
                                         const std::vector<std::string_view>& projects);

struct EventCount {
  std::string type, action;
  std::uint64_t count = 0;
};

// Lines of the event stream that were lost: not JSON or not an event (`parse`), longer
// than the client's line limit (`oversized`), cut short by the end of the stream
// (`truncated`). The kinds of composewatch_event_stream_errors_total.
struct StreamErrors {
  std::uint64_t parse = 0, oversized = 0, truncated = 0;
};

struct EngineStatus {
  bool up = false;
  bool ready = false;  // the engine answered and the first inventory is loaded
  std::string version, api_version;
  std::uint64_t stream_reconnects = 0;
  StreamErrors stream_errors;
  std::string error;  // why the engine is not up; empty while it is
  double event_gap_seconds = 0;  // blind beyond the replay at the last (re)connect; 0: nothing missed
  std::optional<double> event_gap_at;  // when the last gap above 0 was found (seconds since the epoch)
};

// --stats.source=api: the figures the engine thread last polled, by container id.
struct ApiStats {
  std::map<std::string, docker::ResourceStats> by_id;
  Clock::time_point polled_at{};
};

struct Snapshot {
  std::vector<ContainerRecord> containers;  // sorted by name
  std::shared_ptr<const ApiStats> api_stats;  // null unless --stats.source=api
  std::vector<EventCount> events;           // sorted by type, action
  EngineStatus engine;
  std::shared_ptr<const compose::ComposeState> compose;  // null until compose projects are known
  std::shared_ptr<const disk::DiskReport> disk;          // null until the disk collector has run
  std::shared_ptr<const prune::PruneStatus> prune;       // null unless prune policies are configured
  // What the healer last published (or the state file kept), by container name; null
  // until either has anything.
  std::shared_ptr<const std::vector<AutohealRecord>> autoheal;
  std::shared_ptr<const ::composewatch::images::ImageReport> images;  // null until the image checker has run
  // When each image was last seen in use or named (StateModel::image_last_seen); null
  // until anything was.
  std::shared_ptr<const std::map<std::string, double>> image_last_seen;
  Clock::time_point taken_at{};
  // 1, 2, … for the snapshots a StateModel publishes; 0 for one built by hand (tests).
  std::uint64_t sequence = 0;
};

struct StateOptions {
  std::chrono::seconds retention{15 * 60};  // how long counters outlive their container
};

// What an applied event asks of the engine thread.
enum class Followup { none, inspect };

class StateModel {
 public:
  explicit StateModel(StateOptions options = {});

  // Applies one engine event. Counts it, updates the container it names and says
  // whether the container should be re-inspected (for fields events do not carry).
  // Writer only.
  Followup apply(const docker::Event& e, Clock::time_point now = Clock::now());

  // Replaces what is known of live containers with a full listing (after a connect or
  // reconnect): containers not in it are marked removed. Counters are untouched.
  void reconcile(const std::vector<docker::ContainerInfo>& all, Clock::time_point now = Clock::now());

  // The event sequence of the container with this id (0 when unknown): taken before an
  // inspect is sent, handed back to update() with its answer.
  std::uint64_t sequence_of(const std::string& id) const;
  // Updates one container from its inspect. When events for it were applied after the
  // inspect was sent (seq differs), its state and health are older than what the events
  // said: only the fields events do not carry are taken. Writer only.
  void update(const docker::ContainerInfo& info, std::uint64_t seq_at_request);

  // Folds in the cgroup's own OOM-kill counter of the container with this id, read
  // while `pid` was its init: adds to oom_kills_total what the events of this instance
  // have not counted. Ignored unless pid is the init of the instance the model follows.
  // Returns how many kills were added. Writer only.
  std::uint64_t fold_cgroup_oom_kills(const std::string& id, int pid, std::uint64_t cgroup_oom_kills);

  // The kernel's host-wide OOM-kill count (cgroup::host_oom_kills), read at each death
  // by SIGKILL that no OOM kill explains yet and by sample_host_oom_kills(): an OOM kill
  // the engine lost is counted from it (state/host_oom_ledger.h). Unset: never consulted.
  void set_host_oom_reader(std::function<std::optional<std::uint64_t>()> read);
  // A reading of it now, to keep the ledger's window current (the OOM folder's pass, a
  // reconcile). Writer only.
  void sample_host_oom_kills(Clock::time_point now = Clock::now());
  // OOM kills counted from the host's count so far (the engine reported neither an `oom`
  // event nor the OOMKilled flag). Writer's thread.
  std::uint64_t host_oom_attributions() const { return host_oom_attributions_; }

  // --stats.source=api: the latest polled figures, carried by the next snapshots. Writer only.
  void set_api_stats(std::shared_ptr<const ApiStats> stats);

  // Up clears the error; down keeps why.
  void set_engine_up(bool up, std::string error = {});
  void set_engine_info(std::string version, std::string api_version);
  void set_ready(bool ready);
  void count_reconnect();
  // The gap found at a (re)connect at `at`; a gap above 0 also sets event_gap_at.
  void set_event_gap(double seconds, Clock::time_point at = Clock::now());
  // A death no event told of (engine::check_resume): counted from the container's own
  // state (exit code, OOMKilled, FinishedAt), classified by exit_reason_of_code, with the
  // restart that followed when it runs again. Writer only.
  void count_missed_death(const std::string& id, const std::string& name, int exit_code, bool oom_killed,
                          bool started_again, std::optional<double> finished_at = std::nullopt);

  // What an agent restart keeps (state/saved.h): the counters of every name, the events
  // by type and action, the reconnects. save_to fills those parts of `out`; restore, on
  // an empty model before the first connect, takes them back. Writer only.
  void save_to(SavedState& out) const;
  void restore(const SavedState& saved);
  // Adds to the event stream's error counters. Writer only.
  void count_stream_errors(const StreamErrors& more);
  // The loaded compose projects, carried into every later snapshot. Writer only.
  void set_compose(std::shared_ptr<const compose::ComposeState> compose);
  // What the disk collector and the prune scheduler last reported, carried likewise.
  void set_disk(std::shared_ptr<const disk::DiskReport> disk);
  void set_prune(std::shared_ptr<const prune::PruneStatus> prune);
  // What the image checker last found (jobs/image_checker.h), carried likewise.
  void set_images(std::shared_ptr<const images::ImageReport> images);

  // The healer's records (jobs/healer.h), carried into every later snapshot and the
  // state file; autoheal() gives back the current ones (restored or last set). Writer only.
  void set_autoheal(std::shared_ptr<const std::vector<AutohealRecord>> records);
  std::shared_ptr<const std::vector<AutohealRecord>> autoheal() const { return autoheal_; }

  // When each image was last seen in use or named, seconds since the epoch, by image id
  // ("sha256:…") or normalised reference ("app:1.2", "app@sha256:…"): from the events of
  // its containers (create, start, die, destroy: the time the event gives) and its own
  // image events (pull, tag, load, import). Prune reads it as part of an image's age; the
  // state file keeps it (at most kMaxImagesSeen, the oldest dropped first). Writer only.
  const std::map<std::string, double>& image_last_seen() const { return images_seen_; }

  // Drops removed containers whose retention has passed. Writer only.
  void expire(Clock::time_point now = Clock::now());

  // Builds and publishes a new snapshot of the current state. Writer only.
  void publish(Clock::time_point now = Clock::now());
  // The last published snapshot (never null). Any thread.
  std::shared_ptr<const Snapshot> snapshot() const { return published_.load(); }

  // Direct read access for the writer's own thread (tests, the status command).
  const std::map<std::string, ContainerRecord>& containers() const { return by_name_; }
  // The record of a name; null when unknown. Writer's thread.
  const ContainerRecord* container(const std::string& name) const;
  // The record a container event was applied to (by the name it carries, else by its
  // id); null when apply() found none. Writer's thread, right after apply().
  const ContainerRecord* record_of(const docker::Event& e) const;

 private:
  void note_image_seen(const std::string& key, double t);
  ContainerRecord& record_for(const std::string& name);
  ContainerRecord* find_by_id(const std::string& id);
  const ContainerRecord* find_by_id(const std::string& id) const;
  void take_inspect(ContainerRecord& r, const docker::ContainerInfo& info, bool fresh);
  void count_exit(ContainerRecord& r, int code, ExitReason reason, double at);
  // Counts a pending exit: oom when an OOM kill of the instance is counted by now, `reason` otherwise.
  void settle_exit(ContainerRecord& r, ExitReason otherwise);
  void count_oom_kills(ContainerRecord& r, std::uint64_t n, double at);
  // A kill inspect's OOMKilled flag tells of that neither the oom event nor the cgroup counted.
  void count_flagged_oom_kill(ContainerRecord& r, const docker::ContainerInfo& info);

  // A death by a SIGKILL no one asked for: an OOM kill the engine did not report when the
  // host's count has one no event explains (counted, true).
  bool count_unreported_oom_kill(ContainerRecord& r, double at, Clock::time_point now);
  // count_oom_kills, for a kill seen live (event, flag, cgroup): held against the host's count.
  void count_live_oom_kills(ContainerRecord& r, std::uint64_t n, double at, Clock::time_point now);

  StateOptions options_;
  std::function<std::optional<std::uint64_t>()> host_oom_reader_;
  HostOomLedger host_oom_;
  std::uint64_t host_oom_attributions_ = 0;
  std::map<std::string, ContainerRecord> by_name_;
  std::map<std::string, std::string> name_by_id_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> events_;
  EngineStatus engine_;
  std::shared_ptr<const compose::ComposeState> compose_;
  std::shared_ptr<const disk::DiskReport> disk_;
  std::shared_ptr<const prune::PruneStatus> prune_;
  std::shared_ptr<const images::ImageReport> images_;
  std::shared_ptr<const ApiStats> api_stats_;
  std::shared_ptr<const std::vector<AutohealRecord>> autoheal_;
  std::map<std::string, double> images_seen_;
  std::shared_ptr<const std::map<std::string, double>> images_seen_published_;  // rebuilt when it changed
  bool images_seen_changed_ = false;
  std::uint64_t published_count_ = 0;
  std::atomic<std::shared_ptr<const Snapshot>> published_;
};

}  // namespace composewatch::state
