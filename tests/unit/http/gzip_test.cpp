#include "../../../agent/http/gzip.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <stdexcept>
#include <string>

namespace composewatch::http {
namespace {

// Inflates a gzip member, rejecting anything that is not exactly one valid gzip stream.
std::string gunzip(const std::string& data) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) throw std::runtime_error("inflateInit2");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char chunk[16384];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(chunk);
    zs.avail_out = sizeof chunk;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(chunk, sizeof chunk - zs.avail_out);
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END || zs.avail_in != 0) throw std::runtime_error("not one gzip stream");
  return out;
}

TEST(HttpGzip, RoundTripsMetricsLikeText) {
  std::string text;
  for (int i = 0; i < 5000; ++i) {
    text += "composewatch_container_memory_usage_bytes{project=\"shop\",container=\"c" +
            std::to_string(i) + "\"} " + std::to_string(i * 4096) + "\n";
  }
  auto compressed = gzip_compress(text);
  EXPECT_LT(compressed.size(), text.size() / 4);
  ASSERT_GE(compressed.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(compressed[0]), 0x1f);  // gzip magic, not zlib
  EXPECT_EQ(static_cast<unsigned char>(compressed[1]), 0x8b);
  EXPECT_EQ(gunzip(compressed), text);
}

TEST(HttpGzip, RoundTripsEmptyAndIncompressible) {
  EXPECT_EQ(gunzip(gzip_compress("")), "");
  std::mt19937 rng(42);
  std::string noise(200'000, '\0');
  for (auto& c : noise) c = static_cast<char>(rng());
  EXPECT_EQ(gunzip(gzip_compress(noise)), noise);  // grows a little; must still fit
}

TEST(HttpGzip, EachBodyOnAThreadIsItsOwnMemberWhateverCameBefore) {
  // The deflate state and the output size are kept per thread between bodies: a small
  // body after a large one, and a large incompressible one after a small compressible
  // one (its output outgrows the size the last one suggested), are each whole.
  std::mt19937 rng(7);
  std::string noise(300'000, '\0');
  for (auto& c : noise) c = static_cast<char>(rng());
  std::string text(400'000, 'a');
  for (const std::string* body : {&text, &noise, &text, &text}) {
    const std::string small = "x" + std::to_string(body->size());
    EXPECT_EQ(gunzip(gzip_compress(*body)), *body);
    EXPECT_EQ(gunzip(gzip_compress(small)), small);
  }
}

TEST(HttpAcceptEncoding, ExplicitGzip) {
  EXPECT_TRUE(accepts_gzip("gzip"));
  EXPECT_TRUE(accepts_gzip("GZip"));
  EXPECT_TRUE(accepts_gzip("x-gzip"));
  EXPECT_TRUE(accepts_gzip("gzip, deflate, br"));
  EXPECT_TRUE(accepts_gzip("br;q=1.0, gzip;q=0.8, *;q=0.1"));
  EXPECT_TRUE(accepts_gzip(" deflate ,  gzip ; q=0.5 "));
  EXPECT_TRUE(accepts_gzip("gzip;Q=1"));
}

TEST(HttpAcceptEncoding, RefusedOrAbsent) {
  EXPECT_FALSE(accepts_gzip(""));
  EXPECT_FALSE(accepts_gzip("identity"));
  EXPECT_FALSE(accepts_gzip("deflate, br"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0.000"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0, *"));  // explicit refusal beats the wildcard
  EXPECT_FALSE(accepts_gzip("*;q=0"));
}

TEST(HttpAcceptEncoding, Wildcard) {
  EXPECT_TRUE(accepts_gzip("*"));
  EXPECT_TRUE(accepts_gzip("br, *;q=0.1"));
}

TEST(HttpAcceptEncoding, MalformedQValueIsNotAcceptance) {
  EXPECT_FALSE(accepts_gzip("gzip;q=abc"));
  EXPECT_FALSE(accepts_gzip("gzip;q=2"));
  EXPECT_FALSE(accepts_gzip("gzip;q=-1, *"));
  EXPECT_TRUE(accepts_gzip("gzip;q=abc, gzip"));
}

}  // namespace
}  // namespace composewatch::http
