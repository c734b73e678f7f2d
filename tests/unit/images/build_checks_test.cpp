// .dockerignore semantics, the context walk and the build checks, each firing exactly
// where it should, on tests/fixtures/image and on contexts made in a temp dir.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "composewatch/compose/discovery.h"
#include "composewatch/compose/loader.h"
#include "composewatch/images/build_checks.h"
#include "composewatch/images/service_image.h"
#include "fixture_file.h"

namespace img = composewatch::images;
namespace cc = composewatch::compose;
namespace fs = std::filesystem;
using composewatch::test_support::read_fixture;

namespace {

const std::string kFixtures = std::string(COMPOSEWATCH_FIXTURES) + "/image";

// ------------------------------------------------------------------ .dockerignore

TEST(DockerignorePattern, DockerSemantics) {
  using img::ignore_pattern_matches;
  EXPECT_TRUE(ignore_pattern_matches("*.log", "debug.log"));
  EXPECT_FALSE(ignore_pattern_matches("*.log", "dir/debug.log")) << "* does not cross /";
  EXPECT_TRUE(ignore_pattern_matches("**/*.log", "a/b/c.log"));
  EXPECT_TRUE(ignore_pattern_matches("**/*.log", "c.log")) << "**/ matches no directory too";
  EXPECT_TRUE(ignore_pattern_matches("a/**/b", "a/b"));
  EXPECT_TRUE(ignore_pattern_matches("a/**/b", "a/x/y/b"));
  EXPECT_FALSE(ignore_pattern_matches("a/**/b", "a/xb"));
  EXPECT_TRUE(ignore_pattern_matches("dir/**", "dir/a/b"));
  EXPECT_TRUE(ignore_pattern_matches("**", "anything/at/all"));
  EXPECT_TRUE(ignore_pattern_matches("a?c", "abc"));
  EXPECT_FALSE(ignore_pattern_matches("a?c", "a/c"));
  EXPECT_TRUE(ignore_pattern_matches("[a-c].txt", "b.txt"));
  EXPECT_FALSE(ignore_pattern_matches("[a-c].txt", "d.txt"));
  EXPECT_TRUE(ignore_pattern_matches("[^a-c].txt", "d.txt"));
  EXPECT_TRUE(ignore_pattern_matches("\\*.txt", "*.txt"));
  EXPECT_FALSE(ignore_pattern_matches("\\*.txt", "a.txt"));
  EXPECT_EQ(img::clean_ignore_pattern("/.git"), ".git");
  EXPECT_EQ(img::clean_ignore_pattern("node_modules/"), "node_modules");
  EXPECT_EQ(img::clean_ignore_pattern("./a//b/../c"), "a/c");
}

TEST(DockerignoreMatcher, ParentsExceptionsAndLastMatchWins) {
  const auto m = img::IgnoreMatcher::parse("# comment\n\n  node_modules/  \n/.git\n*.md\n!README.md\ndocs\n!docs/keep.md\n!\n");
  EXPECT_TRUE(m.excluded("node_modules"));
  EXPECT_TRUE(m.excluded("node_modules/x/y.js")) << "a parent directory matches";
  EXPECT_TRUE(m.excluded(".git/HEAD"));
  EXPECT_TRUE(m.excluded("notes.md"));
  EXPECT_FALSE(m.excluded("README.md"));
  EXPECT_TRUE(m.excluded("docs/drop.md"));
  EXPECT_FALSE(m.excluded("docs/keep.md"));
  EXPECT_FALSE(m.excluded("src/main.c"));
  EXPECT_FALSE(m.excluded("# comment"));
  EXPECT_TRUE(m.has_exceptions());
  EXPECT_EQ(m.patterns().size(), 6u) << "a lone ! is skipped";
}

TEST(DockerignoreCheck, MissingIncompleteAndComplete) {
  const auto none = img::check_dockerignore(std::nullopt, "/ctx");
  ASSERT_EQ(none.size(), 1u);
  EXPECT_EQ(none[0].check, "dockerignore-missing");

  const auto partial = img::check_dockerignore(read_fixture("image/contexts/partial/.dockerignore"), "/ctx");
  ASSERT_EQ(partial.size(), 1u);
  EXPECT_EQ(partial[0].check, "dockerignore-incomplete");
  EXPECT_EQ(partial[0].message, ".dockerignore does not exclude .venv, venv, env, .env*");
  EXPECT_EQ(partial[0].location, "/ctx/.dockerignore");

  EXPECT_TRUE(img::check_dockerignore(read_fixture("image/contexts/complete/.dockerignore"), "/ctx").empty());
  // Broader patterns count too.
  EXPECT_TRUE(img::check_dockerignore(std::string("**/.git\n**/node_modules\n**/.venv\n**/venv\n**/env\n**/.env*\n"), "/c")
                  .empty());
  EXPECT_EQ(img::missing_ignores(img::IgnoreMatcher::parse("*\n!src\n")), (std::vector<std::string>{}))
      << "everything is excluded but src";
}

// ------------------------------------------------------------------ the context walk

class BuildContext : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "cw-image-ctx-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& rel, const std::string& text) {
    fs::create_directories((dir_ / rel).parent_path());
    std::ofstream(dir_ / rel) << text;
  }
  void sparse(const std::string& rel, std::uintmax_t size) {
    write(rel, "");
    fs::resize_file(dir_ / rel, size);
  }
  fs::path dir_;
};

