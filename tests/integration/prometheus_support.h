#pragma once
// The real Prometheus (Debian's) beside real agents: TLS and basic auth for the agents as
// in production, a Prometheus started on a config, and PromQL through its HTTP API.

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "harness.h"

namespace itest {

// In `dir`: agent.crt/agent.key (self-signed for 127.0.0.1), web.yml (TLS + basic auth for
// user "prometheus"), password (its password, for Prometheus's password_file).
void write_agent_tls_and_auth(const std::filesystem::path& dir);
// --web.config.file=<dir>/web.yml
std::string web_config_flag(const std::filesystem::path& dir);

// Debian's prometheus on `config` (checked with promtool first), once /-/ready answers.
std::unique_ptr<ServiceProcess> start_prometheus(const std::filesystem::path& config, int port,
                                                 const std::filesystem::path& data);

// The series a PromQL query returns now; throws with the API's answer on an error.
std::size_t series_count(int prometheus_port, const std::string& expr);
// The values of a label among the series `match` selects (/api/v1/label/<label>/values).
std::vector<std::string> label_values(int prometheus_port, const std::string& label, const std::string& match);

std::string url_encode(std::string_view s);

}  // namespace itest
