// Compose fidelity: what the loader makes of variables the agent does not have (unknown
// fields, never drift), services' env_file, COMPOSE_FILE / COMPOSE_PROJECT_NAME /
// COMPOSE_PROFILES from the environment or .env, --project-directory,
// healthcheck.start_interval, the files a model depends on, and discovery from Compose
// v2's labels. Projects are written to a temp dir.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "composewatch/commands/check.h"
#include "composewatch/commands/compose.h"
#include "composewatch/compose/discovery.h"
#include "composewatch/compose/drift.h"
#include "composewatch/compose/lint.h"
#include "composewatch/compose/loader.h"
#include "composewatch/config/cli.h"
#include "composewatch/metrics/collector.h"

namespace cc = composewatch::compose;
namespace fs = std::filesystem;
using namespace composewatch;

namespace {

class ComposeLoaderFidelity : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "cw-fidelity-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  cc::Project load(cc::LoadOptions o = {}) {
    if (o.files.empty() && o.project_directory.empty()) o.files = {path("docker-compose.yml")};
    return cc::load_project(o);
  }
  cc::Project load_as_agent(std::map<std::string, std::string> env = {}) {
    cc::LoadOptions o;
    o.environment = std::move(env);
    o.interpolation = cc::Environment::agent;
    return load(o);
  }
  std::string error(cc::LoadOptions o = {}) {
    try {
      load(std::move(o));
    } catch (const cc::LoadError& e) {
      return e.what();
    }
    return "no error";
  }

  fs::path dir_;
};

composewatch::docker::LiveContainer live(const std::string& project, const std::string& service, const std::string& image) {
  composewatch::docker::LiveContainer c;
  c.name = project + "_" + service + "_1";
  c.state = "running";
  c.spec.compose.project = project;
  c.spec.compose.service = service;
  c.spec.image = image;
  c.spec.restart_policy = {"no", 0};
  return c;
}

// ---- interpolation: unset variables make fields unknown ---------------------------------

TEST(ComposeInterpolateUnknown, MissingRequiredIsAnErrorOnlyWhenAsked) {
  EXPECT_THROW(cc::interpolate("${X:?set X}", {}), std::invalid_argument);
  const auto r = cc::interpolate("a-${X:?set X}-${Y?}", {}, /*missing_required_fails=*/false);
  EXPECT_EQ(r.value, "a--");
  EXPECT_EQ(r.unset, (std::vector<std::string>{"X", "Y"}));
  // Set: the value, nothing unset. ${X:?} also refuses an empty value.
  EXPECT_EQ(cc::interpolate("${X:?e}", {{"X", "1"}}, false).value, "1");
  EXPECT_EQ(cc::interpolate("${X:?e}", {{"X", ""}}, false).unset, std::vector<std::string>{"X"});
  // A malformed reference stays an error whoever asks.
  EXPECT_THROW(cc::interpolate("${X", {}, false), std::invalid_argument);
}

TEST_F(ComposeLoaderFidelity, FieldsUsingUnsetVariablesAreUnknown) {
  write("docker-compose.yml", R"(services:
  web:
    image: app:${TAG}
    mem_limit: ${MEM:-64m}
    mem_reservation: ${RES}
    restart: ${RESTART:-always}
    deploy:
      replicas: ${REPLICAS}
    healthcheck:
      test: ["CMD", "check", "${PORT}"]
  db:
    image: postgres:${PG:-16}
)");
  const cc::Project p = load_as_agent();
  const cc::Service& web = p.services.at("web");
  EXPECT_EQ(web.unknown.at("image"), std::vector<std::string>{"TAG"});
  EXPECT_EQ(web.unknown.at("memory_reservation"), std::vector<std::string>{"RES"});
  EXPECT_EQ(web.unknown.at("replicas"), std::vector<std::string>{"REPLICAS"});
  EXPECT_EQ(web.unknown.at("healthcheck"), std::vector<std::string>{"PORT"});
  // What of the image the file itself gives: prune protects that repository's images.
  EXPECT_EQ(web.image_known_prefix, std::optional<std::string>("app:"));
  EXPECT_FALSE(p.services.at("db").image_known_prefix) << "a default is known";
  // A default is Compose's own value when the variable is unset: known.
  EXPECT_FALSE(web.unknown.contains("memory_limit"));
  EXPECT_FALSE(web.unknown.contains("restart_policy"));
  EXPECT_EQ(web.memory_limit_bytes, 64 << 20);
  EXPECT_TRUE(p.services.at("db").unknown.empty());
  // The loader's warnings still name them, as Compose does.
  EXPECT_TRUE(std::any_of(p.warnings.begin(), p.warnings.end(),
                          [](const std::string& w) { return w.find("variable TAG is not set") != std::string::npos; }));
  // Set in the environment: known, with its value.
  const cc::Project q = load_as_agent({{"TAG", "1.2"}, {"RES", "32m"}, {"REPLICAS", "2"}, {"PORT", "80"}});
  EXPECT_TRUE(q.services.at("web").unknown.empty());
  EXPECT_EQ(q.services.at("web").image, "app:1.2");
  EXPECT_EQ(q.services.at("web").replicas, 2);
}

