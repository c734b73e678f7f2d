#pragma once
// Carrying out a prune plan, and running a policy once (plan, then apply unless it is a
// dry run). Thin I/O over the pure decisions of prune/plan.h.
//
// Error policy: engine failures of the run as a whole (no /system/df, no /info) throw
// engine::EngineError; a failure to delete one object is an Outcome, and the run goes on.

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "composewatch/config/config.h"
#include "composewatch/disk/report.h"
#include "composewatch/engine/client.h"
#include "composewatch/prune/plan.h"

namespace composewatch::prune {

struct Outcome {
  enum class Result { deleted, skipped, failed };
  Entry entry;
  Result result = Result::skipped;
  std::string detail;          // why it was skipped or failed; for deletions what was removed
  std::int64_t reclaimed = 0;  // bytes freed (build cache: as the engine reports)
};

struct RunResult {
  std::vector<Outcome> outcomes;
  // Candidates not attempted because the run was asked to stop (StopRequest).
  std::size_t not_attempted = 0;
  std::int64_t reclaimed_bytes() const;
  std::size_t count(Outcome::Result r) const;
};

// Set when the agent (or `composewatch prune`) is asked to stop: the run finishes the
// object in flight, an image's every untag included, and attempts no more. Read and set
// on the run's own thread.
struct StopRequest {
  bool requested = false;
};

// Lists the containers and networks again, then for each candidate, one at a time:
// inspects it again, checks the Guard again on what the engine says now (a label added,
// a container started, a tag a compose file names since the plan), and deletes it without
// force (DELETE /images, /containers, /volumes, /networks; build cache by id through
// POST /build/prune). Gone (404) and refused (409: in use) count as skipped. Every
// deletion and every skip is logged with id, name, size and reason.
//
// An image with several tags is untagged by name, each tag only after an inspect of it
// right before shows it still names the planned image (a pull or build may have moved it
// to a new one), and then deleted by id, which the engine refuses (409) if a tag was added
// meanwhile. When the image cannot be deleted after all, the tags already removed are put
// back (unless a tag now names another image): no image is left half-untagged.
//
// Ids and names the engine sent are used in request paths only when they are made of the
// characters such ids and names have; anything else fails that object.
//
// All arguments must outlive the returned awaitable (a run keeps its own copies).
boost::asio::awaitable<RunResult> execute(engine::Client& client, const config::PrunePolicyConfig& policy,
                                          const PrunePlan& plan, const Inventory& planned,
                                          const ComposeKnowledge& compose, const StopRequest* stop = nullptr);

struct RunOptions {
  using StatFs = std::function<std::optional<disk::FilesystemUsage>(const std::string&)>;
  bool dry_run = false;  // --dry-run: plan only, whatever the policy says
  // When the agent last saw each image used or named (Inventory::image_last_seen).
  std::map<std::string, double> image_last_seen;
  const StopRequest* stop = nullptr;  // null: the run is never asked to stop
  // How the Docker root dir's filesystem is read for when.disk_free_below; null for a
  // remote engine, whose disk this machine cannot see.
  StatFs statfs = disk::filesystem_usage;

  static RunOptions for_endpoint(const engine::Endpoint& ep, bool dry_run);
};

struct PolicyRun {
  PrunePlan plan;
  bool dry_run = false;     // planned only, as the policy or --dry-run says
  std::string not_applied;  // why deletions were not attempted besides a dry run (refused, disk trigger)
  std::optional<double> disk_free_percent;  // of the Docker root dir's filesystem, when read
  RunResult result;         // empty unless applied
  bool applied() const { return !dry_run && not_applied.empty(); }
};

// Plans `policy` on a fresh GET /system/df and GET /networks (and, for the grace period,
// the inspect of each image or stopped container the guard would let go: LastTagTime,
// FinishedAt) and, unless it is a dry run, it is refused or its `when.disk_free_below`
// does not hold, executes the plan. All arguments must outlive the returned awaitable.
boost::asio::awaitable<PolicyRun> run_policy(engine::Client& client, const config::PrunePolicyConfig& policy,
                                             const ComposeKnowledge& compose, const RunOptions& options);

// Percent-encodes a query value (RFC 3986 unreserved characters stay).
std::string query_escape(std::string_view s);

}  // namespace composewatch::prune
