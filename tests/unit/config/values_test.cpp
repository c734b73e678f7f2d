// Durations, sizes and percentages as the config file and flags write them.

#include <gtest/gtest.h>

#include "composewatch/config/config.h"

namespace cfg = composewatch::config;
using namespace std::chrono_literals;

TEST(ConfigParseDuration, AcceptsSingleUnits) {
  EXPECT_EQ(cfg::parse_duration("90s"), 90s);
  EXPECT_EQ(cfg::parse_duration("5m"), 5min);
  EXPECT_EQ(cfg::parse_duration("24h"), 24h);
  EXPECT_EQ(cfg::parse_duration("500ms"), 500ms);
  EXPECT_EQ(cfg::parse_duration("2d"), 48h);
  EXPECT_EQ(cfg::parse_duration("0"), 0ms);
  EXPECT_EQ(cfg::parse_duration("0s"), 0ms);
}

TEST(ConfigParseDuration, AcceptsCompoundsAndFractions) {
  EXPECT_EQ(cfg::parse_duration("1h30m"), 90min);
  EXPECT_EQ(cfg::parse_duration("1m30s500ms"), 90500ms);
  EXPECT_EQ(cfg::parse_duration("1.5h"), 90min);
  EXPECT_EQ(cfg::parse_duration("0.5s"), 500ms);
}

TEST(ConfigParseDuration, RejectsGarbageNegativesAndBareNumbers) {
  for (const char* bad : {"", "-5m", "90", "5 m", "5M", "m", "1h-30m", "1.h", ".s", "5mm", "s5",
                          "1y", " 5m", "5m ", "99999999999999999999h", "9223372036854776s"}) {
    EXPECT_THROW(cfg::parse_duration(bad), cfg::ConfigError) << "'" << bad << "'";
  }
}

TEST(ConfigParseDuration, ErrorQuotesTheValue) {
  try {
    cfg::parse_duration("3x");
    FAIL() << "no exception";
  } catch (const cfg::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'3x'"), std::string::npos) << e.what();
  }
}

TEST(ConfigParseSize, PowersOf1024CaseInsensitive) {
  EXPECT_EQ(cfg::parse_size("1024"), 1024u);
  EXPECT_EQ(cfg::parse_size("0"), 0u);
  EXPECT_EQ(cfg::parse_size("512k"), 512u * 1024);
  EXPECT_EQ(cfg::parse_size("512K"), 512u * 1024);
  EXPECT_EQ(cfg::parse_size("512MB"), 512ull * 1024 * 1024);
  EXPECT_EQ(cfg::parse_size("512mb"), 512ull * 1024 * 1024);
  EXPECT_EQ(cfg::parse_size("5GB"), 5ull * 1024 * 1024 * 1024);
  EXPECT_EQ(cfg::parse_size("1GiB"), 1ull << 30);
  EXPECT_EQ(cfg::parse_size("1gi"), 1ull << 30);
  EXPECT_EQ(cfg::parse_size("2TB"), 2ull << 40);
  EXPECT_EQ(cfg::parse_size("1PiB"), 1ull << 50);
  EXPECT_EQ(cfg::parse_size("100B"), 100u);
  EXPECT_EQ(cfg::parse_size("512 MB"), 512ull << 20);
}

TEST(ConfigParseSize, FractionsRoundDown) {
  EXPECT_EQ(cfg::parse_size("1.5GiB"), 3ull << 29);
  EXPECT_EQ(cfg::parse_size("0.5k"), 512u);
  EXPECT_EQ(cfg::parse_size("1.5"), 1u);
}

TEST(ConfigParseSize, RejectsGarbageNegativesAndOverflow) {
  for (const char* bad : {"", "-1", "-5GB", "GB", "5XB", "5 GBs", "5  GB", "1e3", "5.GB", "0x10",
                          "16384PB", "99999999999999999999"}) {
    EXPECT_THROW(cfg::parse_size(bad), cfg::ConfigError) << "'" << bad << "'";
  }
}

TEST(ConfigParsePercent, RequiresPercentSignAndRange) {
  EXPECT_DOUBLE_EQ(cfg::parse_percent("20%"), 20.0);
  EXPECT_DOUBLE_EQ(cfg::parse_percent("12.5%"), 12.5);
  EXPECT_DOUBLE_EQ(cfg::parse_percent("100%"), 100.0);
  EXPECT_DOUBLE_EQ(cfg::parse_percent("0%"), 0.0);
  for (const char* bad : {"20", "0.2", "-5%", "101%", "100.5%", "%", "20 %", "twenty%", ""}) {
    EXPECT_THROW(cfg::parse_percent(bad), cfg::ConfigError) << "'" << bad << "'";
  }
}

TEST(ConfigValues, FormatSizeIsParseSizeTheOtherWayRound) {
  constexpr std::int64_t kMiB = 1 << 20;
  EXPECT_EQ(cfg::format_size(0), "0B");
  EXPECT_EQ(cfg::format_size(512), "512B");
  EXPECT_EQ(cfg::format_size(1023), "1023B");
  EXPECT_EQ(cfg::format_size(1536), "1.5KiB");
  EXPECT_EQ(cfg::format_size(300 * 1024), "300KiB");
  EXPECT_EQ(cfg::format_size(64 * kMiB), "64MiB");
  EXPECT_EQ(cfg::format_size(kMiB - 1), "1.0MiB") << "never 1024KiB";
  EXPECT_EQ(cfg::format_size(1536 * kMiB), "1.5GiB");
  for (std::int64_t v : {std::int64_t(512), 64 * kMiB, 1536 * kMiB})
    EXPECT_EQ(cfg::parse_size(cfg::format_size(v)), std::uint64_t(v));
}
