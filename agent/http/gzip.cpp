#include "gzip.h"

#include <libdeflate.h>

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

// One libdeflate compressor per thread, kept between bodies (allocating one costs some
// hundred KiB each time). libdeflate compresses a whole buffer at once, which a /metrics
// body is: at level 1 it is about 1.7 times as fast as zlib's best speed on such bodies,
// and its output is smaller (bench/scrape/render_bench.cpp, docs/benchmarks.md). Level 1:
// /metrics bodies are repetitive text that compresses well even so, and the agent shares
// small hosts with the workloads it watches.
class Compressor {
 public:
  Compressor() : c_(libdeflate_alloc_compressor(1)) {}
  ~Compressor() { libdeflate_free_compressor(c_); }
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;

  libdeflate_compressor* get() {
    if (!c_) throw std::runtime_error("gzip: cannot allocate a compressor");
    return c_;
  }
  // What the last body compressed to: the next output starts there (and a margin) rather
  // than at the input's bound, which is larger than the input.
  std::size_t last_output = 0;

 private:
  libdeflate_compressor* c_;
};

}  // namespace

std::string gzip_compress(std::string_view data) {
  thread_local Compressor compressor;
  libdeflate_compressor* c = compressor.get();
  static const char kNothing = 0;
  const void* in = data.empty() ? &kNothing : data.data();
  const std::size_t bound = libdeflate_gzip_compress_bound(c, data.size());
  std::string out;
  std::size_t n = 0;
  if (const std::size_t last = compressor.last_output; last > 0 && last + last / 4 + 4096 < bound) {
    out.resize(last + last / 4 + 4096);
    n = libdeflate_gzip_compress(c, in, data.size(), out.data(), out.size());  // 0: it did not fit
  }
  if (n == 0) {
    out.resize(bound);
    n = libdeflate_gzip_compress(c, in, data.size(), out.data(), out.size());
    if (n == 0) throw std::runtime_error("gzip: the body did not fit its bound");
  }
  out.resize(n);
  compressor.last_output = n;
  return out;
}

}  // namespace composewatch::http
