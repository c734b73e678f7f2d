#pragma once
// The compose checklist: pure checks over the normalised model (compose/model.h). Each
// check has an id (the `check` label of composewatch_compose_lint_finding), a one-line
// why and a fix hint. Findings name things, never environment values.

#include <string>
#include <string_view>
#include <vector>

#include "composewatch/compose/checks.h"
#include "composewatch/compose/model.h"

namespace composewatch::compose {

namespace check_id {
inline constexpr std::string_view obsolete_version = "obsolete-version";
inline constexpr std::string_view stateful_without_healthcheck = "stateful-without-healthcheck";
inline constexpr std::string_view no_memory_limit = "no-memory-limit";
inline constexpr std::string_view depends_on_not_healthy = "depends-on-not-healthy";
inline constexpr std::string_view bind_mount_in_production = "bind-mount-in-production";
inline constexpr std::string_view unused_volume = "unused-volume";
inline constexpr std::string_view no_restart_policy = "no-restart-policy";
inline constexpr std::string_view literal_secret = "literal-secret";
inline constexpr std::string_view published_datastore_port = "published-datastore-port";
inline constexpr std::string_view secret_in_url = "secret-in-url";
// Production only (production_reason):
inline constexpr std::string_view build_in_production = "build-in-production";
inline constexpr std::string_view restart_policy = "restart-policy";
inline constexpr std::string_view floating_tag = "floating-tag";
inline constexpr std::string_view dev_mount = "dev-mount";
}  // namespace check_id

// Every check, in the order findings are reported; lint_checks().at(id) looks one up.
const CheckCatalogue& lint_checks();

struct LintFinding {
  std::string check;    // a check_id
  std::string service;  // empty for project-level findings (version, volumes)
  SourceLocation location;
  std::string message;  // one line: what was found
};

struct LintOptions {
  // compose.projects[].production in the config file. A project is production when this
  // is set or when one of its files is named like *prod* (production_reason).
  bool production = false;
};

// Why the checklist treats `project` as production, or an empty string when it does not:
// `configured` (compose.projects[].production: true), else the first of its compose files
// whose file name contains "prod", case-insensitively (docker-compose.prod.yml,
// compose.production.yaml, prod.yml; the directory does not count). Every caller of
// lint_project gets the same answer: it decides through this function.
std::string production_reason(const Project& project, bool configured);

// Runs every check over active and profile-disabled services alike (a disabled service is
// still part of the file). Findings are ordered by check, then service, then message.
// One problem gives one finding:
//  - no-restart-policy fires when no restart policy is declared (any project);
//    restart-policy when one is declared but is not always/unless-stopped (production).
//  - dev-mount replaces bind-mount-in-production for a bind mount of the source code.
//  - secret-in-url replaces literal-secret for a variable whose URL holds a password.
//  - floating-tag is not judged for a service that builds its image (build-in-production is).
std::vector<LintFinding> lint_project(const Project& project, const LintOptions& options = {});

// Whether an image reference names a stateful server (postgres, mysql, mariadb, redis,
// mongo, rabbitmq, elasticsearch, ...), judged by its repository's last path component.
bool is_stateful_image(std::string_view image);
// Whether an environment key names a secret (…PASSWORD…, …SECRET…, …TOKEN…, …API_KEY…,
// …PRIVATE_KEY…); keys ending in _FILE point at a secret file and are not secrets.
bool is_secret_key(std::string_view key);
// Whether a container port is a well-known database or broker port (5432, 3306, 6379,
// 27017, 5672, 9200, 11211, 9042, 2181, 9092, 8086, 1433, ...).
bool is_datastore_port(int port);
// Whether `value` holds a URL with a password in it ("postgres://user:pw@db/app",
// "redis://:pw@cache"); a user without a password or an empty password is not one.
bool url_has_password(std::string_view value);
// Whether an image reference floats: no tag, or the tag `latest`. A digest pins it; a
// registry port ("registry:5000/app") is not a tag.
bool is_floating_image(std::string_view image);

}  // namespace composewatch::compose