TEST_F(BuildContext, CountsWhatDockerignoreLeaves) {
  const std::string ctx = kFixtures + "/contexts/exceptions";
  const auto m = img::IgnoreMatcher::parse(read_fixture("image/contexts/exceptions/.dockerignore"));
  const auto size = img::measure_context(ctx, m);
  EXPECT_TRUE(size.complete);
  EXPECT_EQ(size.files, 3u) << ".dockerignore, Dockerfile, docs/keep.md";
  EXPECT_EQ(size.bytes, fs::file_size(ctx + "/.dockerignore") + fs::file_size(ctx + "/Dockerfile") + 5);
}

TEST_F(BuildContext, ExcludedDirectoriesAreNotCountedAndLargeContextsFire) {
  write("Dockerfile", "FROM alpine:3.19\nUSER 1\n");
  sparse("node_modules/big.bin", 300u << 20);
  sparse(".git/objects/pack.bin", 300u << 20);
  sparse("data/dump.sql", 150u << 20);
  const img::BuildOptions o;
  auto size = img::measure_context(dir_.string(), img::IgnoreMatcher::parse(".git\nnode_modules\n"));
  EXPECT_EQ(size.bytes, (150u << 20) + fs::file_size(dir_ / "Dockerfile"));
  auto f = img::check_context_size(size, dir_.string(), o);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].check, "build-context-large");
  EXPECT_NE(f[0].message.find("150 MiB"), std::string::npos) << f[0].message;

  size = img::measure_context(dir_.string(), img::IgnoreMatcher::parse(".git\nnode_modules\ndata\n"));
  EXPECT_EQ(size.bytes, fs::file_size(dir_ / "Dockerfile"));
  EXPECT_TRUE(img::check_context_size(size, dir_.string(), o).empty());
}

TEST_F(BuildContext, TheWalkStopsAtItsLimitsAndSaysSo) {
  for (int i = 0; i < 50; ++i) write("f" + std::to_string(i), "x");
  auto size = img::measure_context(dir_.string(), {}, {.max_entries = 10, .max_bytes = 1u << 30});
  EXPECT_FALSE(size.complete);
  EXPECT_LE(size.files, 10u);
  sparse("big", 200u << 20);
  size = img::measure_context(dir_.string(), {}, {.max_entries = 1000, .max_bytes = 100u << 20});
  EXPECT_FALSE(size.complete);
  const auto f = img::check_context_size(size, dir_.string(), {});
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(f[0].message.find("at least"), std::string::npos) << f[0].message;
  EXPECT_FALSE(img::measure_context((dir_ / "nope").string(), {}).error.empty());
}

TEST_F(BuildContext, ReadBuildInputAndCheckBuild) {
  write("Dockerfile", read_fixture("image/dockerfiles/deps_after_source.Dockerfile"));
  write("package.json", "{}");
  write("package-lock.json", "{}");
  const auto in = img::read_build_input({.context = dir_.string()});
  EXPECT_TRUE(in.error.empty()) << in.error;
  EXPECT_FALSE(in.dockerignore_text);
  const auto r = img::check_build(in);
  std::vector<std::string> ids;
  for (const auto& f : r.findings) ids.push_back(f.check);
  EXPECT_EQ(ids, (std::vector<std::string>{"dockerignore-missing", "dependencies-after-source"}));
  EXPECT_EQ(r.findings[1].location, (dir_ / "Dockerfile").string() + ":4");
  EXPECT_NE(r.findings[1].message.find("package.json, package-lock.json"), std::string::npos) << r.findings[1].message;
  EXPECT_GT(r.context_size.bytes, 0u);

  const auto missing = img::check_build(img::read_build_input({.context = dir_.string(), .dockerfile = "nope.Dockerfile"}));
  ASSERT_FALSE(missing.findings.empty());
  EXPECT_EQ(missing.findings[0].check, "build-unreadable");
  const auto no_context = img::check_build(img::read_build_input({.context = (dir_ / "gone").string()}));
  ASSERT_EQ(no_context.findings.size(), 1u);
  EXPECT_EQ(no_context.findings[0].check, "build-unreadable");
}

