// Log lines: logfmt and JSON, one record per line whatever the message holds.

#include <gtest/gtest.h>
#include <spdlog/details/log_msg.h>
#include <spdlog/formatter.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <chrono>
#include <sstream>
#include <stdexcept>

#include "composewatch/log/log.h"

namespace cwlog = composewatch::log;

namespace {

// 2026-11-26T14:20:00.123Z
spdlog::log_clock::time_point fixed_time() {
  using namespace std::chrono;
  return spdlog::log_clock::time_point(seconds(1795702800) + milliseconds(123));
}

std::string format_at(const std::string& format, spdlog::level::level_enum level, std::string_view text) {
  const auto formatter = cwlog::make_formatter(format);
  const spdlog::details::log_msg msg(fixed_time(), spdlog::source_loc{}, "composewatch", level,
                                     spdlog::string_view_t(text.data(), text.size()));
  spdlog::memory_buf_t buffer;
  formatter->format(msg, buffer);
  return std::string(buffer.data(), buffer.size());
}

// Captures what the default logger writes, restoring the previous default logger after.
class LogCapture : public ::testing::Test {
 protected:
  void SetUp() override { previous_ = spdlog::default_logger(); }
  void TearDown() override { spdlog::set_default_logger(previous_); }

  void use(const std::string& level, const std::string& format) {
    out_.str("");
    cwlog::setup(level, format, std::make_shared<spdlog::sinks::ostream_sink_mt>(out_));
  }
  // The text after the timestamp of each record.
  std::string text() const { return out_.str(); }

  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

// Drops "ts=... " (logfmt) so assertions do not depend on the clock.
std::string without_ts(const std::string& line) {
  const auto space = line.find(' ');
  return line.rfind("ts=", 0) == 0 && space != std::string::npos ? line.substr(space + 1) : line;
}

}  // namespace

TEST(LogFormat, LogfmtLine) {
  EXPECT_EQ(format_at("logfmt", spdlog::level::info, "engine connected"),
            "ts=2026-11-26T14:20:00.123Z level=info msg=\"engine connected\"\n");
  EXPECT_EQ(format_at("logfmt", spdlog::level::warn, "reconnecting"),
            "ts=2026-11-26T14:20:00.123Z level=warn msg=reconnecting\n");
}

TEST(LogFormat, JsonLine) {
  EXPECT_EQ(format_at("json", spdlog::level::err, "engine connected"),
            "{\"ts\":\"2026-11-26T14:20:00.123Z\",\"level\":\"error\",\"msg\":\"engine connected\"}\n");
}

TEST(LogFormat, LevelNamesAreThePrometheusOnes) {
  EXPECT_NE(format_at("logfmt", spdlog::level::debug, "x").find(" level=debug "), std::string::npos);
  EXPECT_NE(format_at("logfmt", spdlog::level::trace, "x").find(" level=debug "), std::string::npos);
  EXPECT_NE(format_at("logfmt", spdlog::level::critical, "x").find(" level=error "), std::string::npos);
}

TEST(LogFormat, LogfmtEscapes) {
  const auto msg = [](std::string_view text) {
    const std::string line = format_at("logfmt", spdlog::level::info, text);
    return line.substr(line.find(" msg=") + 5);
  };
  EXPECT_EQ(msg("say \"hi\""), "\"say \\\"hi\\\"\"\n");
  EXPECT_EQ(msg("C:\\path"), "\"C:\\\\path\"\n");
  EXPECT_EQ(msg("two\nlines"), "\"two\\nlines\"\n");
  EXPECT_EQ(msg("tab\there\r"), "\"tab\\there\\r\"\n");
  EXPECT_EQ(msg(std::string_view("nul\0bell\a", 9)), "\"nul\\u0000bell\\u0007\"\n");
  EXPECT_EQ(msg("a=b"), "\"a=b\"\n");
  EXPECT_EQ(msg(""), "\"\"\n");
  EXPECT_EQ(msg("caf\xC3\xA9"), "\"caf\xC3\xA9\"\n");         // valid UTF-8 kept
  EXPECT_EQ(msg("bad\xFF\xC3"), "\"bad\xEF\xBF\xBD\xEF\xBF\xBD\"\n");  // invalid bytes → U+FFFD
  EXPECT_EQ(msg("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"\n");  // a surrogate
}

TEST(LogFormat, JsonEscapesParseBack) {
  const std::string nasty("quote\" backslash\\ newline\n cr\r tab\t nul\0 esc\x1b del\x7f end", 53);
  const std::string line = format_at("json", spdlog::level::info, nasty);
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);  // one record, one line
  const auto value = boost::json::parse(line);
  EXPECT_EQ(std::string(value.at("msg").as_string()), nasty);
  EXPECT_EQ(value.at("level").as_string(), "info");
  EXPECT_EQ(value.at("ts").as_string(), "2026-11-26T14:20:00.123Z");
}

TEST(LogFormat, JsonWithInvalidUtf8IsStillJson) {
  const std::string line = format_at("json", spdlog::level::info, "name\xC0\xAF");
  EXPECT_EQ(std::string(boost::json::parse(line).at("msg").as_string()), "name\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(LogFormat, FormatBracesInMessagesAreText) {
  EXPECT_NE(format_at("logfmt", spdlog::level::info, "{} {:x}").find("msg=\"{} {:x}\""), std::string::npos);
}

TEST(LogFormat, UnknownFormatOrLevelIsRejected) {
  EXPECT_THROW(cwlog::make_formatter("text"), std::invalid_argument);
  try {
    cwlog::setup("verbose", "logfmt");
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'verbose'"), std::string::npos) << e.what();
  }
  try {
    cwlog::setup("info", "yaml");
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("'yaml'"), std::string::npos) << e.what();
  }
}

TEST_F(LogCapture, FieldsInLogfmt) {
  use("info", "logfmt");
  cwlog::info("engine connected",
              {{"host", "unix:///var/run/docker.sock"}, {"api", std::string("1.41")}, {"containers", 12},
               {"ready", true}, {"note", "has space"}, {"bad key", "x"}});
  EXPECT_EQ(without_ts(text()),
            "level=info msg=\"engine connected\" host=unix:///var/run/docker.sock api=1.41 containers=12 "
            "ready=true note=\"has space\" bad_key=x\n");
}

TEST_F(LogCapture, FieldsInJson) {
  use("debug", "json");
  cwlog::warn("slow \"scrape\"", {{"seconds", 1.5}, {"count", 3}, {"ok", false}, {"path", "/metrics\n"}});
  const auto value = boost::json::parse(text());
  EXPECT_EQ(value.at("level").as_string(), "warn");
  EXPECT_EQ(value.at("msg").as_string(), "slow \"scrape\"");
  EXPECT_DOUBLE_EQ(value.at("seconds").as_double(), 1.5);
  EXPECT_EQ(value.at("count").as_int64(), 3);
  EXPECT_EQ(value.at("ok").as_bool(), false);
  EXPECT_EQ(value.at("path").as_string(), "/metrics\n");
}

TEST_F(LogCapture, LevelFilters) {
  use("warn", "logfmt");
  cwlog::info("hidden");
  cwlog::debug("hidden too");
  spdlog::info("hidden as well");
  cwlog::error("shown");
  EXPECT_EQ(without_ts(text()), "level=error msg=shown\n");
}

TEST_F(LogCapture, PlainSpdlogCallsAreFormattedToo) {
  use("info", "json");
  spdlog::info("collected {} containers", 7);
  EXPECT_EQ(boost::json::parse(text()).at("msg").as_string(), "collected 7 containers");
}

TEST_F(LogCapture, FieldsDoNotLeakIntoLaterRecords) {
  use("info", "logfmt");
  cwlog::info("first", {{"k", "v"}});
  spdlog::info("second");
  const std::string all = text();
  const std::string second = all.substr(all.find('\n') + 1);
  EXPECT_EQ(without_ts(second), "level=info msg=second\n");
}

TEST_F(LogCapture, BadSetupKeepsThePreviousLogger) {
  use("info", "logfmt");
  const auto before = spdlog::default_logger();
  EXPECT_THROW(cwlog::setup("info", "xml", std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)),
               std::invalid_argument);
  EXPECT_EQ(spdlog::default_logger(), before);
}
