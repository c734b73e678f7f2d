#pragma once
// `composewatch diagnose [--format text|json] [--logs N]`: the "diagnose first" playbook as
// one report — disk use by kind and what is reclaimable, the Docker filesystem, the largest
// images and their largest layers, dead and orphan volumes, troubled containers with their
// last log lines, compose drift and lint counts, and concrete next steps.
//
// Three parts, kept apart so that the decisions are tested without an engine:
//   gather_host_facts  I/O: asks the engine, reads cgroups, statvfs and compose files. A
//                      section that cannot be read is recorded with its reason; the others
//                      go on. Never throws.
//   build_report       pure: a DiagnoseReport from the facts (classification, ordering,
//                      volume findings, drift, next steps).
//   render_text/json   pure: the report as aligned text or as one JSON object.
//
// Exit code: 0 always, also when the engine is unreachable or every section failed; only a
// bad command line or configuration gives 2 (app::run_command_line, diagnose_options).
//
// JSON: one object with the keys written by render_json (stable; new keys may be added).
// Sizes are integers in bytes; times are RFC 3339 strings in UTC with whole seconds
// ("2025-01-02T03:04:05Z"), null when unknown. A section that could not be read has
// "error": "<reason>" (else null) and its other keys at their empty values.

#include <cstddef>
#include <iosfwd>

#include "composewatch/commands/diagnose/report.h"
#include "composewatch/config/cli.h"
#include "composewatch/config/config.h"

namespace composewatch::commands {

struct DiagnoseOptions {
  std::string format = "text";  // --format text|json
  std::size_t log_lines = 20;   // --logs N: last lines shown per troubled container; 0 none
};

inline constexpr std::size_t kMaxDiagnoseLogLines = 10'000;

// diagnose's own flags. Throws config::UsageError for a --logs that is not a whole number
// from 0 to kMaxDiagnoseLogLines.
DiagnoseOptions diagnose_options(const config::CommandLine& cl);

// Asks the engine at cfg.docker_host and reads this host. Never throws.
HostFacts gather_host_facts(const config::AgentConfig& cfg, const DiagnoseOptions& options,
                            const DiagnoseRules& rules = {});

// The whole command. Returns 0.
int run_diagnose(const config::AgentConfig& cfg, const DiagnoseOptions& options, std::ostream& out, std::ostream& err);

}  // namespace composewatch::commands
