// Compose interpolation, env files, memory sizes and durations: the pure helpers.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "composewatch/compose/loader.h"

namespace cc = composewatch::compose;

namespace {

const std::map<std::string, std::string> kVars = {{"SET", "value"}, {"EMPTY", ""}, {"TAG", "1.25"}};

std::string expand(const std::string& text) { return cc::interpolate(text, kVars).value; }

std::string error_of(const std::string& text) {
  try {
    cc::interpolate(text, kVars);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(ComposeInterpolate, PlainReferences) {
  EXPECT_EQ(expand("nginx:$TAG"), "nginx:1.25");
  EXPECT_EQ(expand("nginx:${TAG}-alpine"), "nginx:1.25-alpine");
  EXPECT_EQ(expand("$SET$SET"), "valuevalue");
  EXPECT_EQ(expand("no variables"), "no variables");
  EXPECT_EQ(expand("$TAG.x"), "1.25.x");  // a name stops at the first non-name character
}

TEST(ComposeInterpolate, DollarDollarIsALiteralDollar) {
  EXPECT_EQ(expand("echo $$HOME"), "echo $HOME");
  EXPECT_EQ(expand("$${SET}"), "${SET}");
  const auto r = cc::interpolate("a$$b", kVars);
  EXPECT_FALSE(r.substituted);
}

TEST(ComposeInterpolate, DefaultsDistinguishUnsetFromEmpty) {
  EXPECT_EQ(expand("${UNSET:-d}"), "d");
  EXPECT_EQ(expand("${EMPTY:-d}"), "d");
  EXPECT_EQ(expand("${SET:-d}"), "value");
  EXPECT_EQ(expand("${UNSET-d}"), "d");
  EXPECT_EQ(expand("${EMPTY-d}"), "");
  EXPECT_EQ(expand("${SET-d}"), "value");
  EXPECT_EQ(expand("${UNSET:-}"), "");
  EXPECT_EQ(expand("${UNSET:-a b:c}"), "a b:c");
}

TEST(ComposeInterpolate, Replacements) {
  EXPECT_EQ(expand("${SET:+r}"), "r");
  EXPECT_EQ(expand("${EMPTY:+r}"), "");
  EXPECT_EQ(expand("${UNSET:+r}"), "");
  EXPECT_EQ(expand("${SET+r}"), "r");
  EXPECT_EQ(expand("${EMPTY+r}"), "r");
  EXPECT_EQ(expand("${UNSET+r}"), "");
}

TEST(ComposeInterpolate, NestedDefaults) {
  EXPECT_EQ(expand("${UNSET:-${TAG}}"), "1.25");
  EXPECT_EQ(expand("${UNSET:-${ALSO_UNSET:-deep}}"), "deep");
  EXPECT_EQ(expand("${SET:+x${TAG}y}"), "x1.25y");
  EXPECT_EQ(expand("${UNSET:-$$}"), "$");
}

TEST(ComposeInterpolate, RequiredVariables) {
  EXPECT_EQ(expand("${SET:?must be set}"), "value");
  EXPECT_EQ(error_of("${UNSET:?DB password is required}"),
            "required variable UNSET is missing a value: DB password is required");
  EXPECT_EQ(error_of("${EMPTY:?no}"), "required variable EMPTY is missing a value: no");
  EXPECT_EQ(expand("${EMPTY?no}"), "");
  EXPECT_EQ(error_of("${UNSET?}"), "required variable UNSET is missing a value");
  EXPECT_EQ(error_of("${UNSET:?see ${TAG}}"), "required variable UNSET is missing a value: see 1.25");
}

TEST(ComposeInterpolate, UnsetVariablesAreReportedAndEmpty) {
  const auto r = cc::interpolate("a${UNSET}b$OTHER$UNSET", kVars);
  EXPECT_EQ(r.value, "ab");
  EXPECT_TRUE(r.substituted);
  EXPECT_EQ(r.unset, (std::vector<std::string>{"UNSET", "OTHER"}));
  // A default means no warning.
  EXPECT_TRUE(cc::interpolate("${UNSET:-x}", kVars).unset.empty());
  EXPECT_TRUE(cc::interpolate("${UNSET-}", kVars).unset.empty());
}

TEST(ComposeInterpolate, MalformedReferencesAreErrors) {
  EXPECT_NE(error_of("${SET"), "");
  EXPECT_NE(error_of("${}"), "");
  EXPECT_NE(error_of("${1X}"), "");
  EXPECT_NE(error_of("${SET:x}"), "");
  EXPECT_NE(error_of("cost: 5$"), "");
  EXPECT_NE(error_of("$ x"), "");
  EXPECT_NE(error_of("${SET!}"), "");
}

TEST(ComposeInterpolate, HostileNestingIsBounded) {
  std::string text;
  for (int i = 0; i < 10'000; ++i) text += "${U:-";
  text += "x";
  for (int i = 0; i < 10'000; ++i) text += "}";
  EXPECT_NE(error_of(text), "");
}

TEST(ComposeEnvFile, ReadsKeyValueLines) {
  const auto dir = std::filesystem::temp_directory_path() / ("cw-envfile-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = (dir / ".env").string();
  std::ofstream(path) << "# comment\n\nA=1\nexport B = two words \nC=\"quoted # not a comment\"\nD='x'\nE=\nF\n";
  const auto vars = cc::read_env_file(path);
  EXPECT_EQ(vars.at("A"), "1");
  EXPECT_EQ(vars.at("B"), "two words");
  EXPECT_EQ(vars.at("C"), "quoted # not a comment");
  EXPECT_EQ(vars.at("D"), "x");
  EXPECT_EQ(vars.at("E"), "");
  EXPECT_FALSE(vars.contains("F"));

  std::ofstream(path) << "A=1\n1BAD=2\n";
  try {
    cc::read_env_file(path);
    FAIL() << "expected an error";
  } catch (const cc::LoadError& e) {
    EXPECT_EQ(e.location.line, 2);
  }
  std::filesystem::remove_all(dir);
}

TEST(ComposeUnits, MemorySizesArePowersOf1024) {
  EXPECT_EQ(cc::parse_memory_bytes("1024"), 1024);
  EXPECT_EQ(cc::parse_memory_bytes("100b"), 100);
  EXPECT_EQ(cc::parse_memory_bytes("1k"), 1024);
  EXPECT_EQ(cc::parse_memory_bytes("1KB"), 1024);
  EXPECT_EQ(cc::parse_memory_bytes("512m"), 512LL << 20);
  EXPECT_EQ(cc::parse_memory_bytes("512Mb"), 512LL << 20);
  EXPECT_EQ(cc::parse_memory_bytes("2g"), 2LL << 30);
  EXPECT_EQ(cc::parse_memory_bytes("2GB"), 2LL << 30);
  EXPECT_EQ(cc::parse_memory_bytes("1.5g"), 3LL << 29);
  EXPECT_EQ(cc::parse_memory_bytes("0"), 0);
}

TEST(ComposeUnits, BadMemorySizesNameTheProblem) {
  auto message = [](const std::string& text) {
    try {
      cc::parse_memory_bytes(text);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(message("512x"), "unknown memory unit 'x' in '512x' (expected b, k, kb, m, mb, g or gb)");
  EXPECT_NE(message("1tb").find("unknown memory unit 'tb'"), std::string::npos);
  EXPECT_NE(message("1GiB").find("unknown memory unit"), std::string::npos);
  EXPECT_NE(message(""), "");
  EXPECT_NE(message("-1g"), "");
  EXPECT_NE(message("m"), "");
  EXPECT_NE(message("1 g"), "");
  EXPECT_NE(message("99999999999999999999g").find("too large"), std::string::npos);
}

TEST(ComposeUnits, Durations) {
  EXPECT_DOUBLE_EQ(cc::parse_duration_seconds("30s"), 30);
  EXPECT_DOUBLE_EQ(cc::parse_duration_seconds("1m30s"), 90);
  EXPECT_DOUBLE_EQ(cc::parse_duration_seconds("500ms"), 0.5);
  EXPECT_DOUBLE_EQ(cc::parse_duration_seconds("1h"), 3600);
  EXPECT_DOUBLE_EQ(cc::parse_duration_seconds("1.5h"), 5400);
  EXPECT_DOUBLE_EQ(cc::parse_duration_seconds("250us"), 0.00025);
  EXPECT_DOUBLE_EQ(cc::parse_duration_seconds("1h2m3s4ms"), 3723.004);
  EXPECT_DOUBLE_EQ(cc::parse_duration_seconds("0"), 0);
  for (const char* bad : {"", "30", "5 s", "5d", "s", "1m30", "-5s", "abc"}) {
    EXPECT_THROW(cc::parse_duration_seconds(bad), std::invalid_argument) << bad;
  }
}

TEST(ComposeUnits, ProjectNamesAreNormalisedLikeCompose) {
  EXPECT_EQ(cc::normalize_project_name("My Shop.v2"), "myshopv2");
  EXPECT_EQ(cc::normalize_project_name("web_app-1"), "web_app-1");
  EXPECT_EQ(cc::normalize_project_name("..."), "");
}
