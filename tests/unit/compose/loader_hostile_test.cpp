// Hostile Compose input: each is refused with FILE:LINE and a clear reason, in bounded
// time, before yaml-cpp's recursion or alias expansion can hurt the process. The big and
// deep files are generated here, never committed.

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "composewatch/compose/loader.h"

namespace cc = composewatch::compose;
namespace fs = std::filesystem;

namespace {

class ComposeHostile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "cw-hostile-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path(name), std::ios::binary) << text;
  }

  // Loads `name`; returns the error message with the dir replaced by "DIR", and checks
  // that refusing took well under a second or two.
  std::string refuse(const std::string& name) const {
    const auto start = std::chrono::steady_clock::now();
    std::string message = "no error";
    try {
      cc::LoadOptions o;
      o.files = {path(name)};
      cc::load_project(o);
    } catch (const cc::LoadError& e) {
      message = e.what();
    }
    const auto elapsed = std::chrono::steady_clock::now() - start;
    EXPECT_LT(elapsed, std::chrono::seconds(3)) << name;
    const std::string d = dir_.string();
    for (auto pos = message.find(d); pos != std::string::npos; pos = message.find(d)) {
      message.replace(pos, d.size(), "DIR");
    }
    return message;
  }

  fs::path dir_;
};

TEST_F(ComposeHostile, HundredMegabyteFileIsRefusedBeforeReading) {
  { std::ofstream(path("huge.yml")) << "services:\n"; }
  fs::resize_file(path("huge.yml"), 100u << 20);  // sparse: costs no disk
  EXPECT_EQ(refuse("huge.yml"), "DIR/huge.yml: file is 100 MiB, larger than the limit of 10 MiB; refusing to read it");
}

