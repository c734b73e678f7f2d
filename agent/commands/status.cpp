// `composewatch status`: a one-shot table of the host's containers from the engine.
// OOM kills and restarts are counted from events by the running agent; when it answers
// on --web.listen-address its counters are shown, otherwise the engine's own
// RestartCount (policy restarts only) and no OOM figure.

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/asio/this_coro.hpp>
#include <cstdio>
#include <ostream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <tuple>

#include "composewatch/commands/status.h"

#include "composewatch/cgroup/source.h"
#include "composewatch/commands/check.h"
#include "composewatch/docker/api_stats.h"
#include "composewatch/engine/client.h"
#include "oneshot.h"

namespace composewatch::commands {

namespace asio = boost::asio;
namespace beast = boost::beast;

namespace {

struct AgentCounters {
  std::map<std::string, double> oom_kills, restarts;  // by container name
  std::set<std::string> autoheal_given_up;           // containers auto-heal has given up on
};

// The running agent's counters, if one answers within kAgentDeadline (connect, request
// and the whole answer); otherwise nullopt and `why` says what failed ("GET /metrics on
// 127.0.0.1:9469: no answer within 2s"). Async on a private io_context: a blocking Beast
// call would ignore the deadline and hang on an agent that accepts and never answers.
constexpr std::chrono::seconds kAgentDeadline{2};

std::optional<AgentCounters> agent_counters(const std::string& listen_address, std::string& why) {
  auto colon = listen_address.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string host = listen_address.substr(0, colon);
  std::string port = listen_address.substr(colon + 1);
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "[::]") host = "::1";
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  const std::string where = "GET /metrics on " + listen_address + ": ";
  try {
    const std::string body = detail::run_sync([&](asio::any_io_executor ex) -> asio::awaitable<std::string> {
      constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
      asio::ip::tcp::resolver resolver(ex);
      beast::tcp_stream stream(ex);
      stream.expires_after(kAgentDeadline);  // one deadline for the whole exchange
      auto [rec, results] = co_await resolver.async_resolve(host, port, use_tuple);
      if (rec) throw std::runtime_error(where + rec.message());
      auto fail = [&](const boost::system::error_code& ec) {
        return std::runtime_error(where + (ec == beast::error::timeout
                                               ? "no answer within " + std::to_string(kAgentDeadline.count()) + "s"
                                               : ec.message()));
      };
      if (auto [ec, ep] = co_await stream.async_connect(results, use_tuple); ec) throw fail(ec);
      beast::http::request<beast::http::empty_body> req{beast::http::verb::get, "/metrics", 11};
      req.set(beast::http::field::host, listen_address);
      if (auto [ec, n] = co_await beast::http::async_write(stream, req, use_tuple); ec) throw fail(ec);
      beast::flat_buffer buf;
      beast::http::response_parser<beast::http::string_body> parser;
      parser.body_limit(64 * 1024 * 1024);
      if (auto [ec, n] = co_await beast::http::async_read(stream, buf, parser, use_tuple); ec) throw fail(ec);
      if (parser.get().result_int() != 200)
        throw std::runtime_error(where + "answered " + std::to_string(parser.get().result_int()));
      co_return std::move(parser.get().body());
    });
    AgentCounters c;
    static const std::regex line(R"re(^(composewatch_container_(oom_kills|restarts)_total)\{[^}]*container="([^"]*)"[^}]*\} (\S+))re");
    static const std::regex given_up(R"re(^composewatch_autoheal_given_up\{[^}]*container="([^"]*)"[^}]*\} 1$)re");
    std::istringstream in(body);
    for (std::string l; std::getline(in, l);) {
      std::smatch m;
      if (std::regex_search(l, m, given_up)) {
        c.autoheal_given_up.insert(m[1]);
        continue;
      }
      if (!std::regex_search(l, m, line)) continue;
      (m[2] == "oom_kills" ? c.oom_kills : c.restarts)[m[3]] = std::stod(m[4]);
    }
    return c;
  } catch (const std::exception& e) {
    why = e.what();
    return std::nullopt;
  }
}


struct Inventory {
  std::vector<docker::ContainerInfo> containers;
  std::map<std::string, std::uint64_t> memory_used;  // working set, by id, of running containers
};

// Memory used of running containers: from their cgroups, else (remote or rootless
// engine, unreadable cgroups) from the engine's one-shot stats.
std::string memory_cell(const docker::ContainerInfo& c, const std::map<std::string, std::uint64_t>& used) {
  auto it = used.find(c.id);
  std::string u = it == used.end() ? "-" : config::format_size(std::int64_t(it->second));
  return u + " / " + (c.spec.memory_limit > 0 ? config::format_size(c.spec.memory_limit) : "unlimited");
}

asio::awaitable<void> read_memory(engine::Client& client, const config::AgentConfig& cfg, Inventory& inv) {
  std::optional<docker::EngineCgroupInfo> info;
  try {
    info = docker::parse_engine_info(co_await client.get("/info"));
  } catch (const engine::EngineError&) {
  }
  std::shared_ptr<const cgroup::Reader> reader;
  try {
    reader = cgroup::choose_stats_source(cfg.stats_source,
                                         client.endpoint().kind == engine::Endpoint::Kind::unix_socket, info,
                                         cfg.procfs)
                 .reader;
  } catch (const std::runtime_error&) {
  }
  for (const auto& c : inv.containers) {
    if (c.state != "running") continue;
    if (reader) {
      if (auto s = reader->read({c.id, c.pid, c.spec.cgroup_parent, c.spec.network_mode}); s && s->memory_working_set_bytes)
        inv.memory_used[c.id] = *s->memory_working_set_bytes;
      continue;
    }
    try {
      auto s = docker::parse_api_stats(co_await client.get(engine::container_path(c.id, "/stats?stream=false&one-shot=true")),
                                       c.spec.network_mode);
      if (s && s->memory_working_set_bytes) inv.memory_used[c.id] = *s->memory_working_set_bytes;
    } catch (const engine::EngineError&) {
    }
  }
}

asio::awaitable<Inventory> inventory(engine::Endpoint ep, const config::AgentConfig& cfg) {
  engine::Client client(co_await asio::this_coro::executor, ep, detail::oneshot_client_options());
  co_await client.negotiate();
  Inventory out;
  out.containers = co_await client.inspect_all();
  co_await read_memory(client, cfg, out);
  co_return out;
}

}  // namespace

