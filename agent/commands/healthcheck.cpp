#include "composewatch/commands/healthcheck.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <ostream>

#include "../http/listen_address.h"
#include "oneshot.h"

namespace composewatch::commands {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

constexpr std::chrono::seconds kDeadline{5};

// Where a local client finds an agent listening on `a`: loopback for every interface.
std::string local_host(const http::ListenAddress& a) {
  if (a.host.empty() || a.host == "0.0.0.0") return "127.0.0.1";
  if (a.host == "::") return "::1";
  return a.host;
}

}  // namespace

int run_healthcheck(const config::AgentConfig& cfg, std::ostream& out, std::ostream& err) {
  http::ListenAddress a;
  try {
    a = http::parse_listen_address(cfg.listen_address);
  } catch (const std::invalid_argument& e) {
    err << "composewatch: healthcheck: --web.listen-address: " << e.what() << "\n";
    return 1;
  }
  const std::string host = local_host(a);
  const std::string where = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(a.port);
  try {
    if (!cfg.web_config_file.empty()) {
      detail::run_sync([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        beast::tcp_stream s(ex);
        s.expires_after(kDeadline);
        const asio::ip::tcp::endpoint ep(asio::ip::make_address(host), a.port);
        co_await s.async_connect(ep, asio::use_awaitable);
      });
      out << "composewatch at " << where << " accepts connections (TLS or basic auth: /healthz not asked)\n";
      return 0;
    }
    const std::string body = detail::run_sync([&](asio::any_io_executor ex) -> asio::awaitable<std::string> {
      beast::tcp_stream s(ex);
      s.expires_after(kDeadline);
      co_await s.async_connect(asio::ip::tcp::endpoint(asio::ip::make_address(host), a.port), asio::use_awaitable);
      bhttp::request<bhttp::empty_body> req{bhttp::verb::get, "/healthz", 11};
      req.set(bhttp::field::host, where);
      co_await bhttp::async_write(s, req, asio::use_awaitable);
      beast::flat_buffer buf;
      bhttp::response<bhttp::string_body> res;
      co_await bhttp::async_read(s, buf, res, asio::use_awaitable);
      if (res.result_int() != 200)
        throw std::runtime_error("/healthz answered " + std::to_string(res.result_int()) + ": " + res.body());
      co_return res.body();
    });
    out << "composewatch at " << where << ": " << body;
    return 0;
  } catch (const boost::system::system_error& e) {  // the message without Asio's source location
    err << "composewatch: healthcheck: the agent at " << where << " is not healthy: " << e.code().message() << "\n";
    return 1;
  } catch (const std::exception& e) {
    err << "composewatch: healthcheck: the agent at " << where << " is not healthy: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace composewatch::commands
