// The HTTP request path without sockets: the bytes through Beast's request parser with the
// server's limits (ServerOptions: 8 KiB of headers, 64 KiB of body), then what the server
// does with a parsed request before the handler: the method check, the target split, the
// Authorization header (basic auth, and the lookup of remembered credentials) and
// Accept-Encoding (gzip). The routes behind it (web/routes.h) have their unit tests.

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "http/basic_auth.h"
#include "http/gzip.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace bhttp = boost::beast::http;
  const std::string_view text = composewatch::fuzz::as_text(data, size);
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(8 * 1024);
  parser.body_limit(64 * 1024);
  parser.eager(true);
  boost::beast::error_code ec;
  std::size_t used = 0;
  while (used < text.size() && !parser.is_done()) {
    const std::size_t n = parser.put(boost::asio::buffer(text.data() + used, text.size() - used), ec);
    if (ec == bhttp::error::need_more) break;
    if (ec) return 0;
    used += n;
    if (n == 0) break;
  }
  if (!parser.is_done()) {
    // What async_read does at the end of the stream; Beast asserts some bytes came first.
    if (!parser.got_some()) return 0;
    parser.put_eof(ec);
    if (ec || !parser.is_done()) return 0;
  }
  const auto& request = parser.get();
  if (request.method() != bhttp::verb::get && request.method() != bhttp::verb::head) return 0;
  const std::string_view target = request.target();
  const std::string path(target.substr(0, target.find('?')));
  (void)composewatch::http::parse_basic_authorization(request[bhttp::field::authorization]);
  // What the I/O thread does with every request's credentials before any bcrypt.
  static const composewatch::http::BasicAuth auth(std::map<std::string, std::string>{
      {"prometheus", "$2y$10$X0h1gDsPszWURQaxFh.zoubFi6DXncSjhoQNJgRrnGs7EsimhC7zG"}});
  (void)auth.remembered(request[bhttp::field::authorization]);
  if (composewatch::http::accepts_gzip(request[bhttp::field::accept_encoding])) {
    (void)composewatch::http::gzip_compress(path);
  }
  (void)request.keep_alive();
  return 0;
}
