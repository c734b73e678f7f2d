#pragma once
// The compose checklist: pure checks over the normalised model (compose/model.h). Each
// check has an id (the `check` label of composewatch_compose_lint_finding), a one-line
// why and a fix hint. Findings name things, never environment values.

#include <string>
#include <string_view>
#include <vector>

#include "composewatch/compose/model.h"

namespace composewatch::compose {

struct LintCheck {
  std::string_view id;
  std::string_view why;
  std::string_view fix;
};

namespace check_id {
inline constexpr std::string_view obsolete_version = "obsolete-version";
inline constexpr std::string_view stateful_without_healthcheck = "stateful-without-healthcheck";
inline constexpr std::string_view no_memory_limit = "no-memory-limit";
inline constexpr std::string_view depends_on_not_healthy = "depends-on-not-healthy";
inline constexpr std::string_view bind_mount_in_production = "bind-mount-in-production";
inline constexpr std::string_view unused_volume = "unused-volume";
inline constexpr std::string_view no_restart_policy = "no-restart-policy";
inline constexpr std::string_view literal_secret = "literal-secret";
}  // namespace check_id

// Every check, in the order findings are reported.
const std::vector<LintCheck>& lint_checks();
// The check with this id; throws std::out_of_range for an unknown id.
const LintCheck& lint_check(std::string_view id);

struct LintFinding {
  std::string check;    // a check_id
  std::string service;  // empty for project-level findings (version, volumes)
  SourceLocation location;
  std::string message;  // one line: what was found
};

struct LintOptions {
  bool production = false;  // compose.projects[].production: enables production-only checks
};

// Runs every check over active and profile-disabled services alike (a disabled service is
// still part of the file). Findings are ordered by check, then service, then message.
std::vector<LintFinding> lint_project(const Project& project, const LintOptions& options = {});

// Whether an image reference names a stateful server (postgres, mysql, mariadb, redis,
// mongo, rabbitmq, elasticsearch, ...), judged by its repository's last path component.
bool is_stateful_image(std::string_view image);
// Whether an environment key names a secret (…PASSWORD…, …SECRET…, …TOKEN…, …API_KEY…,
// …PRIVATE_KEY…); keys ending in _FILE point at a secret file and are not secrets.
bool is_secret_key(std::string_view key);

}  // namespace composewatch::compose
