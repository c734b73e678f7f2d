// The Compose loader on small projects written to a temp dir: the model, merging,
// extends, include, profiles, project names, errors with FILE:LINE.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "composewatch/compose/loader.h"

namespace cc = composewatch::compose;
namespace fs = std::filesystem;

namespace {

class ComposeLoader : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "cw-loader-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    root_ = templ;
    dir_ = root_ / "My Shop";
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(root_); }

  std::string write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }

  cc::Project load(std::vector<std::string> files, cc::LoadOptions options = {}) {
    for (auto& f : files) f = (dir_ / f).string();
    options.files = files;
    return cc::load_project(options);
  }

  // The LoadError message, with the temp dir replaced by "DIR".
  std::string error(std::vector<std::string> files, cc::LoadOptions options = {}) {
    try {
      load(std::move(files), std::move(options));
    } catch (const cc::LoadError& e) {
      std::string m = e.what();
      const std::string d = dir_.string();
      for (auto pos = m.find(d); pos != std::string::npos; pos = m.find(d)) m.replace(pos, d.size(), "DIR");
      return m;
    }
    return "no error";
  }

  fs::path root_, dir_;
};

TEST_F(ComposeLoader, ContractExampleRoundTrips) {
  write("docker-compose.yml", R"(name: shop
services:
  api:
    image: shop/api:1.4
    restart: unless-stopped
    mem_limit: 512m
    healthcheck:
      test: ["CMD", "curl", "-f", "http://localhost:8000/health"]
      interval: 30s
      timeout: 10s
      retries: 3
      start_period: 20s
    depends_on:
      db:
        condition: service_healthy
    volumes:
      - pgdata:/var/lib/postgresql/data
  db:
    image: postgres:16
volumes:
  pgdata:
)");
  const cc::Project p = load({"docker-compose.yml"});
  EXPECT_EQ(p.name, "shop");
  const std::string json = cc::to_json(p);
  EXPECT_NE(json.find(R"("project": "shop")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("test": ["CMD", "curl", "-f", "http://localhost:8000/health"])"), std::string::npos);
  EXPECT_NE(json.find(R"("memory_limit_bytes": 536870912)"), std::string::npos);
  EXPECT_NE(json.find(R"("memory_reservation_bytes": null)"), std::string::npos);
  EXPECT_NE(json.find(R"("start_period_seconds": 20)"), std::string::npos);
  EXPECT_NE(json.find(R"("healthcheck": null)"), std::string::npos);  // db
  EXPECT_NE(json.find(R"("pgdata": {})"), std::string::npos);
  // Key order of the contract.
  const auto pos = [&](const char* k) { return json.find(k); };
  EXPECT_LT(pos("\"image\""), pos("\"replicas\""));
  EXPECT_LT(pos("\"replicas\""), pos("\"restart\""));
  EXPECT_LT(pos("\"memory_reservation_bytes\""), pos("\"healthcheck\""));
  EXPECT_LT(pos("\"depends_on\""), pos("\"volumes\""));
  EXPECT_LT(pos("\"project\""), pos("\"services\""));
}

TEST_F(ComposeLoader, ServiceFields) {
  write("docker-compose.yml", R"(version: "3.8"
x-common: &common
  restart: always
  labels: {team: web}
services:
  web:
    <<: *common
    image: nginx
    container_name: front
    scale: 2
    mem_reservation: 64M
    memswap_limit: -1
    network_mode: host
    labels: [a=1, b]
    environment:
      - LITERAL=1
      - FROM_VAR=${HOST_VAR}
      - PASSTHROUGH
    x-note: ignored
  worker:
    build: .
    deploy:
      replicas: 4
      resources:
        limits: {memory: 1g}
        reservations: {memory: 0}
      restart_policy: {condition: on-failure, max_attempts: 5}
    mem_limit: 1024m
    mem_reservation: 32m
    environment: {A: "x", B: $HOST_VAR, C: null, D: 3}
)");
  cc::LoadOptions o;
  o.environment = {{"HOST_VAR", "h"}};
  const cc::Project p = load({"docker-compose.yml"}, o);
  EXPECT_TRUE(p.has_version_key);
  EXPECT_EQ(p.version_location.line, 1);
  const cc::Service& web = p.services.at("web");
  EXPECT_EQ(web.image, "nginx");
  EXPECT_EQ(web.container_name, "front");
  EXPECT_EQ(web.replicas, 2);
  EXPECT_EQ(web.restart, "always");  // from the << merge key
  EXPECT_EQ(web.memory_limit_bytes, std::nullopt);
  EXPECT_EQ(web.memory_reservation_bytes, 64LL << 20);
  EXPECT_EQ(web.memswap_limit_bytes, -1);
  EXPECT_EQ(web.network_mode, "host");
  EXPECT_EQ(web.labels, (std::map<std::string, std::string>{{"a", "1"}, {"b", ""}}));
  EXPECT_TRUE(web.environment.at("LITERAL").literal);
  EXPECT_EQ(web.environment.at("FROM_VAR").value, "h");
  EXPECT_FALSE(web.environment.at("FROM_VAR").literal);
  EXPECT_FALSE(web.environment.at("PASSTHROUGH").has_value);
  EXPECT_EQ(web.location.line, 6);

  const cc::Service& worker = p.services.at("worker");
  EXPECT_TRUE(worker.has_build);
  EXPECT_EQ(worker.image, "");
  EXPECT_EQ(worker.replicas, 4);
  EXPECT_EQ(worker.memory_limit_bytes, 1LL << 30);        // the same as deploy's (v2 refuses different ones)
  EXPECT_EQ(worker.memory_reservation_bytes, 32LL << 20);  // a zero deploy value does not
  EXPECT_EQ(worker.restart, "");
  EXPECT_EQ(worker.deploy_restart_condition, "on-failure");
  EXPECT_EQ(worker.deploy_restart_max_attempts, 5);
  EXPECT_TRUE(worker.environment.at("A").literal);
  EXPECT_FALSE(worker.environment.at("B").literal);
  EXPECT_FALSE(worker.environment.at("C").has_value);
  EXPECT_EQ(worker.environment.at("D").value, "3");
  EXPECT_NE(cc::to_json(p).find(R"("restart": "on-failure:5")"), std::string::npos);
}

TEST_F(ComposeLoader, HealthcheckForms) {
  write("c.yml", R"(services:
  shell: {image: a, healthcheck: {test: "curl -f x || exit 1", interval: 1m30s, timeout: 500ms}}
  cmd: {image: a, healthcheck: {test: [CMD, pg_isready], retries: 5, start_period: 1h}}
  cmdshell: {image: a, healthcheck: {test: [CMD-SHELL, "true"]}}
  none: {image: a, healthcheck: {test: [NONE]}}
  disabled: {image: a, healthcheck: {disable: true}}
  unset: {image: a}
)");
  const cc::Project p = load({"c.yml"});
  const auto& shell = *p.services.at("shell").healthcheck;
  EXPECT_EQ(shell.test, (std::vector<std::string>{"CMD-SHELL", "curl -f x || exit 1"}));
  EXPECT_EQ(shell.interval_seconds, 90);
  EXPECT_EQ(shell.timeout_seconds, 0.5);
  EXPECT_EQ(shell.retries, std::nullopt);
  const auto& cmd = *p.services.at("cmd").healthcheck;
  EXPECT_EQ(cmd.test, (std::vector<std::string>{"CMD", "pg_isready"}));
  EXPECT_EQ(cmd.retries, 5);
  EXPECT_EQ(cmd.start_period_seconds, 3600);
  EXPECT_FALSE(cmd.disabled);
  EXPECT_TRUE(p.services.at("none").healthcheck->disabled);
  EXPECT_TRUE(p.services.at("disabled").healthcheck->disabled);
  EXPECT_EQ(p.services.at("disabled").healthcheck->test, std::vector<std::string>{"NONE"});
  EXPECT_FALSE(p.services.at("unset").healthcheck.has_value());
  // Defaults are printed for unset fields.
  const std::string json = cc::to_json(p);
  EXPECT_NE(json.find(R"("timeout_seconds": 0.5)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("interval_seconds": 30)"), std::string::npos);
}

TEST_F(ComposeLoader, Volumes) {
  write("sub/c.yml", R"(services:
  s:
    image: a
    volumes:
      - data:/data
      - ./html:/usr/share/html:ro
      - ../up:/up
      - /abs:/abs:rw
      - /anon
      - {type: bind, source: ./conf, target: /etc/conf, read_only: true}
      - {type: tmpfs, target: /tmp}
      - {type: volume, source: data, target: /data2}
volumes:
  data: {name: real-data}
  ext: {external: true}
)");
  const cc::Project p = load({"sub/c.yml"});
  const auto& v = p.services.at("s").volumes;
  ASSERT_EQ(v.size(), 8u);
  const std::string sub = (dir_ / "sub").string();
  EXPECT_EQ(v[0].type, "volume");
  EXPECT_EQ(v[0].source, "data");
  EXPECT_EQ(v[1].type, "bind");
  EXPECT_EQ(v[1].source, sub + "/html");
  EXPECT_TRUE(v[1].read_only);
  EXPECT_EQ(v[2].source, dir_.string() + "/up");
  EXPECT_EQ(v[3].source, "/abs");
  EXPECT_FALSE(v[3].read_only);
  EXPECT_EQ(v[4].type, "volume");
  EXPECT_EQ(v[4].source, "");
  EXPECT_EQ(v[4].target, "/anon");
  EXPECT_EQ(v[5].source, sub + "/conf");
  EXPECT_TRUE(v[5].read_only);
  EXPECT_EQ(v[6].type, "tmpfs");
  EXPECT_EQ(v[7].source, "data");
  EXPECT_EQ(p.volumes.at("data").name, "real-data");
  EXPECT_TRUE(p.volumes.at("ext").external);
  EXPECT_EQ(p.name, "sub");
}

TEST_F(ComposeLoader, UndeclaredNamedVolumeIsAnError) {
  write("c.yml", "services:\n  s:\n    image: a\n    volumes: [data:/data]\n");
  EXPECT_EQ(error({"c.yml"}), "DIR/c.yml:2: service 's' uses volume 'data', which is not declared under the top-level volumes");
}

TEST_F(ComposeLoader, MergesOverrideFiles) {
  write("a.yml", R"(services:
  web:
    image: web:1
    command: [serve, --port, "80"]
    environment: {A: "1", B: "1"}
    labels: [x=1]
    volumes: [/host/a:/data, /host/logs:/logs]
    ports: ["80:80"]
    healthcheck: {test: [CMD, a], interval: 10s, retries: 2}
    depends_on: [db]
    profiles: [web]
  db: {image: pg}
)");
  write("b.yml", R"(services:
  web:
    image: web:2
    command: serve
    environment: [B=2, C=3]
    labels: {y: "2"}
    volumes: [/host/b:/data, /host/cache:/cache]
    ports: ["80:80", "443:443"]
    healthcheck: {test: [CMD, b]}
    depends_on: {cache: {condition: service_healthy}}
    profiles: [extra]
  cache: {image: redis}
)");
  cc::LoadOptions o;
  o.profiles = {"web"};
  const cc::Project p = load({"a.yml", "b.yml"}, o);
  const cc::Service& web = p.services.at("web");
  EXPECT_EQ(web.image, "web:2");
  EXPECT_EQ(web.environment.at("A").value, "1");
  EXPECT_EQ(web.environment.at("B").value, "2");
  EXPECT_EQ(web.environment.at("C").value, "3");
  EXPECT_EQ(web.labels, (std::map<std::string, std::string>{{"x", "1"}, {"y", "2"}}));
  ASSERT_EQ(web.volumes.size(), 3u);
  EXPECT_EQ(web.volumes[0].source, "/host/b");  // same target: replaced in place
  EXPECT_EQ(web.volumes[1].target, "/logs");
  EXPECT_EQ(web.volumes[2].target, "/cache");
  EXPECT_EQ(web.healthcheck->test, (std::vector<std::string>{"CMD", "b"}));
  EXPECT_EQ(web.healthcheck->interval_seconds, 10);
  EXPECT_EQ(web.healthcheck->retries, 2);
  EXPECT_EQ(web.depends_on.at("db").condition, "service_started");
  EXPECT_EQ(web.depends_on.at("cache").condition, "service_healthy");
  EXPECT_EQ(web.profiles, (std::vector<std::string>{"web", "extra"}));
  EXPECT_EQ(p.files.size(), 2u);
}

TEST_F(ComposeLoader, ExtendsInTheSameAndAnotherFile) {
  write("common/base.yml", R"(services:
  base:
    image: base:1
    mem_limit: 256m
    volumes: [./data:/data]
    depends_on: [other]
  other: {image: o}
)");
  write("c.yml", R"(services:
  app:
    extends: {file: common/base.yml, service: base}
    restart: always
  worker:
    extends: app
    mem_limit: 1g
)");
  const cc::Project p = load({"c.yml"});
  const cc::Service& app = p.services.at("app");
  EXPECT_EQ(app.image, "base:1");
  EXPECT_EQ(app.memory_limit_bytes, 256LL << 20);
  EXPECT_EQ(app.restart, "always");
  EXPECT_TRUE(app.depends_on.empty());  // never inherited
  ASSERT_EQ(app.volumes.size(), 1u);
  EXPECT_EQ(app.volumes[0].source, (dir_ / "common/data").string());  // relative to base.yml
  const cc::Service& worker = p.services.at("worker");
  EXPECT_EQ(worker.image, "base:1");
  EXPECT_EQ(worker.restart, "always");
  EXPECT_EQ(worker.memory_limit_bytes, 1LL << 30);
  EXPECT_FALSE(p.services.contains("base"));
}

TEST_F(ComposeLoader, RecursiveExtendsIsAnError) {
  write("c.yml", "services:\n  a:\n    image: x\n    extends: b\n  b:\n    extends:\n      service: a\n");
  EXPECT_EQ(error({"c.yml"}), "DIR/c.yml:4: circular extends: DIR/c.yml:a -> DIR/c.yml:b -> DIR/c.yml:a");
  write("d.yml", "services:\n  a:\n    extends: a\n");
  EXPECT_EQ(error({"d.yml"}), "DIR/d.yml:3: circular extends: DIR/d.yml:a -> DIR/d.yml:a");
  write("e.yml", "services:\n  a:\n    extends: {service: a, file: f.yml}\n");
  write("f.yml", "services:\n  a:\n    extends: {service: a, file: e.yml}\n");
  EXPECT_NE(error({"e.yml"}).find("circular extends"), std::string::npos);
  write("g.yml", "services:\n  a:\n    extends: nope\n");
  EXPECT_EQ(error({"g.yml"}), "DIR/g.yml:3: extends: no service 'nope' in DIR/g.yml");
}

TEST_F(ComposeLoader, IncludeJoinsServicesAndDetectsCycles) {
  write("db/compose.yml", "services:\n  db:\n    image: postgres:${PG:-15}\n    volumes: [pg:/var/lib/pg]\nvolumes:\n  pg: {}\n");
  write("db/.env", "PG=16\n");
  write("c.yml", "include:\n  - db/compose.yml\nservices:\n  web:\n    image: w\n    depends_on: [db]\n");
  const cc::Project p = load({"c.yml"});
  EXPECT_EQ(p.services.at("db").image, "postgres:16");  // the included project's own .env
  EXPECT_TRUE(p.volumes.contains("pg"));
  EXPECT_TRUE(p.services.contains("web"));

  write("x.yml", "include: [y.yml]\nservices: {x: {image: a}}\n");
  write("y.yml", "include:\n  - path: x.yml\nservices: {y: {image: a}}\n");
  EXPECT_EQ(error({"x.yml"}), "DIR/y.yml:2: include cycle: x.yml -> y.yml -> x.yml");

  write("conflict.yml", "include: [db/compose.yml]\nservices:\n  db: {image: mine}\n");
  EXPECT_NE(error({"conflict.yml"}).find("include: service 'db'"), std::string::npos);
}

TEST_F(ComposeLoader, Profiles) {
  write("c.yml", R"(services:
  web: {image: w}
  debug: {image: d, profiles: [debug]}
  jobs: {image: j, profiles: [jobs, batch], depends_on: [web]}
)");
  cc::Project p = load({"c.yml"});
  EXPECT_EQ(p.services.size(), 1u);
  EXPECT_EQ(p.inactive_services.size(), 2u);
  cc::LoadOptions o;
  o.profiles = {"batch"};
  p = load({"c.yml"}, o);
  EXPECT_TRUE(p.services.contains("jobs"));
  EXPECT_FALSE(p.services.contains("debug"));
  o = {};
  o.environment = {{"COMPOSE_PROFILES", "debug,jobs"}};
  p = load({"c.yml"}, o);
  EXPECT_EQ(p.services.size(), 3u);
  o.environment = {{"COMPOSE_PROFILES", "*"}};
  EXPECT_EQ(load({"c.yml"}, o).services.size(), 3u);

  write("d.yml", "services:\n  web:\n    image: w\n    depends_on: [db]\n  db: {image: d, profiles: [db]}\n");
  EXPECT_EQ(error({"d.yml"}), "DIR/d.yml:4: service 'web' depends on 'db', which is disabled by its profiles (enable one with --profile)");
  write("e.yml", "services:\n  web:\n    image: w\n    depends_on: [nope]\n");
  EXPECT_EQ(error({"e.yml"}), "DIR/e.yml:4: service 'web' depends on undefined service 'nope'");
}

TEST_F(ComposeLoader, ProjectName) {
  write("c.yml", "services: {s: {image: a}}\n");
  write("named.yml", "name: From-File\nservices: {s: {image: a}}\n");
  EXPECT_EQ(load({"c.yml"}).name, "myshop");  // the directory "My Shop", normalised
  EXPECT_EQ(load({"named.yml"}).name, "from-file");
  cc::LoadOptions o;
  o.environment = {{"COMPOSE_PROJECT_NAME", "Env_Name"}};
  EXPECT_EQ(load({"named.yml"}, o).name, "env_name");
  o.project_name = "Flag";
  EXPECT_EQ(load({"named.yml"}, o).name, "flag");
  write(".env", "COMPOSE_PROJECT_NAME=dotenv\n");
  EXPECT_EQ(load({"named.yml"}).name, "dotenv");
}

TEST_F(ComposeLoader, InterpolationSourcesAndWarnings) {
  write("c.yml", "services:\n  s:\n    image: \"img:${TAG}\"\n    mem_limit: ${MEM:-64m}\n    container_name: $UNSET_ONE\n");
  write(".env", "TAG=from-dotenv\nMEM=128m\n");
  write("other.env", "TAG=from-env-file\n");
  cc::Project p = load({"c.yml"});
  EXPECT_EQ(p.services.at("s").image, "img:from-dotenv");
  EXPECT_EQ(p.services.at("s").memory_limit_bytes, 128LL << 20);
  ASSERT_EQ(p.warnings.size(), 1u);
  EXPECT_EQ(p.warnings[0], (dir_ / "c.yml").string() + ":5: variable UNSET_ONE is not set, using an empty string");

  cc::LoadOptions o;
  o.env_file = (dir_ / "other.env").string();
  p = load({"c.yml"}, o);
  EXPECT_EQ(p.services.at("s").image, "img:from-env-file");
  EXPECT_EQ(p.services.at("s").memory_limit_bytes, 64LL << 20);  // .env is not read then
  o.environment = {{"TAG", "from-process"}};
  EXPECT_EQ(load({"c.yml"}, o).services.at("s").image, "img:from-process");
  // Keys are not interpolated.
  write("k.yml", "services:\n  s:\n    image: a\n    labels: {\"$X\": v}\n");
  EXPECT_TRUE(load({"k.yml"}).services.at("s").labels.contains("$X"));
}

TEST_F(ComposeLoader, RequiredVariableErrorCarriesFileLineAndMessage) {
  write("c.yml", "services:\n  db:\n    image: pg\n    environment:\n      PASSWORD: ${DB_PASSWORD:?set DB_PASSWORD in .env}\n");
  EXPECT_EQ(error({"c.yml"}), "DIR/c.yml:5: required variable DB_PASSWORD is missing a value: set DB_PASSWORD in .env");
}

TEST_F(ComposeLoader, TypeAndValueErrors) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"services: 3\n", "DIR/c.yml:1: services must be a mapping, got a scalar"},
      {"services:\n  s:\n    image: a\n    mem_limit: [1]\n", "DIR/c.yml:4: mem_limit must be a string or a number, got a list"},
      {"services:\n  s:\n    image: a\n    mem_limit: 512x\n",
       "DIR/c.yml:4: mem_limit: unknown memory unit 'x' in '512x' (expected b, k, kb, m, mb, g or gb)"},
      {"services:\n  s:\n    image: a\n    deploy: {resources: {limits: {memory: 1q}}}\n",
       "DIR/c.yml:4: deploy.resources.limits.memory: unknown memory unit 'q' in '1q' (expected b, k, kb, m, mb, g or gb)"},
      {"services:\n  s:\n    image: a\n    healthcheck:\n      interval: 5 minutes\n",
       "DIR/c.yml:5: healthcheck.interval: invalid duration '5 minutes': unknown unit ' minutes' (expected us, ms, s, m or h)"},
      {"services:\n  s:\n    image: a\n    healthcheck: {test: [RUN, x]}\n",
       "DIR/c.yml:4: healthcheck.test must start with NONE, CMD or CMD-SHELL, got 'RUN'"},
      {"services:\n  s:\n    image: a\n    restart: sometimes\n",
       "DIR/c.yml:4: invalid restart policy 'sometimes' (expected \"no\", always, on-failure[:N] or unless-stopped)"},
      {"services:\n  s:\n    image: a\n    scale: many\n", "DIR/c.yml:4: scale must be an integer, got 'many'"},
      {"services:\n  s:\n    image: a\n    scale: 2\n    deploy: {replicas: 3}\n",
       "DIR/c.yml:4: scale (2) and deploy.replicas (3) disagree"},
      {"services:\n  s:\n    restart: always\n", "DIR/c.yml:2: service 's' has neither an image nor a build context"},
      {"services:\n  s: [a]\n", "DIR/c.yml:2: service 's' must be a mapping, got a list"},
      {"- a\n", "DIR/c.yml:1: the top level must be a mapping, got a list"},
      {"services:\n  s:\n    image: a\n  s:\n    image: b\n", "DIR/c.yml:4: duplicate key 's'"},
      {"services:\n  s:\n    image: [a\n", "DIR/c.yml:4: invalid YAML: end of sequence flow not found"},
      {"services:\n  s:\n    image: a\n    depends_on: {d: {condition: started}}\n  d: {image: b}\n",
       "DIR/c.yml:4: depends_on.d.condition must be service_started, service_healthy or service_completed_successfully, got 'started'"},
      {"services:\n  s:\n    image: a\n    volumes: [{type: nfs, target: /x}]\n",
       "DIR/c.yml:4: volumes.type must be volume, bind, tmpfs or npipe, got 'nfs'"},
      {"services:\n  s:\n    image: ${X\n", "DIR/c.yml:3: invalid interpolation: unterminated '${' in \"${X\""},
      {"services: {}\n", "DIR/c.yml: no services defined"},
  };
  for (const Case& c : cases) {
    write("c.yml", c.text);
    EXPECT_EQ(error({"c.yml"}), c.message) << c.text;
  }
  EXPECT_EQ(error({"missing.yml"}), "DIR/missing.yml: no such file");
  cc::LoadOptions o;
  o.env_file = (dir_ / "nope.env").string();
  write("c.yml", "services: {s: {image: a}}\n");
  EXPECT_EQ(error({"c.yml"}, o), "DIR/nope.env: env file not found");
}