TEST_F(ComposeHostile, TenThousandDeepFlowNesting) {
  write("flow.yml", "services:\n  s:\n    image: a\n    labels: " + std::string(10'000, '[') +
                        std::string(10'000, ']') + "\n");
  EXPECT_EQ(refuse("flow.yml"), "DIR/flow.yml:4: YAML nested more than 100 levels deep; refusing to parse it");
  write("flowmap.yml", "x: " + std::string(10'000, '{') + "\n");
  EXPECT_EQ(refuse("flowmap.yml"), "DIR/flowmap.yml:1: YAML nested more than 100 levels deep; refusing to parse it");
}

TEST_F(ComposeHostile, TenThousandDeepCompactSequences) {
  std::string text = "services:\n  s:\n    image: a\nx:\n";
  for (int i = 0; i < 10'000; ++i) text += "- ";
  text += "a\n";
  write("dashes.yml", text);
  EXPECT_EQ(refuse("dashes.yml"), "DIR/dashes.yml:5: YAML nested more than 100 levels deep; refusing to parse it");
}

TEST_F(ComposeHostile, DeepBlockMappings) {
  std::string text;
  for (int i = 0; i < 2'000; ++i) text += std::string(static_cast<std::size_t>(i), ' ') + "a:\n";
  write("block.yml", text);
  EXPECT_EQ(refuse("block.yml"), "DIR/block.yml:101: YAML nested more than 100 levels deep; refusing to parse it");
}

TEST_F(ComposeHostile, BillionLaughs) {
  std::string text = "x-a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (char c = 'b'; c <= 'i'; ++c) {
    const char prev = static_cast<char>(c - 1);
    text += std::string("x-") + c + ": &" + c + " [";
    for (int i = 0; i < 9; ++i) text += std::string(i ? ", " : "") + "*" + prev;
    text += "]\n";
  }
  text += "services:\n  s:\n    image: a\n    command: *i\n";
  write("laughs.yml", text);
  const std::string message = refuse("laughs.yml");
  EXPECT_NE(message.find("DIR/laughs.yml:"), std::string::npos) << message;
  EXPECT_NE(message.find("YAML nodes after expanding aliases"), std::string::npos) << message;
}

TEST_F(ComposeHostile, ManyAliasesOfOneBigAnchor) {
  std::string text = "x-big: &big [";
  for (int i = 0; i < 5'000; ++i) text += std::string(i ? "," : "") + "v";
  text += "]\nservices:\n  s:\n    image: a\n    labels: [";
  for (int i = 0; i < 5'000; ++i) text += std::string(i ? "," : "") + "*big";
  text += "]\n";
  write("quadratic.yml", text);
  EXPECT_NE(refuse("quadratic.yml").find("YAML nodes after expanding aliases"), std::string::npos);
}

TEST_F(ComposeHostile, DeepVariableNesting) {
  std::string value;
  for (int i = 0; i < 10'000; ++i) value += "${A:-";
  for (int i = 0; i < 10'000; ++i) value += "}";
  write("vars.yml", "services:\n  s:\n    image: \"" + value + "\"\n");
  EXPECT_EQ(refuse("vars.yml"), "DIR/vars.yml:3: variable references nested more than 32 deep");
}

TEST_F(ComposeHostile, RealisticFilesAreNotMistakenForDeepOnes) {
  // Brackets and quotes inside plain and block scalars, a long indented script.
  std::string text = R"(services:
  s:
    image: "a[[[[[[["
    command: echo [[[[[[[[[[[[ it's {{{{{{{{ fine
    labels:
      q: '[[[[[[[[[[[[[[[[[['
    entrypoint: |
)";
  for (int i = 0; i < 300; ++i) text += std::string(static_cast<std::size_t>(6 + i), ' ') + "line\n";
  text += "    environment: {A: \"{\", B: ']'}\n";
  write("ok.yml", text);
  cc::LoadOptions o;
  o.files = {path("ok.yml")};
  const cc::Project p = cc::load_project(o);
  EXPECT_EQ(p.services.at("s").image, "a[[[[[[[");
  EXPECT_EQ(p.services.at("s").environment.at("B").value, "]");
}

}  // namespace

// Fuzz finding: the duplicate-key check searched the mapping for every key, so one
// mapping of 80,000 keys (1.2 MB) took 7.6 s. It is a hash set now (bench: tens of ms).
TEST_F(ComposeHostile, EightyThousandKeysInOneMapping) {
  std::string labels;
  for (int i = 0; i < 80'000; ++i) labels += "      key" + std::to_string(i) + ": v\n";
  write("wide.yml", "services:\n  s:\n    image: a\n    labels:\n" + labels);
  cc::LoadOptions o;
  o.files = {path("wide.yml")};
  const cc::Project p = cc::load_project(o);
  ASSERT_EQ(p.services.size(), 1u);
  EXPECT_EQ(p.services.begin()->second.labels.size(), 80'000u);

  // The same with the first key repeated at the end: refused at the repeat's line.
  write("wide_dup.yml", "services:\n  s:\n    image: a\n    labels:\n" + labels + "      key0: w\n");
  o.files = {path("wide_dup.yml")};
  try {
    cc::load_project(o);
    ADD_FAILURE() << "loaded";
  } catch (const cc::LoadError& e) {
    EXPECT_EQ(std::string(e.what()), path("wide_dup.yml") + ":80005: duplicate key 'key0'");
  }
}

// Fuzz finding: an `extends:`/`include:` path longer than the system takes escaped as a
// bare std::filesystem error without the file and line.
TEST_F(ComposeHostile, OverlongPathsInExtendsAndIncludeAreLoadErrors) {
  const std::string long_ref = std::string(5000, 'a') + ".yml";
  write("extends.yml", "services:\n  s:\n    extends:\n      file: " + long_ref + "\n      service: b\n");
  EXPECT_EQ(refuse("extends.yml"),
            "DIR/extends.yml:4: extends: cannot look up '" + std::string(77, 'a') + "...': File name too long");
  write("include.yml", "include:\n  - " + long_ref + "\nservices:\n  s:\n    image: a\n");
  EXPECT_EQ(refuse("include.yml"),
            "DIR/include.yml:2: include: cannot look up '" + std::string(77, 'a') + "...': File name too long");
}

// Fuzz finding: a stray ',' made yaml-cpp end the document without consuming it; the file
// loaded as empty. It is a syntax error at its line.
TEST_F(ComposeHostile, StrayFlowIndicatorIsASyntaxError) {
  write("comma.yml", ",");
  EXPECT_EQ(refuse("comma.yml").rfind("DIR/comma.yml:1: invalid YAML: unexpected ','", 0), 0u) << refuse("comma.yml");
  write("tail.yml", "services:\n  s:\n    image: a\n,\n");
  EXPECT_EQ(refuse("tail.yml"), "DIR/tail.yml:4: invalid YAML: end of map not found");
  // Compose v1 refuses a second document too ("expected a single document").
  write("two.yml", "services:\n  s:\n    image: a\n---\nservices: {}\n");
  EXPECT_EQ(refuse("two.yml"), "DIR/two.yml:5: invalid YAML: more than one YAML document; expected one");
}