// Where the first text from an unset variable begins: "app:" of app:${TAG} is known, and
// nothing of ${REGISTRY}/app:1. Nested defaults count where the outer reference begins.
TEST(ComposeInterpolateUnknown, FirstUnknownMarksWhereTheKnownTextEnds) {
  EXPECT_EQ(cc::interpolate("reg.example.com/app:${TAG}", {}, false).first_unknown, 20u);
  EXPECT_EQ(cc::interpolate("${REGISTRY}/app:1", {}, false).first_unknown, 0u);
  EXPECT_EQ(cc::interpolate("a$X-b", {}, false).first_unknown, 1u);
  EXPECT_EQ(cc::interpolate("${A:-x}/${B:-${C}}:1", {}, false).first_unknown, 2u) << "A has a default: x/ is known";
  EXPECT_FALSE(cc::interpolate("app:${TAG:-1}", {}, false).first_unknown);
  EXPECT_FALSE(cc::interpolate("app:${TAG}", {{"TAG", "2"}}, false).first_unknown);
}

TEST_F(ComposeLoaderFidelity, RequiredVariableFailsForTheUserAndIsUnknownForTheAgent) {
  write("docker-compose.yml", R"(services:
  web:
    image: app:${TAG:?TAG must be set}
)");
  EXPECT_EQ(error(), path("docker-compose.yml") + ":3: required variable TAG is missing a value: TAG must be set");
  const cc::Project p = load_as_agent();
  EXPECT_EQ(p.services.at("web").unknown.at("image"), std::vector<std::string>{"TAG"});
}

TEST_F(ComposeLoaderFidelity, AnUnknownValueThatDoesNotParseIsNoErrorForTheAgent) {
  write("docker-compose.yml", R"(services:
  web:
    image: ${IMAGE}
    mem_limit: ${MEM}m
    scale: ${N}
    restart: ${POLICY}
    healthcheck:
      test: ["CMD", "true"]
      interval: ${EVERY}s
)");
  // In the user's shell Compose refuses these values too.
  EXPECT_NE(error(), "no error");
  const cc::Project p = load_as_agent();
  const cc::Service& web = p.services.at("web");
  for (const char* f : {"image", "memory_limit", "replicas", "restart_policy", "healthcheck"})
    EXPECT_TRUE(web.unknown.contains(f)) << f;
}

TEST_F(ComposeLoaderFidelity, ABrokenFileIsStillAnErrorForTheAgent) {
  write("docker-compose.yml", R"(services:
  web:
    image: app:${TAG}
    mem_limit: 12 parsecs
)");
  cc::LoadOptions o;
  o.interpolation = cc::Environment::agent;
  EXPECT_NE(error(o).find("docker-compose.yml:4: mem_limit:"), std::string::npos) << error(o);
}

