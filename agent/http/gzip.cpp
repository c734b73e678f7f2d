#include "gzip.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <stdexcept>

namespace composewatch::http {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

// A qvalue is "0", "1" or "0.ddd" / "1.000" (RFC 9110 §12.4.2); returns -1 when malformed.
double parse_qvalue(std::string_view text) {
  double q = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), q);
  if (ec != std::errc() || end != text.data() + text.size() || q < 0 || q > 1) return -1;
  return q;
}

struct Coding {
  std::string_view name;
  double q = 1;
};

Coding parse_coding(std::string_view item) {
  Coding coding;
  auto semi = item.find(';');
  coding.name = trim(item.substr(0, semi));
  while (semi != std::string_view::npos) {
    item.remove_prefix(semi + 1);
    semi = item.find(';');
    auto param = trim(item.substr(0, semi));
    auto eq = param.find('=');
    if (eq == std::string_view::npos) continue;
    if (iequals(trim(param.substr(0, eq)), "q")) coding.q = parse_qvalue(trim(param.substr(eq + 1)));
  }
  return coding;
}

}  // namespace

bool accepts_gzip(std::string_view accept_encoding) {
  double gzip_q = -1;  // -1: not listed
  double star_q = -1;
  while (!accept_encoding.empty()) {
    auto comma = accept_encoding.find(',');
    auto coding = parse_coding(accept_encoding.substr(0, comma));
    accept_encoding.remove_prefix(comma == std::string_view::npos ? accept_encoding.size() : comma + 1);
    if (iequals(coding.name, "gzip") || iequals(coding.name, "x-gzip")) {
      // A malformed q on an explicit entry must not fall back to "*".
      gzip_q = std::max(gzip_q, std::max(coding.q, 0.0));
    } else if (coding.name == "*") {
      star_q = std::max(star_q, coding.q);
    }
  }
  if (gzip_q >= 0) return gzip_q > 0;
  return star_q > 0;
}

namespace {

// One deflate state per thread, reset between bodies: deflateInit2 allocates some 270 KiB
// of window and hash tables, which every compressed scrape would otherwise allocate and
// fault in again.
class Deflater {
 public:
  Deflater() {
    // windowBits 15 + 16 asks zlib for a gzip header and trailer instead of a zlib
    // wrapper. Best speed: /metrics bodies are repetitive text that compresses well even
    // so, and the agent shares small hosts with the workloads it watches.
    ok_ = deflateInit2(&zs_, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
  }
  ~Deflater() {
    if (ok_) deflateEnd(&zs_);
  }
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  // A stream ready for a new member.
  z_stream& reset() {
    if (!ok_ || deflateReset(&zs_) != Z_OK) throw std::runtime_error("gzip: deflateInit2 failed");
    return zs_;
  }
  // The size the next output starts at: what the last body compressed to and a margin, so
  // that neither the input's bound is zero-filled nor the output grows step by step.
  std::size_t last_output = 0;

 private:
  z_stream zs_{};
  bool ok_ = false;
};

}  // namespace

std::string gzip_compress(std::string_view data) {
  thread_local Deflater deflater;
  z_stream& zs = deflater.reset();
  const auto bound =
      deflateBound(&zs, static_cast<uLong>(std::min<std::size_t>(data.size(), std::numeric_limits<uLong>::max())));
  std::string out;
  out.resize(deflater.last_output ? std::min<std::size_t>(bound, deflater.last_output + deflater.last_output / 4 + 4096)
                                  : bound);
  std::size_t produced = 0;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    // avail_in/avail_out are 32-bit; feed larger inputs in slices.
    auto in_chunk = std::min<std::size_t>(data.size(), std::numeric_limits<uInt>::max());
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    zs.avail_in = static_cast<uInt>(in_chunk);
    if (out.size() - produced < 64) out.resize(out.size() * 2 + 64);
    auto out_chunk = std::min<std::size_t>(out.size() - produced, std::numeric_limits<uInt>::max());
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    zs.avail_out = static_cast<uInt>(out_chunk);
    rc = deflate(&zs, in_chunk == data.size() ? Z_FINISH : Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) throw std::runtime_error("gzip: deflate failed");
    data.remove_prefix(in_chunk - zs.avail_in);
    produced += out_chunk - zs.avail_out;
  }
  out.resize(produced);
  deflater.last_output = produced;
  return out;
}

}  // namespace composewatch::http
