#pragma once
// The gzip content coding: whether a client accepts it, and compressing a body with it.
// Pure functions, no I/O; safe to call from any thread.

#include <string>
#include <string_view>

namespace composewatch::http {

// True when an Accept-Encoding header value allows gzip (RFC 9110 §12.5.3): an explicit
// "gzip" or "x-gzip" with q > 0, or, when gzip is not listed, "*" with q > 0. A malformed
// q-value makes its entry unacceptable. An empty header means no gzip.
bool accepts_gzip(std::string_view accept_encoding);

// Compresses `data` into a gzip member (RFC 1952), with libdeflate. Throws
// std::runtime_error when it cannot allocate a compressor. Thread-safe: each thread keeps
// a compressor of its own.
std::string gzip_compress(std::string_view data);

}  // namespace composewatch::http