TEST(BuildCheck, FixtureContexts) {
  auto ids = [](const std::string& name) {
    std::vector<std::string> out;
    for (const auto& f : img::check_build(img::read_build_input({.context = kFixtures + "/contexts/" + name})).findings)
      out.push_back(f.check);
    return out;
  };
  EXPECT_EQ(ids("complete"), (std::vector<std::string>{}));
  EXPECT_EQ(ids("partial"), (std::vector<std::string>{"dockerignore-incomplete"}));
  EXPECT_EQ(ids("none"), (std::vector<std::string>{"dockerignore-missing"}));
}

// ------------------------------------------------------------------ the Dockerfile checks

using Found = std::vector<std::pair<std::string, std::string>>;  // check, location

Found dockerfile_findings(const std::string& name, std::string_view target = {},
                          const std::map<std::string, std::string>& args = {},
                          const std::vector<std::string>& root_files = {}) {
  const auto df = img::parse_dockerfile(read_fixture("image/dockerfiles/" + name), args);
  Found out;
  for (const auto& f : img::check_dockerfile(df, "Dockerfile", target, root_files)) out.emplace_back(f.check, f.location);
  return out;
}

TEST(DockerfileChecks, CleanFilesHaveNoFindings) {
  EXPECT_EQ(dockerfile_findings("clean.Dockerfile"), Found{});
  EXPECT_EQ(dockerfile_findings("escape.Dockerfile"), Found{});
  EXPECT_EQ(dockerfile_findings("deps_before_source.Dockerfile"), Found{});
}

TEST(DockerfileChecks, AptOverContinuations) {
  EXPECT_EQ(dockerfile_findings("continuations.Dockerfile"),
            (Found{{"apt-install-recommends", "Dockerfile:3"}, {"apt-lists-kept", "Dockerfile:3"}}));
}

TEST(DockerfileChecks, AptAndPipEachRun) {
  EXPECT_EQ(dockerfile_findings("apt_pip.Dockerfile"),
            (Found{{"apt-install-recommends", "Dockerfile:2"},
                   {"apt-lists-kept", "Dockerfile:2"},
                   {"apt-lists-kept", "Dockerfile:3"},
                   {"pip-cache-kept", "Dockerfile:4"}}));
}

TEST(DockerfileChecks, HeredocBodiesAreChecked) {
  EXPECT_EQ(dockerfile_findings("heredoc.Dockerfile"),
            (Found{{"pip-cache-kept", "Dockerfile:12"}, {"toolchain-in-final-stage", "Dockerfile:3"}}));
}

TEST(DockerfileChecks, UnpinnedBasesAfterArgSubstitution) {
  EXPECT_EQ(dockerfile_findings("arg_from.Dockerfile"),
            (Found{{"base-image-unpinned", "Dockerfile:4"}, {"base-image-unpinned", "Dockerfile:7"}}));
  EXPECT_EQ(dockerfile_findings("arg_from.Dockerfile", {}, {{"BASE", "python:3.12"}}),
            (Found{{"base-image-unpinned", "Dockerfile:7"}}));
}

TEST(DockerfileChecks, DependenciesAfterSource) {
  const auto df = img::parse_dockerfile(read_fixture("image/dockerfiles/deps_after_source.Dockerfile"));
  const auto f = img::check_dockerfile(df, "Dockerfile", {}, {"package.json", "yarn.lock", "server.js"});
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].check, "dependencies-after-source");
  EXPECT_EQ(f[0].location, "Dockerfile:4");
  EXPECT_NE(f[0].message.find("npm ci"), std::string::npos) << f[0].message;
  EXPECT_NE(f[0].message.find("package.json, yarn.lock"), std::string::npos) << f[0].message;
  EXPECT_NE(f[0].message.find("line 3"), std::string::npos) << f[0].message;
}

TEST(DockerfileChecks, ToolchainOnlyWhereItStaysInTheFinalImage) {
  EXPECT_EQ(dockerfile_findings("toolchain_final.Dockerfile"), (Found{{"toolchain-in-final-stage", "Dockerfile:4"}}));
  const auto df = img::parse_dockerfile(read_fixture("image/dockerfiles/toolchain_final.Dockerfile"));
  const auto f = img::check_dockerfile(df, "Dockerfile");
  EXPECT_NE(f[0].message.find("build-essential, libssl-dev"), std::string::npos) << f[0].message;
  // Built to the `build` stage, its gcc is in the final image.
  EXPECT_EQ(dockerfile_findings("toolchain_final.Dockerfile", "build"), (Found{{"toolchain-in-final-stage", "Dockerfile:2"},
                                                                              {"final-stage-runs-as-root", "Dockerfile:1"}}));
}