// A compose file in a home the agent's user may not enter (Debian 12 makes homes 0700):
// the reason is the permission, naming whose, never "no such file", which sent people
// looking for a missing file. Run as an unprivileged user (root reads everything).
TEST_F(ComposeLoader, AFileBehindADirectoryItMayNotEnterIsAPermissionNotAMissingFile) {
  const std::string file = write("home/app/compose.yml", "services: {s: {image: a}}\n");
  fs::permissions(dir_ / "home", fs::perms::owner_all);  // 0700, owned by whoever runs this
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(out[0]);
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(2);
    std::string message = "no error";
    try {
      cc::LoadOptions o;
      o.files = {file};
      cc::load_project(o);
    } catch (const cc::LoadError& e) {
      message = e.what();
    }
    [[maybe_unused]] const auto n = ::write(out[1], message.data(), message.size());
    ::_exit(0);
  }
  ::close(out[1]);
  std::string message;
  char buf[512];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) message.append(buf, static_cast<std::size_t>(n));
  ::close(out[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_NE(message.find(file + ": cannot read: Permission denied (the agent runs as uid "), std::string::npos) << message;
  EXPECT_NE(message.find("docs/install.md"), std::string::npos) << message;
  EXPECT_EQ(message.find("no such file"), std::string::npos) << message;
}

}  // namespace
