// The Dockerfile parser and the RUN script splitter, on tests/fixtures/image/dockerfiles.

#include <gtest/gtest.h>

#include <random>

#include "composewatch/images/dockerfile.h"
#include "fixture_file.h"

namespace img = composewatch::images;
using composewatch::test_support::read_fixture;

namespace {

img::Dockerfile parse_fixture(const std::string& name, const std::map<std::string, std::string>& args = {}) {
  const std::string text = read_fixture("image/dockerfiles/" + name);
  EXPECT_FALSE(text.empty()) << name;
  return img::parse_dockerfile(text, args);
}

std::vector<std::pair<std::string, int>> keywords(const img::Dockerfile& df) {
  std::vector<std::pair<std::string, int>> out;
  for (const auto& i : df.instructions) out.emplace_back(i.keyword, i.line);
  return out;
}

using KL = std::vector<std::pair<std::string, int>>;

TEST(DockerfileParser, ContinuationsSkipCommentAndEmptyLinesAndKeepTheFirstLine) {
  const auto df = parse_fixture("continuations.Dockerfile");
  EXPECT_EQ(keywords(df), (KL{{"FROM", 1}, {"RUN", 3}, {"RUN", 10}, {"USER", 12}}));
  const std::string& run = df.instructions[1].args;
  EXPECT_NE(run.find("apt-get install -y"), std::string::npos) << run;
  EXPECT_NE(run.find("ca-certificates"), std::string::npos) << run;
  EXPECT_EQ(run.find("runtime libraries"), std::string::npos) << "the comment inside is dropped: " << run;
  EXPECT_EQ(run.find('\\'), std::string::npos) << run;
  ASSERT_EQ(df.stages.size(), 1u);
  EXPECT_EQ(df.stages[0].base, "debian:12.5");
  EXPECT_EQ(df.stages[0].instructions.size(), 3u);
}

TEST(DockerfileParser, HeredocBodiesAreNotInstructions) {
  const auto df = parse_fixture("heredoc.Dockerfile");
  EXPECT_EQ(df.directives.at("syntax"), "docker/dockerfile:1.4");
  EXPECT_EQ(keywords(df), (KL{{"FROM", 2}, {"RUN", 3}, {"COPY", 8}, {"RUN", 12}, {"USER", 15}}));
  const auto& run = df.instructions[1];
  ASSERT_EQ(run.heredocs.size(), 1u);
  EXPECT_EQ(run.heredocs[0].name, "EOF");
  EXPECT_EQ(run.heredocs[0].body, "set -e\napk add --no-cache gcc musl-dev\necho built");
  const auto& copy = df.instructions[2];
  ASSERT_EQ(copy.heredocs.size(), 1u);
  EXPECT_NE(copy.heredocs[0].body.find("FROM ubuntu"), std::string::npos);
  const auto& tabbed = df.instructions[3];
  ASSERT_EQ(tabbed.heredocs.size(), 1u);
  EXPECT_TRUE(tabbed.heredocs[0].strip_tabs);
  EXPECT_EQ(tabbed.heredocs[0].body, "pip install flask");
  EXPECT_NE(img::run_script(run).find("apk add"), std::string::npos);
  EXPECT_EQ(img::run_script(run).find("<<"), std::string::npos);
  EXPECT_TRUE(df.warnings.empty());
}

TEST(DockerfileParser, EscapeDirectiveMakesTheBacktickTheContinuation) {
  const auto df = parse_fixture("escape.Dockerfile");
  EXPECT_EQ(df.escape, '`');
  EXPECT_EQ(keywords(df), (KL{{"FROM", 2}, {"RUN", 3}, {"COPY", 6}, {"USER", 7}}));
  EXPECT_NE(df.instructions[1].args.find("rm -rf /var/lib/apt/lists/*"), std::string::npos);
  EXPECT_EQ(df.instructions[2].args, "C:\\src\\app C:\\app");
}

TEST(DockerfileParser, ArgsBeforeFromAreSubstitutedAndBuildArgsWin) {
  const auto df = parse_fixture("arg_from.Dockerfile");
  ASSERT_EQ(df.meta_args.size(), 3u);
  ASSERT_EQ(df.stages.size(), 4u);
  EXPECT_EQ(df.stages[0].base_resolved, "python:latest");
  EXPECT_EQ(df.stages[0].name, "builder");
  EXPECT_EQ(df.stages[1].base_resolved, "node:20-slim");
  EXPECT_EQ(df.stages[2].base_resolved, "registry.example.com:5000/team/tool");
  EXPECT_EQ(df.stages[3].parent, std::optional<std::size_t>(0));
  EXPECT_FALSE(df.stages[1].parent);
  EXPECT_EQ(df.final_stage()->name, "final");
  EXPECT_EQ(df.final_stage("web")->index, 1u);
  EXPECT_EQ(df.final_stage("WEB")->index, 1u);
  const auto lineage = df.lineage(*df.final_stage());
  ASSERT_EQ(lineage.size(), 2u);
  EXPECT_EQ(lineage[1]->name, "builder");

  const auto with_args = parse_fixture("arg_from.Dockerfile", {{"BASE", "python:3.12"}, {"NODE_VERSION", "18"}});
  EXPECT_EQ(with_args.stages[0].base_resolved, "python:3.12");
  EXPECT_EQ(with_args.stages[1].base_resolved, "node:18-slim");
}

TEST(DockerfileParser, ExecAndShellFormsAndFlags) {
  const auto df = img::parse_dockerfile(
      "FROM --platform=linux/amd64 alpine:3.19 AS Base\n"
      "COPY --from=base --chown=1:1 /a /b\n"
      "RUN [\"/bin/sh\", \"-c\", \"apk add curl && rm -rf /x\"]\n"
      "CMD [\"a\", 1]\n"
      "run echo lower-case keyword\n");
  ASSERT_EQ(df.instructions.size(), 5u);
  EXPECT_EQ(df.instructions[0].flag("platform"), std::optional<std::string>("linux/amd64"));
  EXPECT_EQ(df.stages[0].name, "base");
  EXPECT_EQ(df.stages[0].base, "alpine:3.19");
  EXPECT_EQ(df.instructions[1].flag("from"), std::optional<std::string>("base"));
  EXPECT_EQ(df.instructions[1].args, "/a /b");
  EXPECT_TRUE(df.instructions[2].exec_form);
  EXPECT_EQ(img::run_script(df.instructions[2]), "apk add curl && rm -rf /x");
  EXPECT_FALSE(df.instructions[3].exec_form) << "not an array of strings: shell form";
  EXPECT_EQ(df.instructions[4].keyword, "RUN");
}

TEST(DockerfileParser, DirectivesOnlyAtTheTop) {
  const auto df = img::parse_dockerfile("FROM alpine:3.19\n# escape=`\nRUN a \\\n  b\n");
  EXPECT_EQ(df.escape, '\\');
  EXPECT_TRUE(df.directives.empty());
  ASSERT_EQ(df.instructions.size(), 2u);
  EXPECT_EQ(df.instructions[1].args, "a   b");
}

TEST(DockerfileParser, GarbageGivesWarningsNotCrashes) {
  const auto df = parse_fixture("garbage.Dockerfile");
  EXPECT_FALSE(df.warnings.empty());
  std::mt19937 rng(7);
  const std::string alphabet = "FROMRUNCOPYADD <<-EOF\\`\n\r\t\"'$(){}[]#=:;&|!*?-AS ";
  for (int round = 0; round < 2000; ++round) {
    std::string s;
    const int n = static_cast<int>(rng() % 400);
    for (int i = 0; i < n; ++i) s += alphabet[rng() % alphabet.size()];
    const auto d = img::parse_dockerfile(s, {{"A", "b"}});
    for (const auto& i : d.instructions) (void)img::split_commands(img::run_script(i));
    if (const auto* st = d.final_stage()) (void)d.lineage(*st);
  }
}

TEST(DockerfileParser, SizeAndInstructionCountAreBounded) {
  std::string many;
  for (std::size_t i = 0; i < img::kMaxInstructions + 5; ++i) many += "RUN x\n";
  const auto df = img::parse_dockerfile("FROM a:1\n" + many);
  EXPECT_EQ(df.instructions.size(), img::kMaxInstructions);
  EXPECT_FALSE(df.warnings.empty());
  const auto big = img::parse_dockerfile(std::string(img::kMaxDockerfileBytes + 10, 'x'));
  EXPECT_FALSE(big.warnings.empty());
}

TEST(DockerfileSubstitute, Forms) {
  const std::map<std::string, std::string> v = {{"A", "x"}, {"E", ""}};
  EXPECT_EQ(img::substitute("$A-${A}", v), "x-x");
  EXPECT_EQ(img::substitute("${B:-d}|${E:-d}|${E-d}", v), "d|d|");
  EXPECT_EQ(img::substitute("${A:+r}|${B:+r}|${E+r}", v), "r||r");
  EXPECT_EQ(img::substitute("\\$A $ ${UNCLOSED", v), "$A $ ${UNCLOSED");
}

std::vector<std::string> programs(std::string_view script) {
  std::vector<std::string> out;
  for (const auto& c : img::split_commands(script)) out.push_back(c.program());
  return out;
}

TEST(ShellSplit, SeparatorsQuotesAndWrappers) {
  EXPECT_EQ(programs("apt-get update && apt-get install -y x; rm -rf /a || true | tee f & wait\nls"),
            (std::vector<std::string>{"apt-get", "apt-get", "rm", "true", "tee", "wait", "ls"}));
  EXPECT_EQ(programs("echo 'a && b' \"c; d\" 2>&1 && DEBIAN_FRONTEND=noninteractive sudo -E /usr/bin/apt-get install"),
            (std::vector<std::string>{"echo", "apt-get"}));
  EXPECT_EQ(programs("set -e; (cd /x && make) && { pip install y; } # a comment && rm"),
            (std::vector<std::string>{"set", "cd", "make", "pip"}));
  EXPECT_EQ(programs("echo $(apt-get install x && y) && ls"), (std::vector<std::string>{"echo", "ls"}));
  const auto cmds = img::split_commands("apt-get install -y \\\n  curl");
  ASSERT_EQ(cmds.size(), 1u);
  EXPECT_EQ(cmds[0].words, (std::vector<std::string>{"apt-get", "install", "-y", "curl"}));
}

}  // namespace