TEST_F(ComposeLoaderFidelity, ComposeJsonNamesUnknownFieldsAndEnvironmentKeysOnly) {
  write("docker-compose.yml", R"(services:
  web:
    image: app:${TAG}
    environment: {DB_PASSWORD: hunter2-secret}
)");
  const std::string json = cc::to_json(load());
  EXPECT_NE(json.find(R"("unknown_fields": {)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("image": ["TAG"])"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("environment_keys": ["DB_PASSWORD"])"), std::string::npos) << json;
  EXPECT_EQ(json.find("hunter2"), std::string::npos) << json;
}

// ---- drift with unknown fields ---------------------------------------------------------

TEST(ComposeUnknownDrift, UnknownFieldsAreNeitherDriftNorMatch) {
  cc::Project p;
  p.name = "shop";
  cc::Service web;
  web.name = "web";
  web.image = "app:";  // app:${TAG} without TAG
  web.memory_limit_bytes = 64 << 20;
  web.unknown["image"] = {"TAG"};
  web.unknown["replicas"] = {"N"};
  p.services["web"] = web;
  const auto c = live("shop", "web", "app:1.2");  // runs without a memory limit: real drift

  const auto fields = cc::container_drift("shop", web, c);
  ASSERT_EQ(fields.size(), 1u);
  EXPECT_EQ(fields[0].field, cc::DriftField::memory_limit);

  const auto d = cc::compare_project(p, {c});
  ASSERT_EQ(d.services.size(), 1u);
  const auto& s = d.services[0];
  for (const auto& [f, differs] : s.fields) {
    EXPECT_NE(f, cc::DriftField::image);
    EXPECT_NE(f, cc::DriftField::replicas);
  }
  EXPECT_TRUE(std::any_of(s.fields.begin(), s.fields.end(), [](const auto& f) {
    return f.first == cc::DriftField::memory_limit && f.second;
  }));
  ASSERT_EQ(s.unknown.size(), 2u);
  EXPECT_EQ(s.unknown[0].field, cc::DriftField::image);
  EXPECT_EQ(s.unknown[0].variables, std::vector<std::string>{"TAG"});
  EXPECT_EQ(s.unknown[1].field, cc::DriftField::replicas);
  for (const auto& x : s.details) EXPECT_NE(x.field, cc::DriftField::image) << x.detail;

  // Known again, the same container drifts in its image.
  p.services["web"].unknown.clear();
  const auto again = cc::compare_project(p, {c});
  EXPECT_TRUE(std::any_of(again.services[0].fields.begin(), again.services[0].fields.end(), [](const auto& f) {
    return f.first == cc::DriftField::image && f.second;
  }));
}

TEST(ComposeUnknownDrift, CollectorExportsNoSeriesForUnknownFields) {
  auto project = std::make_shared<cc::Project>();
  project->name = "shop";
  cc::Service web;
  web.name = "web";
  web.image = "app:";
  web.memory_limit_bytes = 64 << 20;
  web.unknown["image"] = {"TAG"};
  web.unknown["replicas"] = {"N"};
  web.unknown["memory_limit"] = {"MEM"};
  project->services["web"] = web;
  cc::ProjectState ps;
  ps.name = "shop";
  ps.source.name = "shop";
  ps.model = project;
  ps.valid = true;
  auto cs = std::make_shared<cc::ComposeState>();
  cs->projects = {ps};
  state::Snapshot snap;
  state::ContainerRecord r;
  r.name = "shop_web_1";
  r.spec.compose.project = "shop";
  r.spec.compose.service = "web";
  r.state = "running";
  r.spec.image = "app:1.2";
  r.spec.restart_policy = {"no", 0};
  snap.containers = {r};
  snap.compose = cs;

  metrics::Exposition e(metrics::default_collectors());
  const std::string text = e.render(snap);
  EXPECT_NE(text.find(R"(composewatch_compose_project_valid{project="shop"} 1)"), std::string::npos) << text;
  EXPECT_EQ(text.find(R"(field="image")"), std::string::npos) << text;
  EXPECT_EQ(text.find(R"(field="replicas")"), std::string::npos) << text;
  EXPECT_EQ(text.find(R"(field="memory_limit")"), std::string::npos) << text;
  EXPECT_EQ(text.find("composewatch_service_replicas_desired{"), std::string::npos) << text;
  EXPECT_EQ(text.find("composewatch_service_memory_limit_bytes{"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(composewatch_service_drift{project="shop",service="web",field="restart_policy"} 0)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(composewatch_service_replicas_running{project="shop",service="web"} 1)"), std::string::npos)
      << text;
}

// ---- services' env_file ----------------------------------------------------------------

TEST_F(ComposeLoaderFidelity, EnvFileSetsTheEnvironmentUnderEnvironment) {
  write("a.env", "PASSWORD=from-a\nAPI_KEY=from-a\nONLY_A=1\n");
  write("conf/b.env", "# comment\nexport API_KEY=\"from-b\"\n");
  write("docker-compose.yml", R"(services:
  web:
    image: app
    env_file: [a.env, ./conf/b.env]
    environment:
      PASSWORD: from-compose-${SUFFIX:-x}
  one:
    image: app
    env_file: a.env
)");
  const cc::Project p = load();
  const cc::Service& web = p.services.at("web");
  // environment: wins over env_file; a later env file over an earlier one.
  EXPECT_EQ(web.environment.at("PASSWORD").value, "from-compose-x");
  EXPECT_FALSE(web.environment.at("PASSWORD").literal);
  EXPECT_EQ(web.environment.at("PASSWORD").env_file, "");
  EXPECT_EQ(web.environment.at("API_KEY").value, "from-b");
  EXPECT_TRUE(web.environment.at("API_KEY").literal);
  EXPECT_EQ(web.environment.at("API_KEY").env_file, path("conf/b.env"));
  EXPECT_EQ(web.environment.at("ONLY_A").env_file, path("a.env"));
  EXPECT_EQ(web.env_files, (std::vector<std::string>{path("a.env"), path("conf/b.env")}));
  EXPECT_EQ(p.services.at("one").environment.at("ONLY_A").value, "1");
  // Both files are what the model depends on besides the compose file.
  EXPECT_EQ(p.dependencies, (std::vector<std::string>{path("a.env"), path("conf/b.env")}));
}

TEST_F(ComposeLoaderFidelity, EnvFileLongSyntaxAndMissingFiles) {
  write("docker-compose.yml", R"(services:
  web:
    image: app
    env_file:
      - path: ./optional.env
        required: false
      - path: present.env
)");
  write("present.env", "X=1\n");
  const cc::Project p = load();
  EXPECT_EQ(p.services.at("web").environment.at("X").value, "1");
  EXPECT_EQ(p.services.at("web").env_files, std::vector<std::string>{path("present.env")});

  write("docker-compose.yml", R"(services:
  web:
    image: app
    env_file: [present.env, gone.env]
)");
  EXPECT_EQ(error(), path("docker-compose.yml") + ":4: env file " + path("gone.env") + " not found");
}

TEST_F(ComposeLoaderFidelity, EnvFilePathFromAnUnsetVariableIsAWarningForTheAgent) {
  write("docker-compose.yml", "services:\n  web:\n    image: app\n    env_file: ${ENV_DIR}/app.env\n");
  EXPECT_NE(error().find(":4: env file /app.env not found"), std::string::npos) << error();
  const cc::Project p = load_as_agent();
  EXPECT_TRUE(p.services.at("web").environment.empty());
  EXPECT_TRUE(std::any_of(p.warnings.begin(), p.warnings.end(), [](const std::string& w) {
    return w.find(":4: env file of service web depends on ENV_DIR, which is not set") != std::string::npos;
  }));
}

TEST_F(ComposeLoaderFidelity, LiteralSecretLintSeesSecretsInEnvFiles) {
  write("secrets.env", "DB_PASSWORD=hunter2\n");
  write("docker-compose.yml", R"(services:
  web:
    image: app
    restart: always
    env_file: secrets.env
    environment:
      API_TOKEN: ${API_TOKEN}
)");
  const auto findings = cc::lint_project(load());
  std::vector<std::string> secret_messages;
  for (const auto& f : findings)
    if (f.check == "literal-secret") secret_messages.push_back(f.message);
  ASSERT_EQ(secret_messages.size(), 1u);
  EXPECT_NE(secret_messages[0].find("DB_PASSWORD"), std::string::npos);
  EXPECT_EQ(secret_messages[0].find("hunter2"), std::string::npos);
}

TEST_F(ComposeLoaderFidelity, EnvFileOfAnExtendedServiceIsTakenFromItsFile) {
  write("base/common.yml", R"(services:
  base:
    image: app
    env_file: common.env
)");
  write("base/common.env", "FROM_BASE=1\n");
  write("docker-compose.yml", R"(services:
  web:
    extends: {file: base/common.yml, service: base}
)");
  const cc::Project p = load();
  EXPECT_EQ(p.services.at("web").environment.at("FROM_BASE").env_file, path("base/common.env"));
  EXPECT_EQ(p.dependencies, (std::vector<std::string>{path("base/common.env"), path("base/common.yml")}));
}

// ---- COMPOSE_* variables and --project-directory --------------------------------------

TEST_F(ComposeLoaderFidelity, ComposeFileFromTheEnvironmentWithItsSeparator) {
  write("one.yml", "services:\n  a: {image: a}\n");
  write("two.yml", "services:\n  b: {image: b}\n");
  cc::LoadOptions o;
  o.project_directory = dir_.string();
  o.environment = {{"COMPOSE_FILE", "one.yml;two.yml"}, {"COMPOSE_PATH_SEPARATOR", ";"}};
  const cc::Project p = load(o);
  EXPECT_EQ(p.files, (std::vector<std::string>{path("one.yml"), path("two.yml")}));
  EXPECT_EQ(p.services.size(), 2u);
  o.environment = {{"COMPOSE_FILE", "one.yml:two.yml"}};  // ':' by default
  EXPECT_EQ(load(o).services.size(), 2u);
}

TEST_F(ComposeLoaderFidelity, ComposeVariablesFromDotEnvAndTheEnvironmentWins) {
  write("one.yml", "services:\n  a: {image: a}\n  j: {image: j, profiles: [jobs]}\n");
  write("two.yml", "services:\n  b: {image: b}\n");
  write(".env", "COMPOSE_FILE=one.yml\nCOMPOSE_PROJECT_NAME=FromDotEnv\nCOMPOSE_PROFILES=jobs\n");
  cc::LoadOptions o;
  o.project_directory = dir_.string();
  cc::Project p = load(o);
  EXPECT_EQ(p.files, std::vector<std::string>{path("one.yml")});
  EXPECT_EQ(p.name, "fromdotenv");
  EXPECT_TRUE(p.services.contains("j"));

  o.environment = {{"COMPOSE_FILE", "two.yml"}, {"COMPOSE_PROJECT_NAME", "fromshell"}};
  p = load(o);
  EXPECT_EQ(p.files, std::vector<std::string>{path("two.yml")});
  EXPECT_EQ(p.name, "fromshell");
  // -p and -f win over both.
  o.project_name = "given";
  o.files = {path("one.yml")};
  p = load(o);
  EXPECT_EQ(p.name, "given");
  EXPECT_EQ(p.files, std::vector<std::string>{path("one.yml")});
}

TEST_F(ComposeLoaderFidelity, ProjectDirectoryAnchorsPathsDotEnvAndTheName) {
  write("files/docker-compose.yml", R"(services:
  web:
    image: app:${TAG}
    volumes: [./data:/data]
    env_file: web.env
)");
  write("Project Dir/.env", "TAG=7\n");
  write("Project Dir/web.env", "X=1\n");
  cc::LoadOptions o;
  o.files = {path("files/docker-compose.yml")};
  o.project_directory = path("Project Dir");
  const cc::Project p = load(o);
  EXPECT_EQ(p.working_dir, path("Project Dir"));
  EXPECT_EQ(p.name, "projectdir");
  EXPECT_EQ(p.services.at("web").image, "app:7");
  EXPECT_EQ(p.services.at("web").volumes.at(0).source, path("Project Dir/data"));
  EXPECT_EQ(p.services.at("web").environment.at("X").env_file, path("Project Dir/web.env"));
  // Without -f: the default file of the project directory.
  write("Project Dir/compose.yaml", "services:\n  only: {image: o}\n");
  o.files.clear();
  EXPECT_EQ(load(o).files, std::vector<std::string>{path("Project Dir/compose.yaml")});
}

// ---- healthcheck.start_interval --------------------------------------------------------

TEST_F(ComposeLoaderFidelity, StartIntervalIsReadAndPrinted) {
  write("docker-compose.yml", R"(services:
  web:
    image: app
    healthcheck: {test: ["CMD", "true"], start_period: 30s, start_interval: 1500ms}
  plain:
    image: app
    healthcheck: {test: ["CMD", "true"]}
)");
  const cc::Project p = load();
  EXPECT_EQ(p.services.at("web").healthcheck->start_interval_seconds, 1.5);
  EXPECT_FALSE(p.services.at("plain").healthcheck->start_interval_seconds);
  const std::string json = cc::to_json(p);
  EXPECT_NE(json.find(R"("start_interval_seconds": 1.5)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("start_interval_seconds": 5)"), std::string::npos) << json;  // the engine's default
  write("docker-compose.yml", "services:\n  web:\n    image: app\n    healthcheck: {start_interval: soon}\n");
  EXPECT_NE(error().find(":4: healthcheck.start_interval:"), std::string::npos) << error();
}

TEST(ComposeStartInterval, ReadFromInspectWhereTheEngineHasIt) {
  const auto hc = [](const std::string& extra) {
    return docker::parse_inspect(R"({"Id":"abc","Name":"/x","State":{"Status":"running"},"HostConfig":{},
        "Config":{"Image":"img","Healthcheck":{"Test":["CMD","true"],"Interval":1000000000)" + extra + "}}}")
        .spec.healthcheck;
  };
  ASSERT_TRUE(hc(""));
  EXPECT_FALSE(hc("")->start_interval_ns);  // Engine 20.10 (API 1.41)
  ASSERT_TRUE(hc(R"(,"StartInterval":2000000000)"));
  EXPECT_EQ(hc(R"(,"StartInterval":2000000000)")->start_interval_ns, 2'000'000'000);
}

TEST(ComposeStartInterval, ComparedOnlyWhereTheEngineReportsIt) {
  cc::Healthcheck declared;
  declared.test = {"CMD", "true"};
  declared.start_interval_seconds = 2;
  docker::HealthcheckConfig old_engine;
  old_engine.test = {"CMD", "true"};
  EXPECT_FALSE(cc::healthcheck_drift(declared, old_engine));  // Engine 20.10 has no StartInterval
  docker::HealthcheckConfig same = old_engine;
  same.start_interval_ns = 2'000'000'000;
  EXPECT_FALSE(cc::healthcheck_drift(declared, same));
  docker::HealthcheckConfig other = old_engine;
  other.start_interval_ns = 0;  // the default, 5 s
  const auto d = cc::healthcheck_drift(declared, other);
  ASSERT_TRUE(d);
  EXPECT_NE(d->find("start_interval 2s vs 5s"), std::string::npos) << *d;
  declared.start_interval_seconds.reset();
  EXPECT_FALSE(cc::healthcheck_drift(declared, other));
}

// ---- files a model depends on ----------------------------------------------------------

TEST_F(ComposeLoaderFidelity, DependenciesNameIncludedAndExtendedFiles) {
  write("inc/other.yml", "services:\n  other: {image: o}\n");
  write("inc/.env", "X=1\n");
  write("common.yml", "services:\n  base: {image: b}\n");
  write("docker-compose.yml", R"(include: [inc/other.yml]
services:
  web:
    extends: {file: common.yml, service: base}
)");
  const cc::Project p = load();
  EXPECT_EQ(p.dependencies,
            (std::vector<std::string>{path("common.yml"), path("inc/.env"), path("inc/other.yml")}));
}

// Env files are often root's (mode 0600) and the agent runs as another user: for the
// agent, a .env or service env_file it may not read is a warning, not an invalid project.
// Runs the load in a child process that drops to nobody (the tests run as root, whom
// permissions do not stop).
TEST_F(ComposeLoaderFidelity, EnvFilesTheAgentMayNotReadAreWarnings) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to drop to another user";
  write("docker-compose.yml", "services:\n  web: {image: 'app:${TAG}', env_file: secret.env}\n");
  write(".env", "TAG=1\n");
  write("secret.env", "DB_PASSWORD=x\n");
  fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                            fs::perms::others_read | fs::perms::others_exec);
  fs::permissions(path("docker-compose.yml"), fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                                                  fs::perms::others_read);
  fs::permissions(path(".env"), fs::perms::owner_read | fs::perms::owner_write);
  fs::permissions(path("secret.env"), fs::perms::owner_read | fs::perms::owner_write);

  // The child's verdict: 0 as expected, else the number of the failed expectation.
  auto in_child_as_nobody = [&](cc::Environment mode) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(10);
      cc::LoadOptions o;
      o.files = {path("docker-compose.yml")};
      o.interpolation = mode;
      try {
        const cc::Project p = cc::load_project(o);
        if (mode == cc::Environment::user) ::_exit(11);
        const cc::Service& web = p.services.at("web");
        if (web.unknown.count("image") != 1) ::_exit(12);
        if (web.environment.count("DB_PASSWORD") != 0) ::_exit(13);
        const auto warned = [&](const std::string& what) {
          return std::any_of(p.warnings.begin(), p.warnings.end(),
                             [&](const std::string& w) { return w.find(what) != std::string::npos; });
        };
        if (!warned(".env: cannot be read by the agent")) ::_exit(14);
        if (!warned("secret.env cannot be read by the agent; what it sets in service web is not known")) ::_exit(15);
        ::_exit(0);
      } catch (const cc::LoadError& e) {
        ::_exit(mode == cc::Environment::user ? 0 : 16);
      } catch (...) {
        ::_exit(17);
      }
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  EXPECT_EQ(in_child_as_nobody(cc::Environment::agent), 0);
  EXPECT_EQ(in_child_as_nobody(cc::Environment::user), 0);  // `compose` in a shell: Compose's error
}

// ---- discovery from Compose v2's labels -----------------------------------------------

TEST_F(ComposeLoaderFidelity, DiscoveryReadsComposeV2ProjectLabels) {
  composewatch::docker::LiveContainer c = live("shop", "web", "app:1");
  c.spec.compose.working_dir = "/srv/shop";
  c.spec.compose.config_files = "/srv/shop/compose.yaml,/srv/shop/compose.prod.yaml";
  c.spec.labels["com.docker.compose.project.environment_file"] = "/srv/shop/.env,/srv/shop/prod.env";
  const auto sources = cc::discovered_sources({c});
  ASSERT_EQ(sources.size(), 1u);
  EXPECT_EQ(sources[0].files, (std::vector<std::string>{"/srv/shop/compose.yaml", "/srv/shop/compose.prod.yaml"}));
  EXPECT_EQ(sources[0].label_env_files, (std::vector<std::string>{"/srv/shop/.env", "/srv/shop/prod.env"}));
  EXPECT_EQ(sources[0].project_directory, "/srv/shop");
  EXPECT_FALSE(sources[0].user_environment);
}

TEST_F(ComposeLoaderFidelity, LoadSourceUsesTheRecordedEnvFilesAndTheAgentsRules) {
  write("compose.yaml", "services:\n  web: {image: 'app:${TAG:?need TAG}', mem_limit: '${MEM:-8m}'}\n");
  write(".env", "MEM=16m\n");  // not what Compose read: the label names prod.env
  write("prod.env", "TAG=1.2\n");
  cc::ProjectSource src;
  src.name = "shop";
  src.files = {path("compose.yaml")};
  src.project_directory = dir_.string();
  src.label_env_files = {path("prod.env")};
  cc::ProjectState st = cc::load_source(src, nullptr, {});
  ASSERT_TRUE(st.valid) << st.error;
  EXPECT_EQ(st.model->services.at("web").image, "app:1.2");
  EXPECT_EQ(st.model->services.at("web").memory_limit_bytes, 8 << 20);
  EXPECT_TRUE(std::find(st.model->dependencies.begin(), st.model->dependencies.end(), path("prod.env")) !=
              st.model->dependencies.end());

  // An env file the agent cannot read: a warning, and what it would set is unknown.
  src.label_env_files = {path("missing.env")};
  st = cc::load_source(src, nullptr, {});
  ASSERT_TRUE(st.valid) << st.error;
  EXPECT_EQ(st.model->services.at("web").unknown.at("image"), std::vector<std::string>{"TAG"});
  EXPECT_NE(st.model->warnings.at(0).find("missing.env: env file recorded on the project's containers cannot be read"),
            std::string::npos);

  // The user's shell (`check -f`): Compose's error.
  src.label_env_files.clear();
  src.user_environment = true;
  st = cc::load_source(src, nullptr, {});
  EXPECT_FALSE(st.valid);
  EXPECT_NE(st.error.find("required variable TAG is missing a value: need TAG"), std::string::npos) << st.error;
}

TEST_F(ComposeLoaderFidelity, ConfiguredEnvFileIsUsedForInterpolation) {
  write("compose.yaml", "services:\n  web: {image: 'app:${TAG}'}\n");
  write("agent.env", "TAG=3\n");
  config::ComposeProjectConfig cfg;
  cfg.name = "shop";
  cfg.files = {path("compose.yaml")};
  cfg.env_file = path("agent.env");
  const auto sources = cc::configured_sources({cfg});
  const cc::ProjectState st = cc::load_source(sources.at(0), nullptr, {});
  ASSERT_TRUE(st.valid) << st.error;
  EXPECT_EQ(st.model->services.at("web").image, "app:3");
  EXPECT_TRUE(st.model->services.at("web").unknown.empty());
}

// ---- --project-directory on the command lines ------------------------------------------

TEST_F(ComposeLoaderFidelity, ComposeCommandTakesProjectDirectory) {
  write("proj/.env", "TAG=9\n");
  write("proj/compose.yaml", "services:\n  web: {image: 'app:${TAG}', volumes: ['./d:/d']}\n");
  std::ostringstream out, err;
  EXPECT_EQ(commands::run_compose({"--project-directory", path("proj")}, {}, out, err), 0) << err.str();
  EXPECT_NE(out.str().find(R"("project": "proj")"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find(R"("image": "app:9")"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find(path("proj/d")), std::string::npos) << out.str();
  std::ostringstream out2, err2;
  EXPECT_EQ(commands::run_compose({"--project-directory=a", "--project-directory=b"}, {}, out2, err2), 2);
  EXPECT_NE(err2.str().find("flag '--project-directory' given more than once"), std::string::npos) << err2.str();
}

TEST(ComposeFidelityCli, CheckTakesProjectDirectory) {
  const auto o = commands::check_options(
      config::parse_command_line({"check", "--project-directory", "/srv/shop", "-f", "compose.yaml"}));
  EXPECT_EQ(o.project_directory, "/srv/shop");
  EXPECT_EQ(o.files, std::vector<std::string>{"compose.yaml"});
  EXPECT_THROW(config::parse_command_line({"check", "--project-directory"}), config::UsageError);
  EXPECT_NE(config::help_text("check").find("--project-directory=DIR"), std::string::npos);
}

}  // namespace

namespace {

// The checklist does not judge a field the agent could not resolve: `mem_limit: ${MEM}`
// with MEM missing is not "no memory limit", `restart: ${RESTART}` is not "no restart
// policy", `image: app:${TAG}` is not a floating tag. With the variables given, the same
// file is judged on its values.
TEST_F(ComposeLoaderFidelity, LintDoesNotJudgeFieldsTheAgentCannotResolve) {
  write("docker-compose.prod.yml", R"(services:
  web:
    image: app:${TAG}
    mem_limit: ${MEM}
    restart: ${RESTART}
  db:
    image: postgres:16
    healthcheck:
      test: ["CMD", "pg_isready", "-p", "${PGPORT}"]
)");
  auto checks = [](const cc::Project& p) {
    std::set<std::string> out;
    for (const auto& f : cc::lint_project(p)) out.insert(f.check + ":" + f.service);
    return out;
  };
  cc::LoadOptions o;
  o.files = {path("docker-compose.prod.yml")};
  o.interpolation = cc::Environment::agent;
  const auto unknown = checks(load(o));
  EXPECT_FALSE(unknown.contains("no-memory-limit:web"));
  EXPECT_FALSE(unknown.contains("no-restart-policy:web"));
  EXPECT_FALSE(unknown.contains("restart-policy:web"));
  EXPECT_FALSE(unknown.contains("floating-tag:web"));
  EXPECT_FALSE(unknown.contains("stateful-without-healthcheck:db"));
  EXPECT_TRUE(unknown.contains("no-memory-limit:db"));  // a field that is simply absent still counts

  o.environment = {{"TAG", "latest"}, {"MEM", "64m"}, {"RESTART", "on-failure"}, {"PGPORT", "5432"}};
  const auto given = checks(load(o));
  EXPECT_FALSE(given.contains("no-memory-limit:web"));
  EXPECT_TRUE(given.contains("restart-policy:web"));
  EXPECT_TRUE(given.contains("floating-tag:web"));
  EXPECT_FALSE(given.contains("stateful-without-healthcheck:db"));
}

}  // namespace