int run_status(const config::AgentConfig& cfg, const std::string& format, std::ostream& out, std::ostream& err) {
  std::vector<docker::ContainerInfo> containers;
  std::map<std::string, std::uint64_t> memory_used;
  try {
    engine::Endpoint ep = engine::parse_endpoint(cfg.docker_host);
    Inventory inv = detail::run_sync([&](asio::any_io_executor) { return inventory(ep, cfg); });
    containers = std::move(inv.containers);
    memory_used = std::move(inv.memory_used);
  } catch (const std::exception& e) {
    err << "composewatch: " << e.what() << "\n";
    return 2;
  }
  std::sort(containers.begin(), containers.end(), [](const auto& a, const auto& b) {
    return std::make_tuple(a.project(), a.service(), a.name) < std::make_tuple(b.project(), b.service(), b.name);
  });
  std::string no_agent_why;
  auto counters = agent_counters(cfg.listen_address, no_agent_why);
  const auto drift = drift_by_container(cfg, containers);  // compose files vs these containers
  auto drift_of = [&](const std::string& name) -> std::optional<std::vector<std::string>> {
    auto it = drift.find(name);
    return it == drift.end() ? std::nullopt : std::optional(it->second.fields);
  };
  // A one-shot's end beside its state: "exited (completed)" is no missing replica.
  auto state_of = [&](const docker::ContainerInfo& c) {
    auto it = drift.find(c.name);
    return it == drift.end() || it->second.end.empty() ? c.state : c.state + " (" + it->second.end + ")";
  };
  auto lookup = [](const std::map<std::string, double>& m, const std::string& name) -> std::optional<double> {
    auto it = m.find(name);
    return it == m.end() ? std::nullopt : std::optional<double>(it->second);
  };

  if (format == "json") {
    boost::json::array rows;
    for (const auto& c : containers) {
      boost::json::object o;
      o["project"] = c.project();
      o["service"] = c.service();
      o["container"] = c.name;
      o["id"] = docker::short_id(c.id);
      o["image"] = c.spec.image;
      o["state"] = c.state;
      if (auto it = drift.find(c.name); it != drift.end() && !it->second.end.empty())
        o["ended"] = it->second.end;
      else
        o["ended"] = nullptr;
      o["health"] = c.health;
      if (auto it = memory_used.find(c.id); it != memory_used.end())
        o["memory_used_bytes"] = it->second;
      else
        o["memory_used_bytes"] = nullptr;
      if (c.spec.memory_limit > 0)
        o["memory_limit_bytes"] = c.spec.memory_limit;
      else
        o["memory_limit_bytes"] = nullptr;
      std::optional<double> oom = counters ? lookup(counters->oom_kills, c.name) : std::nullopt;
      std::optional<double> restarts = counters ? lookup(counters->restarts, c.name) : std::nullopt;
      if (oom)
        o["oom_kills"] = std::int64_t(*oom);
      else
        o["oom_kills"] = nullptr;
      o["restarts"] = restarts ? std::int64_t(*restarts) : std::int64_t(c.restart_count);
      if (counters)
        o["autoheal_given_up"] = counters->autoheal_given_up.count(c.name) > 0;
      else
        o["autoheal_given_up"] = nullptr;  // only the running agent knows
      if (auto d = drift_of(c.name)) {
        boost::json::array fields;
        for (const auto& f : *d) fields.emplace_back(f);
        o["drift"] = std::move(fields);
      } else {
        o["drift"] = nullptr;  // not from a compose project composewatch could load
      }
      rows.push_back(std::move(o));
    }
    boost::json::object doc;
    doc["counters_from"] = counters ? "agent" : "engine";
    doc["containers"] = std::move(rows);
    out << boost::json::serialize(doc) << "\n";
    return 0;
  }

  std::vector<std::vector<std::string>> table;
  table.push_back({"PROJECT", "SERVICE", "CONTAINER", "STATE", "HEALTH", "MEM USED / LIMIT", "OOM", "RESTARTS", "DRIFT"});
  for (const auto& c : containers) {
    std::optional<double> oom = counters ? lookup(counters->oom_kills, c.name) : std::nullopt;
    std::optional<double> restarts = counters ? lookup(counters->restarts, c.name) : std::nullopt;
    table.push_back({c.project().empty() ? "-" : c.project(), c.service().empty() ? "-" : c.service(), c.name,
                     state_of(c), c.health, memory_cell(c, memory_used),
                     oom ? std::to_string(std::int64_t(*oom)) : "-",
                     std::to_string(restarts ? std::int64_t(*restarts) : std::int64_t(c.restart_count)),
                     [&] {
                       auto d = drift_of(c.name);
                       if (!d) return std::string("-");
                       if (d->empty()) return std::string("none");
                       std::string j;
                       for (const auto& f : *d) j += (j.empty() ? "" : ",") + f;
                       return j;
                     }()});
  }
  std::vector<std::size_t> width(table[0].size(), 0);
  for (const auto& row : table)
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  for (const auto& row : table) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    out << line << "\n";
  }
  if (counters)
    for (const auto& c : containers)
      if (counters->autoheal_given_up.count(c.name))
        out << "\nauto-heal gave up on " << c.name << ": max_attempts restarts in the window did not make it healthy; "
            << "the agent leaves it alone until the window slides, it turns healthy or it is restarted by hand\n";
  if (!counters)
    out << "\n(no agent answered on " << cfg.listen_address
        << (no_agent_why.empty() ? std::string() : " (" + no_agent_why + ")")
        << ": OOM kills are unknown and RESTARTS is the engine's count of policy restarts)\n";
  return 0;
}

}  // namespace composewatch::commands