TEST(DockerfileChecks, SecretNamesNeverValues) {
  const auto df = img::parse_dockerfile(read_fixture("image/dockerfiles/secrets.Dockerfile"));
  const auto f = img::check_dockerfile(df, "Dockerfile");
  Found got;
  for (const auto& x : f) {
    got.emplace_back(x.check, x.location);
    EXPECT_EQ(x.message.find("hunter2"), std::string::npos);
    EXPECT_EQ(x.message.find("sk-live"), std::string::npos);
  }
  EXPECT_EQ(got, (Found{{"secret-build-variable", "Dockerfile:2"},
                        {"secret-build-variable", "Dockerfile:4"},
                        {"secret-build-variable", "Dockerfile:5"}}));
  EXPECT_EQ(f[0].message, "ARG GITHUB_TOKEN is a build variable");
  EXPECT_EQ(f[1].message, "ENV DB_PASSWORD is set in the image");
}

TEST(DockerfileChecks, RootUser) {
  EXPECT_EQ(dockerfile_findings("root.Dockerfile"), (Found{{"final-stage-runs-as-root", "Dockerfile:5"}}));
  const auto none = img::check_dockerfile(img::parse_dockerfile("FROM alpine:3.19 AS app\nRUN true\n"), "D");
  ASSERT_EQ(none.size(), 1u);
  EXPECT_EQ(none[0].message, "the final stage (app) sets no USER");
  // USER is inherited from the stage built FROM.
  EXPECT_TRUE(img::check_dockerfile(img::parse_dockerfile("FROM alpine:3.19 AS a\nUSER 1000\nFROM a\nRUN true\n"), "D")
                  .empty());
  EXPECT_EQ(img::check_dockerfile(img::parse_dockerfile("FROM alpine:3.19\nUSER 0:0\n"), "D").size(), 1u);
  EXPECT_TRUE(img::check_dockerfile(img::parse_dockerfile("FROM scratch\nUSER 65534\n"), "D").empty());
}

TEST(DockerfileChecks, NoFromIsUnreadable) {
  const auto f = img::check_dockerfile(img::parse_dockerfile("# nothing\n"), "D");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].check, "build-unreadable");
}

// ------------------------------------------------------------------ compose build: blocks

TEST(ComposeBuild, LoaderFillsTheBuildBlockAndCheckBuildsReadsHostContexts) {
  cc::LoadOptions o;
  o.files = {kFixtures + "/compose/docker-compose.yml"};
  const cc::Project p = cc::load_project(o);
  const auto& app = p.services.at("app");
  ASSERT_TRUE(app.build);
  EXPECT_TRUE(app.has_build);
  EXPECT_EQ(app.build->context, kFixtures + "/compose/app");
  EXPECT_FALSE(app.build->remote);
  const auto& web = p.services.at("web");
  ASSERT_TRUE(web.build);
  EXPECT_EQ(web.build->context, kFixtures + "/compose/web");
  EXPECT_EQ(web.build->dockerfile, "web.Dockerfile");
  EXPECT_EQ(web.build->target, "runtime");
  EXPECT_EQ(web.build->args, (std::map<std::string, std::string>{{"NODE_VERSION", "20"}}));
  const auto& inline_ = p.services.at("inline");
  ASSERT_TRUE(inline_.build);
  EXPECT_EQ(inline_.build->context, kFixtures + "/compose");
  EXPECT_NE(inline_.build->dockerfile_inline.find("USER 1000"), std::string::npos);
  const auto& remote = p.services.at("remote");
  ASSERT_TRUE(remote.build);
  EXPECT_TRUE(remote.build->remote);
  EXPECT_EQ(remote.build->context, "https://github.com/example/repo.git#main");
  EXPECT_FALSE(p.services.at("pulled").build);

  cc::ProjectState st;
  st.name = p.name;
  st.model = std::make_shared<cc::Project>(p);
  const auto reports = img::check_builds({st});
  std::vector<std::string> services;
  for (const auto& r : reports) {
    services.push_back(r.service);
    ASSERT_TRUE(r.build);
  }
  EXPECT_EQ(services, (std::vector<std::string>{"app", "inline", "web"}));
  EXPECT_EQ(reports[1].build->dockerfile, "dockerfile_inline");
  EXPECT_EQ(reports[2].build->dockerfile, kFixtures + "/compose/web/web.Dockerfile");
}

}  // namespace
