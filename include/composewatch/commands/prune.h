#pragma once
// `composewatch prune [--policy NAME]... [--dry-run]`: runs the config file's prune
// policies once, now, through the same plan, guard and executor as the agent's scheduler,
// under the same host lock, and prints each plan (candidates with kind, size, age and
// why; what was kept and why) or what was deleted.
//
// Exit codes: 0 done; 1 some deletions failed; 2 could not run (no such policy, no
// policies, engine unreachable, another prune holds the lock, a policy refused because
// the compose projects it must respect do not load).

#include <iosfwd>
#include <string>
#include <vector>

#include "composewatch/config/cli.h"
#include "composewatch/config/config.h"

namespace composewatch::commands {

struct PruneOptions {
  std::vector<std::string> policies;  // --policy; empty: all
  bool dry_run = false;               // --dry-run
};

PruneOptions prune_options(const config::CommandLine& cl);

int run_prune(const config::AgentConfig& cfg, const PruneOptions& options, std::ostream& out, std::ostream& err);

}  // namespace composewatch::commands
