#include "prometheus_support.h"

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

namespace itest {

namespace fs = std::filesystem;
namespace json = boost::json;

std::string url_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += char(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

void write_agent_tls_and_auth(const fs::path& dir) {
  must("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 "
       "-addext subjectAltName=IP:127.0.0.1 -keyout " + quote((dir / "agent.key").string()) + " -out " +
       quote((dir / "agent.crt").string()) + " 2>&1");
  // bcrypt at cost 8: the agent checks it at every scrape.
  const std::string hash = must(
      "python3 -c \"import crypt; print(crypt.crypt('e2e-secret', crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=256)))\"");
  if (!hash.starts_with("$2")) throw std::runtime_error("no bcrypt hash from python3's crypt: " + hash);
  std::ofstream(dir / "web.yml") << "tls_server_config:\n  cert_file: " << (dir / "agent.crt").string()
                                 << "\n  key_file: " << (dir / "agent.key").string()
                                 << "\nbasic_auth_users:\n  prometheus: '" << hash << "'\n";
  std::ofstream(dir / "password") << "e2e-secret";
}

std::string web_config_flag(const fs::path& dir) { return "--web.config.file=" + (dir / "web.yml").string(); }

std::unique_ptr<ServiceProcess> start_prometheus(const fs::path& config, int port, const fs::path& data) {
  const ShResult check = sh("promtool check config " + quote(config.string()) + " 2>&1");
  if (check.code != 0) throw std::runtime_error("promtool check config " + config.string() + ":\n" + check.out);
  auto p = std::make_unique<ServiceProcess>(
      "prometheus",
      std::vector<std::string>{"/usr/bin/prometheus", "--config.file=" + config.string(),
                               "--storage.tsdb.path=" + data.string(),
                               "--web.listen-address=127.0.0.1:" + std::to_string(port)},
      ServiceOptions{.wait_port = port});
  if (!eventually([&] { return http_get("127.0.0.1", port, "/-/ready").status == 200; }, 60s, "Prometheus is ready"))
    throw std::runtime_error("Prometheus is not ready after 60 s:\n" + p->log_tail());
  return p;
}

std::size_t series_count(int prometheus_port, const std::string& expr) {
  const auto r = http_get("127.0.0.1", prometheus_port, "/api/v1/query?query=" + url_encode(expr));
  if (r.status != 200) throw std::runtime_error("query " + expr + ": status " + std::to_string(r.status) + " " + r.body);
  return json::parse(r.body).at("data").at("result").as_array().size();
}

std::vector<std::string> label_values(int prometheus_port, const std::string& label, const std::string& match) {
  const auto r = http_get("127.0.0.1", prometheus_port, "/api/v1/label/" + label + "/values?match[]=" + url_encode(match));
  if (r.status != 200) throw std::runtime_error("label " + label + ": status " + std::to_string(r.status) + " " + r.body);
  std::vector<std::string> out;
  const auto doc = json::parse(r.body);
  if (const auto& data = doc.at("data"); data.is_array())
    for (const auto& v : data.as_array()) out.push_back(json::value_to<std::string>(v));
  else
    throw std::runtime_error("label " + label + ": unexpected answer " + r.body);
  return out;
}

}  // namespace itest
