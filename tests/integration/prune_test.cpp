// Prune on a real engine: for every target the dry run deletes nothing, the applied run
// removes exactly the expected objects and nothing else, the bytes it says it freed agree
// with the /system/df difference within 5 %, and every protected object is still there; a
// scheduled policy runs on its own in a running agent; broken policies never run.
//
// These tests delete, so they run against a private engine of their own
// (scripts/private-engine.sh: its own dockerd, data root and socket), never the machine's:
// nothing a developer keeps on their engine is at stake. It holds only what each test
// makes, and an anchor container (labelled composewatch.keep=true) that keeps the test
// image in use. On a nested engine (harness.h, TestEngine; labels engine-26/engine-28) the
// tests run on it instead: it is already an engine of the tests' own that nobody keeps
// anything on, and these suites run serially on it.

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <csignal>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "composewatch/engine/client.h"
#include "composewatch/docker/objects.h"
#include "harness.h"

namespace itest {
namespace {

namespace asio = boost::asio;
namespace engine = composewatch::engine;
namespace docker = composewatch::docker;
namespace fs = std::filesystem;

class Prune : public ::testing::Test {
 protected:
  // The private engine, started once for the suite. What goes wrong here fails every test
  // in SetUp (an assertion or exception in the suite's own set-up shows in ctest as skipped).
  static void SetUpTestSuite() {
    try {
      if (test_engine().nested()) {
        host_ = test_engine().docker_host;
        socket_ = test_engine().socket();
        sh(docker("rm -f cwpe-anchor"));
      } else {
        dir_ = "/tmp/cwpe-" + std::to_string(::getpid());
        host_ = must(quote((source_dir() / "scripts/private-engine.sh").string()) + " start " + dir_, 150s);
        socket_ = dir_ + "/docker.sock";
      }
      must(docker("create --name cwpe-anchor --label composewatch.keep=true --network none " + std::string(kImage)));
    } catch (const std::exception& e) {
      suite_error_ = e.what();
    }
  }
  static void TearDownTestSuite() {
    if (test_engine().nested())
      sh(docker("rm -f cwpe-anchor"));
    else
      sh(quote((source_dir() / "scripts/private-engine.sh").string()) + " stop " + dir_, 120s);
  }

  void SetUp() override {
    ASSERT_TRUE(suite_error_.empty()) << "the private engine did not start: " << suite_error_;
    reset();
    work_ = make_temp_dir(cleanup_, "prune");
    state_ = work_ / "state";
  }
  void TearDown() override {
    if (suite_error_.empty()) reset();
  }

  static std::string docker(const std::string& args) { return "docker -H " + host_ + " " + args; }
  static std::string d(const std::string& args, std::chrono::milliseconds t = 120s) { return must(docker(args), t); }
  static std::string api(const std::string& method, const std::string& target) {
    return must("curl -sf -X " + method + " --unix-socket " + socket_ + " http://localhost/v1.41" + target);
  }

  // Everything but the anchor and the test image goes.
  static void reset() {
    sh(docker("ps -aq --no-trunc") + " | grep -v \"$(" + docker("inspect -f {{.Id}} cwpe-anchor") + ")\" | xargs -r " +
       docker("rm -f -v"));
    sh(docker("volume ls -q") + " | xargs -r " + docker("volume rm -f"));
    sh(docker("network ls -q --filter type=custom") + " | xargs -r " + docker("network rm"));
    sh(docker("images -q --no-trunc") + " | grep -v \"$(" + docker("image inspect -f {{.Id}} ") + kImage + ")\" | xargs -r " +
       docker("rmi -f"));
    api("POST", "/build/prune?all=1");
  }

  static docker::SystemDf df() { return docker::parse_system_df(api("GET", "/system/df")); }

  // A single-layer image of `mib` MiB of random bytes: its size is its own.
  static std::string random_image(const std::string& tag, int mib, const std::string& label = "") {
    const std::string changes = label.empty() ? "" : " --change " + quote("LABEL " + label);
    return must("head -c " + std::to_string(mib) + "M /dev/urandom > /tmp/cwpe-blob-$$ && tar -C /tmp -c cwpe-blob-$$ | " +
                docker("import" + changes + " - " + tag) + "; rm -f /tmp/cwpe-blob-$$");
  }

  // An image as `docker load` takes it, with the Created of our choosing: how
  // reproducible builds (ko and jib: the epoch; SOURCE_DATE_EPOCH: a commit's date) make
  // them. Random content, so every one is an image of its own.
  static std::string load_image(const std::string& tag, const std::string& created) {
    const std::string script =
        "set -e; t=$(mktemp -d); cd \"$t\"; mkdir layer; head -c 64K /dev/urandom > layer/blob; "
        "tar -C layer -cf layer.tar .; diff=$(sha256sum layer.tar | cut -d' ' -f1); "
        "printf '{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"%s\",\"config\":{},"
        "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:%s\"]}}' " + quote(created) + " \"$diff\" > c.json; "
        "cfg=$(sha256sum c.json | cut -d' ' -f1); mv c.json \"$cfg.json\"; "
        "printf '[{\"Config\":\"%s.json\",\"RepoTags\":[\"%s\"],\"Layers\":[\"layer.tar\"]}]' \"$cfg\" " +
        quote(tag) + " > manifest.json; tar -cf image.tar manifest.json \"$cfg.json\" layer.tar; " +
        docker("load -q -i image.tar") + " >/dev/null; cd /; rm -rf \"$t\"";
    must(script);
    return id_of("image", tag);
  }

  // The network namespace the private engine runs in: a registry for it listens there.
  static std::string engine_netns() { return "/run/netns/cw-private-" + fs::path(dir_).filename().string(); }

  fs::path write(const std::string& name, const std::string& text) {
    fs::path p = work_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p;
  }

  ShResult prune(const fs::path& config, const std::string& extra = "") {
    return sh(quote(agent_binary().string()) + " prune --docker.host=" + host_ + " --config.file=" + config.string() +
                  " --state.dir=" + state_.string() + " " + extra,
              180s);
  }

  // What the "pruned" log lines of a run say they freed.
  static std::int64_t reclaimed(const ShResult& r) {
    std::int64_t n = 0;
    std::regex line(R"(msg=pruned .*size_bytes=(\d+))");
    for (std::sregex_iterator it(r.err.begin(), r.err.end(), line), end; it != end; ++it) n += std::stoll((*it)[1]);
    return n;
  }
  static std::string describe(const ShResult& r) { return "exit " + std::to_string(r.code) + "\n" + r.out + r.err; }

  static std::set<std::string> lines(const std::string& text) {
    std::set<std::string> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);)
      if (!l.empty()) out.insert(l);
    return out;
  }
  struct Objects {
    std::set<std::string> images, containers, volumes, networks, build_cache;
    bool operator==(const Objects&) const = default;
  };
  static Objects objects() {
    Objects o;
    o.images = lines(d("images -q --no-trunc"));
    o.containers = lines(d("ps -aq --no-trunc"));
    o.volumes = lines(d("volume ls -q"));
    o.networks = lines(d("network ls -q --no-trunc"));
    for (const auto& r : df().build_cache) o.build_cache.insert(r.id);
    return o;
  }
  static std::set<std::string> minus(const std::set<std::string>& a, const std::set<std::string>& b) {
    std::set<std::string> out;
    for (const auto& x : a)
      if (!b.count(x)) out.insert(x);
    return out;
  }
  static std::string id_of(const std::string& kind, const std::string& name) {
    return d(kind + " inspect -f {{.Id}} " + name);
  }

  // The policy, twice: as written (dry_run left at its default, true) and applied
  // (dry_run: false). `extra` goes into the policy's mapping.
  std::pair<fs::path, fs::path> configs(const std::string& target, const std::string& extra,
                                        const std::string& compose_section = "") {
    const std::string policy = "  policies:\n    - {name: t, schedule: every 1h, target: " + target +
                               ", older_than: 0s" + (extra.empty() ? "" : ", " + extra);
    return {write("dry.yml", compose_section + "prune:\n" + policy + "}\n"),
            write("apply.yml", compose_section + "prune:\n" + policy + ", dry_run: false}\n")};
  }

  // The rows of a printed plan without their age column (it moves between runs): kind, id,
  // name, size, and the reason's first words.
  static std::vector<std::string> plan_rows(const std::string& out) {
    std::vector<std::string> rows;
    std::istringstream in(out);
    std::regex row(R"(^    (\w+) +(\S+) +(\S+) +(\S+) +(?:-|\d+ \w+) +(\w+ \w+))");
    for (std::string l; std::getline(in, l);) {
      std::smatch m;
      if (std::regex_search(l, m, row)) rows.push_back(m[1].str() + " " + m[2].str() + " " + m[3].str() + " " +
                                                       m[4].str() + " " + m[5].str());
    }
    return rows;
  }

  struct Applied {
    ShResult run;
    Objects before, after;
    docker::DiskSummary df_before, df_after;
    std::set<std::string> deleted(std::set<std::string> Objects::*kind) const { return minus(before.*kind, after.*kind); }
  };

  // The three runs every target goes through: the policy's own dry run, --dry-run over the
  // applied policy (neither may change anything, and both plan the same), then the
  // applied run.
  Applied dry_runs_then_apply(const std::pair<fs::path, fs::path>& cfg) {
    Applied a;
    a.before = objects();
    const ShResult dry = prune(cfg.first);
    EXPECT_EQ(dry.code, 0) << describe(dry);
    EXPECT_NE(dry.out.find("dry run (the policy's dry_run: true)"), std::string::npos) << describe(dry);
    EXPECT_EQ(objects(), a.before) << "the policy's dry run deleted something\n" << describe(dry);
    const ShResult forced = prune(cfg.second, "--dry-run");
    EXPECT_EQ(forced.code, 0) << describe(forced);
    EXPECT_NE(forced.out.find("dry run (--dry-run)"), std::string::npos) << describe(forced);
    EXPECT_EQ(objects(), a.before) << "--dry-run deleted something\n" << describe(forced);
    EXPECT_EQ(plan_rows(forced.out), plan_rows(dry.out)) << "both dry runs plan the same";
    a.df_before = docker::summarize(df());
    a.run = prune(cfg.second);
    EXPECT_NE(a.run.out.find(": applied"), std::string::npos) << describe(a.run);
    a.after = objects();
    a.df_after = docker::summarize(df());
    return a;
  }

  static void expect_within_5_percent(std::int64_t reported, std::int64_t df_difference) {
    EXPECT_GT(df_difference, 0);
    EXPECT_NEAR(double(reported), double(df_difference), 0.05 * double(df_difference))
        << "reported " << reported << " bytes freed, /system/df shrank by " << df_difference;
  }

  static std::string dir_, host_, socket_, suite_error_;
  Cleanup cleanup_;
  fs::path work_, state_;
};

std::string Prune::dir_;
std::string Prune::host_;
std::string Prune::socket_;
std::string Prune::suite_error_;

TEST_F(Prune, ImagesDanglingThenUnusedNeverWhatAContainerOrAComposeFileNeeds) {
  random_image("cwp/app:1", 2);
  const std::string dangling = id_of("image", "cwp/app:1");
  random_image("cwp/app:1", 2);  // the first loses its tag
  const std::string app = id_of("image", "cwp/app:1");
  random_image("cwp/unused:1", 3);
  const std::string unused = id_of("image", "cwp/unused:1");
  random_image("cwp/down:1", 2);  // named only by the file of a project that is down
  random_image("cwp/used:1", 2);
  random_image("cwp/keep:1", 2, "composewatch.keep=true");
  random_image("cwp/pinned:1", 2, "com.example.pinned=yes");
  d("create --name cwp-stopped --network none cwp/used:1 /nothing");
  const fs::path compose = write("down/docker-compose.yml", "services:\n  app:\n    image: cwp/down:1\n");
  const std::string section = "compose:\n  projects:\n    - {name: cwpdown, files: [" + compose.string() + "]}\n";

  const Applied dangling_run = dry_runs_then_apply(configs("images", "", section));
  EXPECT_EQ(dangling_run.run.code, 0) << describe(dangling_run.run);
  EXPECT_EQ(dangling_run.deleted(&Objects::images), std::set<std::string>{dangling}) << describe(dangling_run.run);
  expect_within_5_percent(reclaimed(dangling_run.run),
                          dangling_run.df_before.images.total_bytes - dangling_run.df_after.images.total_bytes);

  const Applied unused_run =
      dry_runs_then_apply(configs("images", "images: unused, protect_labels: [com.example.pinned]", section));
  EXPECT_EQ(unused_run.run.code, 0) << describe(unused_run.run);
  EXPECT_EQ(unused_run.deleted(&Objects::images), (std::set<std::string>{app, unused})) << describe(unused_run.run);
  expect_within_5_percent(reclaimed(unused_run.run),
                          unused_run.df_before.images.total_bytes - unused_run.df_after.images.total_bytes);
  for (const char* kept : {"cwp/down:1", "cwp/used:1", "cwp/keep:1", "cwp/pinned:1", kImage})
    EXPECT_EQ(sh(docker(std::string("image inspect ") + kept)).code, 0) << kept << " must still be there";
  for (const char* why : {"named by service app of compose project cwpdown", "used by container cwp-stopped (created)",
                          "labelled composewatch.keep=true", "labelled com.example.pinned=yes (protect_labels",
                          "used by container cwpe-anchor"})
    EXPECT_NE(unused_run.run.out.find(why), std::string::npos) << why << "\n" << describe(unused_run.run);
  EXPECT_EQ(unused_run.after.containers, unused_run.before.containers);
  EXPECT_EQ(unused_run.after.volumes, unused_run.before.volumes);
}

TEST_F(Prune, ContainersOnlyStoppedOnesOfNoDeclaredService) {
  const std::string img = kImage;
  auto run = [&](const std::string& name, const std::string& opts, const std::string& cmd) {
    d("run --name " + name + " --network none " + opts + " " + img + " " + cmd);
    return id_of("container", name);
  };
  const std::string plain = run("cwp-plain", "", "dd if=/dev/urandom of=/blob bs=1M count=2");
  const std::string orphan =
      run("cwp-orphan", compose_labels("cwpstack", "gone"), "dd if=/dev/urandom of=/blob bs=1M count=2");
  run("cwp-declared", compose_labels("cwpstack", "db"), "dd if=/dev/urandom of=/blob bs=1M count=1");
  run("cwp-kept", "--label composewatch.keep=true", "true");
  run("cwp-pinned", "--label com.example.pinned=1", "true");
  d("create --name cwp-created --network none " + img + " true");
  const std::string created = id_of("container", "cwp-created");
  d("run -d --name cwp-running --network none " + img + " sleep 600");
  const fs::path compose = write("stack/docker-compose.yml", "services:\n  db:\n    image: " + img + "\n");
  const std::string section = "compose:\n  projects:\n    - {name: cwpstack, files: [" + compose.string() + "]}\n";

  const Applied a = dry_runs_then_apply(configs("containers", "protect_labels: [com.example.pinned]", section));
  EXPECT_EQ(a.run.code, 0) << describe(a.run);
  EXPECT_EQ(a.deleted(&Objects::containers), (std::set<std::string>{plain, orphan, created})) << describe(a.run);
  expect_within_5_percent(reclaimed(a.run), a.df_before.containers.total_bytes - a.df_after.containers.total_bytes);
  for (const char* kept : {"cwp-declared", "cwp-kept", "cwp-pinned", "cwp-running", "cwpe-anchor"})
    EXPECT_EQ(sh(docker(std::string("container inspect ") + kept)).code, 0) << kept << " must still be there";
  for (const char* why : {"of service db, which compose project cwpstack declares", "labelled composewatch.keep=true"})
    EXPECT_NE(a.run.out.find(why), std::string::npos) << why << "\n" << describe(a.run);
  EXPECT_EQ(a.after.images, a.before.images);
  EXPECT_EQ(a.after.volumes, a.before.volumes) << "containers go without their volumes";

  // A container of a compose project whose files are not known (no config_files label
  // here; on a host, files the agent cannot read): which containers and images that
  // project needs cannot be told, so the policy does not run at all.
  run("cwp-unknown", compose_labels("cwpelse", "web"), "true");
  run("cwp-stopped-again", "", "true");
  const ShResult refused = prune(configs("containers", "", section).second);
  EXPECT_EQ(refused.code, 2) << describe(refused);
  EXPECT_NE(refused.out.find("refused: what the compose projects reference is not fully known"), std::string::npos)
      << describe(refused);
  EXPECT_NE(refused.out.find("compose project cwpelse: its files do not load"), std::string::npos) << describe(refused);
  for (const char* kept : {"cwp-unknown", "cwp-stopped-again"})
    EXPECT_EQ(sh(docker(std::string("container inspect ") + kept)).code, 0) << kept << " must still be there";
}

TEST_F(Prune, VolumesOnlyAnonymousUnreferencedNeverNamed) {
  const std::string img = kImage;
  d("run --name cwp-writer --network none -v /data " + img + " dd if=/dev/urandom of=/data/blob bs=1M count=3");
  const std::string loose = d("inspect -f '{{range .Mounts}}{{.Name}}{{end}}' cwp-writer");
  d("rm cwp-writer");  // without -v: the anonymous volume stays, referenced by nothing
  d("run --name cwp-holder --network none -v /data " + img + " dd if=/dev/urandom of=/data/blob bs=1M count=1");
  const std::string held = d("inspect -f '{{range .Mounts}}{{.Name}}{{end}}' cwp-holder");
  d("volume create cwp-named");
  d("run --rm --network none -v cwp-named:/data " + img + " dd if=/dev/urandom of=/data/blob bs=1M count=1");
  d("volume create cwp-empty");  // a named volume left 0 bytes
  // A compose project's volume that its file no longer declares: named, so never pruned.
  d("volume create --label com.docker.compose.project=cwpvol --label com.docker.compose.volume=old cwpvol_old");
  const std::string hex_kept = std::string(64, 'e');
  d("volume create --label composewatch.keep=true " + hex_kept);
  const fs::path compose = write("vol/docker-compose.yml",
                                 "services:\n  app:\n    image: " + img + "\n    volumes: [data:/data]\nvolumes:\n  data: {}\n");
  const std::string section = "compose:\n  projects:\n    - {name: cwpvol, files: [" + compose.string() + "]}\n";

  const Applied a = dry_runs_then_apply(configs("volumes", "allow_volumes: true", section));
  EXPECT_EQ(a.run.code, 0) << describe(a.run);
  EXPECT_EQ(a.deleted(&Objects::volumes), std::set<std::string>{loose}) << describe(a.run);
  expect_within_5_percent(reclaimed(a.run), a.df_before.volumes.total_bytes - a.df_after.volumes.total_bytes);
  for (const std::string& kept : {held, std::string("cwp-named"), std::string("cwp-empty"), std::string("cwpvol_old"),
                                  hex_kept})
    EXPECT_EQ(sh(docker("volume inspect " + kept)).code, 0) << kept << " must still be there";
  for (const char* why : {"mounted by container cwp-holder (exited)", "named volume: never pruned",
                          "labelled composewatch.keep=true"})
    EXPECT_NE(a.run.out.find(why), std::string::npos) << why << "\n" << describe(a.run);
  EXPECT_EQ(a.after.containers, a.before.containers);
}

TEST_F(Prune, NetworksOnlyUnusedOnes) {
  const std::string img = kImage;
  d("network create --internal cwp-free");
  const std::string free_net = id_of("network", "cwp-free");
  d("network create --internal cwp-used");
  d("create --name cwp-user --network cwp-used " + img + " true");  // never started: no endpoint, still needs it
  d("network create --internal --label composewatch.keep=true cwp-kept");
  d("network create --internal --label com.docker.compose.project=cwpnet --label com.docker.compose.network=default "
    "cwpnet_default");
  const fs::path compose = write("net/docker-compose.yml", "services:\n  app:\n    image: " + img + "\n");
  const std::string section = "compose:\n  projects:\n    - {name: cwpnet, files: [" + compose.string() + "]}\n";

  const Applied a = dry_runs_then_apply(configs("networks", "", section));
  EXPECT_EQ(a.run.code, 0) << describe(a.run);
  EXPECT_EQ(a.deleted(&Objects::networks), std::set<std::string>{free_net}) << describe(a.run);
  for (const char* kept : {"cwp-used", "cwp-kept", "cwpnet_default", "bridge", "host", "none"})
    if (std::string(kept) != "bridge")  // the private engine runs without the default bridge
      EXPECT_EQ(sh(docker(std::string("network inspect ") + kept)).code, 0) << kept << " must still be there";
  for (const char* why : {"used by container cwp-user (created)", "labelled composewatch.keep=true",
                          "a network of compose project cwpnet", "built-in network"})
    EXPECT_NE(a.run.out.find(why), std::string::npos) << why << "\n" << describe(a.run);
}

TEST_F(Prune, BuildCacheOfARealBuildKitBuild) {
  const fs::path ctx = work_ / "ctx";
  fs::create_directories(ctx);
  std::ofstream(ctx / "Dockerfile") << "FROM " << kImage
                                    << "\nRUN dd if=/dev/urandom of=/one bs=1M count=2\n"
                                       "RUN dd if=/dev/urandom of=/two bs=1M count=3\n";
  must("DOCKER_BUILDKIT=1 /usr/bin/docker -H " + host_ + " build --network none -q -t cwp/built:1 " + ctx.string(),
       300s);
  d("rmi cwp/built:1");  // the cache stays without the image
  ASSERT_FALSE(df().build_cache.empty()) << "BuildKit left no cache records";

  const Applied a = dry_runs_then_apply(configs("build_cache", ""));
  EXPECT_EQ(a.run.code, 0) << describe(a.run);
  // What stays is shared with the test image (its layers), which nothing reclaims.
  for (const auto& r : df().build_cache) {
    EXPECT_TRUE(r.shared) << r.id << " " << r.description << " should have gone\n" << describe(a.run);
    EXPECT_EQ(r.size, 0) << r.id;
  }
  EXPECT_GE(a.deleted(&Objects::build_cache).size(), 3u) << describe(a.run);
  EXPECT_NE(a.run.out.find("shared with an image"), std::string::npos) << describe(a.run);
  EXPECT_EQ(a.run.out.find("    skipped"), std::string::npos) << "children first: the engine never refuses\n"
                                                           << describe(a.run);
  expect_within_5_percent(reclaimed(a.run), a.df_before.build_cache.total_bytes - a.df_after.build_cache.total_bytes);
  EXPECT_EQ(a.after.images, a.before.images);
}

TEST_F(Prune, BuildCacheKeepStorageKeepsTheNewest) {
  const fs::path ctx = work_ / "ctx";
  fs::create_directories(ctx);
  std::ofstream(ctx / "Dockerfile") << "FROM " << kImage << "\nRUN dd if=/dev/urandom of=/one bs=1M count=2\n";
  must("DOCKER_BUILDKIT=1 /usr/bin/docker -H " + host_ + " build --network none -q -t cwp/ks:1 " + ctx.string(),
       300s);
  d("rmi cwp/ks:1");
  const auto before = docker::summarize(df()).build_cache.total_bytes;
  ASSERT_GT(before, 1 << 20);
  const auto cfg = configs("build_cache", "keep_storage: 100GB");
  const ShResult r = prune(cfg.second);
  EXPECT_EQ(r.code, 0) << describe(r);
  EXPECT_NE(r.out.find("deleted 0 of 0"), std::string::npos) << describe(r);
  EXPECT_EQ(docker::summarize(df()).build_cache.total_bytes, before);
}

TEST_F(Prune, AScheduledPolicyRunsOnItsOwnInTheAgent) {
  random_image("cwp/sched:1", 2);
  const std::string dangling = id_of("image", "cwp/sched:1");
  random_image("cwp/sched:1", 2);
  random_image("cwp/planned:1", 1);
  const fs::path cfg = write("agent.yml",
                             "disk: {interval: 2s, timeout: 30s}\n"
                             "prune:\n  policies:\n"
                             "    - {name: every10s, schedule: every 10s, target: images, older_than: 0s, dry_run: false}\n"
                             "    - {name: preview, schedule: every 10s, target: images, images: unused, older_than: 0s}\n");
  AgentProcess agent({.args = {"--docker.host=" + host_, "--config.file=" + cfg.string()}});
  EXPECT_TRUE(metric_eventually(agent, "composewatch_prune_runs_total", {{"policy", "every10s"}, {"mode", "apply"}},
                                [](std::optional<double> v) { return v && *v >= 1; }, ">= 1", 40s))
      << agent.log_tail();
  EXPECT_NE(sh(docker("image inspect " + dangling)).code, 0) << "the dangling image is gone";
  EXPECT_EQ(sh(docker("image inspect cwp/sched:1")).code, 0);
  EXPECT_EQ(sh(docker("image inspect cwp/planned:1")).code, 0) << "the other policy is a dry run";
  const Metrics m = agent.scrape();
  EXPECT_GE(m.value("composewatch_prune_reclaimed_bytes_total", {{"policy", "every10s"}, {"kind", "images"}}).value_or(0),
            2 << 20);
  EXPECT_EQ(m.value("composewatch_prune_deleted_objects_total", {{"policy", "every10s"}}), 1);
  EXPECT_TRUE(metric_eventually(agent, "composewatch_prune_candidates", {{"policy", "preview"}},
                                [](std::optional<double> v) { return v && *v >= 2; }, ">= 2", 30s));
  EXPECT_GE(agent.scrape().value("composewatch_prune_candidate_bytes", {{"policy", "preview"}}).value_or(0), 3 << 20);
  EXPECT_EQ(m.value("composewatch_prune_runs_total", {{"policy", "preview"}, {"mode", "apply"}}), 0);
  EXPECT_TRUE(m.value("composewatch_prune_last_success_timestamp_seconds", {{"policy", "every10s"}}).has_value());
  EXPECT_EQ(m.value("composewatch_prune_interval_seconds", {{"policy", "every10s"}}), 10);
  EXPECT_EQ(m.value("composewatch_collector_success", {{"collector", "disk"}}), 1);
  EXPECT_NE(agent.log().find("msg=pruned policy=every10s kind=images"), std::string::npos);
}

TEST_F(Prune, MalformedPoliciesAreRefusedWithFileAndLineAndNeverRun) {
  random_image("cwp/bad:1", 1);
  random_image("cwp/bad:1", 1);  // a dangling image any images policy would delete
  const auto before = objects();
  struct Case {
    std::string body, expect;
  };
  const std::vector<Case> cases = {
      {"    - {name: a, schedule: every 1h, target: images, dry_run: false, dryrun: true}\n", ":4: prune.policies[0]: unknown key 'dryrun'"},
      {"    - {name: a, schedule: every 1h, target: image, dry_run: false}\n", ":4: prune.policies[0].target: invalid value 'image'"},
      {"    - {name: a, schedule: every 1h, target: volumes, dry_run: false}\n", "target volumes requires allow_volumes: true"},
      {"    - {name: a, schedule: '61 * * * *', target: images, dry_run: false}\n", "minute: 61 is out of range 0-59"},
      {"    - {name: a, schedule: every 1h, target: images, max_bytes: -5GB, dry_run: false}\n", ":4: prune.policies[0].max_bytes:"},
      {"    - {name: a, schedule: every 1h, target: build_cache, keep_storage: -1, dry_run: false}\n", ":4: prune.policies[0].keep_storage:"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const fs::path cfg = write("bad" + std::to_string(i) + ".yml", "# broken\nprune:\n  policies:\n" + cases[i].body);
    const ShResult r = prune(cfg);
    EXPECT_EQ(r.code, 2) << describe(r);
    EXPECT_NE(r.err.find(cfg.string()), std::string::npos) << describe(r);
    EXPECT_NE(r.err.find(cases[i].expect), std::string::npos) << cases[i].expect << "\n" << describe(r);
    const ShResult agent = sh(quote(agent_binary().string()) + " run --docker.host=" + host_ +
                                  " --web.listen-address=127.0.0.1:0 --config.file=" + cfg.string(),
                              30s);
    EXPECT_EQ(agent.code, 78) << "the agent refuses to start: a configuration error\n" << describe(agent);
    EXPECT_NE(agent.err.find(cases[i].expect), std::string::npos) << describe(agent);
  }
  EXPECT_EQ(objects(), before) << "nothing ran";
}

TEST_F(Prune, ARejectedReloadSuspendsEveryPolicyUntilTheFileIsValid) {
  const std::string good = "prune:\n  policies:\n"
                           "    - {name: p, schedule: every 10s, target: images, older_than: 0s, dry_run: false}\n";
  const fs::path cfg = write("agent.yml", good);
  AgentProcess agent({.args = {"--docker.host=" + host_, "--config.file=" + cfg.string()}});
  write("agent.yml", good + "    - {name: q, schedule: every 10s, target: imagez}\n");
  ::kill(agent.pid(), SIGHUP);
  ASSERT_TRUE(eventually([&] { return agent.log().find("prune policies suspended") != std::string::npos; }, 10s,
                         "suspension logged", [&] { return agent.log_tail(); }));
  random_image("cwp/held:1", 1);
  const std::string dangling = id_of("image", "cwp/held:1");
  random_image("cwp/held:1", 1);
  std::this_thread::sleep_for(25s);  // two periods of the policy
  EXPECT_EQ(sh(docker("image inspect " + dangling)).code, 0) << "nothing runs while the config is rejected\n"
                                                             << agent.log_tail();
  write("agent.yml", good);
  ::kill(agent.pid(), SIGHUP);
  EXPECT_TRUE(eventually([&] { return sh(docker("image inspect " + dangling)).code != 0; }, 40s,
                         "the dangling image deleted once the file is valid again", [&] { return agent.log_tail(); }));
}

TEST_F(Prune, TheDiskTriggerDecidesWhetherAPolicyDeletes) {
  random_image("cwp/trig:1", 1);
  const std::string dangling = id_of("image", "cwp/trig:1");
  random_image("cwp/trig:1", 1);
  auto policy = [&](const std::string& name, const std::string& below) {
    return write(name + ".yml", "prune:\n  policies:\n    - {name: " + name +
                                    ", schedule: every 1h, target: images, older_than: 0s, dry_run: false, when: "
                                    "{disk_free_below: " + below + "}}\n");
  };
  const ShResult roomy = prune(policy("roomy", "0.001%"));
  EXPECT_EQ(roomy.code, 0) << describe(roomy);
  EXPECT_NE(roomy.out.find("not applied: disk free "), std::string::npos) << describe(roomy);
  EXPECT_NE(roomy.out.find("is not below 0.001% (when.disk_free_below)"), std::string::npos) << describe(roomy);
  EXPECT_NE(roomy.out.find("would delete 1 object"), std::string::npos) << "its plan is still shown\n"
                                                                         << describe(roomy);
  EXPECT_EQ(sh(docker("image inspect " + dangling)).code, 0);
  const ShResult full = prune(policy("full", "100%"));
  EXPECT_EQ(full.code, 0) << describe(full);
  EXPECT_NE(full.out.find(": applied"), std::string::npos) << describe(full);
  EXPECT_NE(sh(docker("image inspect " + dangling)).code, 0);
}

TEST_F(Prune, OnePruneAtATimeOnTheHost) {
  random_image("cwp/lock:1", 1);
  const fs::path cfg = write("lock.yml", "prune:\n  policies:\n    - {name: a, schedule: every 1h, target: images}\n");
  fs::create_directories(state_);
  const int fd = ::open(state_.c_str(), O_RDONLY | O_DIRECTORY);  // the lock is the state directory
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  const ShResult held = prune(cfg);
  EXPECT_EQ(held.code, 2) << describe(held);
  EXPECT_NE(held.err.find("another prune is running on this host"), std::string::npos) << describe(held);
  ::close(fd);
  EXPECT_EQ(prune(cfg).code, 0);
}


// A registry (Debian's docker-registry, distribution 2.8) on the private engine's
// loopback, in its network namespace, where that dockerd pushes and pulls; the engine
// trusts 127.0.0.0/8 without TLS.
class LocalRegistry {
 public:
  LocalRegistry(const fs::path& dir, const std::string& netns)
      : port_(free_port()), netns_(netns), config_(write_config(dir, port_)),
        process_("registry", {"/usr/bin/nsenter", "--net=" + netns, "/usr/bin/docker-registry", "serve", config_.string()}) {
    if (!eventually([&] { return sh(probe()).code == 0; }, 20s, "the registry answers",
                    [&] { return process_.log_tail(); }))
      throw std::runtime_error("registry on 127.0.0.1:" + std::to_string(port_) + " did not start");
  }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  static fs::path write_config(const fs::path& dir, int port) {
    fs::create_directories(dir / "data");
    const fs::path cfg = dir / "registry.yml";
    std::ofstream(cfg) << "version: 0.1\nlog: {level: warn}\nstorage:\n  filesystem:\n    rootdirectory: "
                       << (dir / "data").string() << "\nhttp:\n  addr: 127.0.0.1:" << port << "\n";
    return cfg;
  }
  std::string probe() const {
    return "nsenter --net=" + netns_ + " curl -sf --max-time 2 http://127.0.0.1:" + std::to_string(port_) + "/v2/";
  }
  int port_;
  std::string netns_;
  fs::path config_;
  ServiceProcess process_;
};

// image: name:tag@sha256:… (the pin Renovate and Dependabot write) and image: name@sha256:…,
// pulled by digest: the image has RepoDigests and no RepoTags. With its project down,
// no images policy deletes it; an image no compose file pins goes.
TEST_F(Prune, DigestPinnedImagesStayWhileTheirProjectIsDown) {
  LocalRegistry registry(work_ / "registry", engine_netns());
  const std::string reg = registry.host();
  auto publish = [&](const std::string& repo) {
    random_image(reg + "/" + repo + ":1", 1);
    d("push -q " + reg + "/" + repo + ":1", 120s);
    const std::string digest = d("image inspect -f '{{index .RepoDigests 0}}' " + reg + "/" + repo + ":1");
    d("rmi " + reg + "/" + repo + ":1");
    d("pull -q " + digest, 120s);  // by digest: no tag here
    return digest;                  // REG/REPO@sha256:…
  };
  const std::string api = publish("cwpd/api"), db = publish("cwpd/db"), loose = publish("cwpd/loose");
  const std::string api_digest = api.substr(api.find('@') + 1);
  ASSERT_EQ(d("image inspect -f '{{len .RepoTags}}' " + api), "0") << "pulled by digest: dangling";
  const fs::path compose = write("pinned/docker-compose.yml",
                                 "services:\n  api:\n    image: " + reg + "/cwpd/api:1.4@" + api_digest +
                                     "\n  db:\n    image: " + db + "\n");
  const std::string section = "compose:\n  projects:\n    - {name: cwpdigest, files: [" + compose.string() + "]}\n";
  for (const char* mode : {"dangling", "unused"}) {
    const auto cfg = configs("images", std::string("images: ") + mode, section);
    const ShResult r = prune(cfg.second);
    EXPECT_EQ(r.code, 0) << mode << "\n" << describe(r);
    for (const auto& pinned : {api, db}) {
      EXPECT_EQ(sh(docker("image inspect " + pinned)).code, 0) << pinned << " deleted by " << mode << "\n" << describe(r);
    }
    EXPECT_NE(r.out.find("pinned by digest by service api of compose project cwpdigest"), std::string::npos)
        << describe(r);
    EXPECT_NE(r.out.find("pinned by digest by service db of compose project cwpdigest"), std::string::npos)
        << describe(r);
  }
  EXPECT_NE(sh(docker("image inspect " + loose)).code, 0) << "an image pulled by digest that no file pins goes";
}

// image: app:${TAG} under systemd, where TAG is the deployer's: any tag of the repository
// may be the one deployed, so all stay; a repository that depends on a variable makes the
// policy refuse, saying which project, file and variable.
TEST_F(Prune, AnImageFromAVariableTheAgentLacksIsProtectedOrThePolicyRefuses) {
  random_image("cwpv/app:1", 1);
  random_image("cwpv/app:2", 1);
  random_image("cwpv/other:1", 1);
  const std::string other = id_of("image", "cwpv/other:1");
  const fs::path tagged = write("var/docker-compose.yml", "services:\n  app:\n    image: cwpv/app:${CWPV_TAG}\n");
  const auto cfg = configs("images", "images: unused",
                           "compose:\n  projects:\n    - {name: cwpvar, files: [" + tagged.string() + "]}\n");
  const ShResult r = prune(cfg.second);
  EXPECT_EQ(r.code, 0) << describe(r);
  for (const char* kept : {"cwpv/app:1", "cwpv/app:2"})
    EXPECT_EQ(sh(docker(std::string("image inspect ") + kept)).code, 0) << kept << "\n" << describe(r);
  EXPECT_NE(r.out.find("of repository cwpv/app, whose tag service app of compose project cwpvar"), std::string::npos)
      << describe(r);
  EXPECT_NE(sh(docker("image inspect " + other)).code, 0) << describe(r);

  random_image("cwpv/more:1", 1);
  const fs::path repo = write("var2/docker-compose.yml", "services:\n  app:\n    image: ${CWPV_REGISTRY}/app:1\n");
  const auto refusing = configs("images", "images: unused",
                                "compose:\n  projects:\n    - {name: cwpvar2, files: [" + repo.string() + "]}\n");
  const ShResult refused = prune(refusing.second);
  EXPECT_EQ(refused.code, 2) << describe(refused);
  EXPECT_NE(refused.out.find("service app of compose project cwpvar2 (" + repo.string() +
                             ":2): the repository of its image depends on CWPV_REGISTRY"),
            std::string::npos)
      << describe(refused);
  EXPECT_EQ(sh(docker("image inspect cwpv/more:1")).code, 0) << describe(refused);
  // check says it too, with what to do.
  const ShResult check = sh(quote(agent_binary().string()) + " check --docker.host=" + host_ +
                            " --config.file=" + refusing.second.string() + " --state.dir=" + state_.string());
  EXPECT_NE(check.out.find("prune: policies on images and containers do not run while"), std::string::npos)
      << describe(check);
  EXPECT_NE(check.out.find("depends on CWPV_REGISTRY"), std::string::npos) << describe(check);
}

// A project found from its containers' labels whose files the agent cannot read (under
// the unit's ProtectHome=, or a directory since deleted) protected only its containers:
// the images of its services that have none were fair game. Now the policy refuses.
TEST_F(Prune, AProjectWhoseFilesDoNotLoadStopsImagePolicies) {
  random_image("cwpu/web:1", 1);
  random_image("cwpu/worker:1", 1);  // its service has no container now
  const fs::path gone = work_ / "gone";
  d("create --name cwpu-web --network none " + compose_labels("cwpunread", "web") +
    " --label com.docker.compose.project.working_dir=" + gone.string() +
    " --label com.docker.compose.project.config_files=" + (gone / "docker-compose.yml").string() +
    " cwpu/web:1 true");
  const auto cfg = configs("images", "images: unused");
  const ShResult r = prune(cfg.second);
  EXPECT_EQ(r.code, 2) << describe(r);
  EXPECT_NE(r.out.find("compose project cwpunread: its files do not load (" + (gone / "docker-compose.yml").string()),
            std::string::npos)
      << describe(r);
  EXPECT_EQ(sh(docker("image inspect cwpu/worker:1")).code, 0) << describe(r);
  const ShResult diagnose = sh(quote(agent_binary().string()) + " diagnose --docker.host=" + host_ +
                               " --config.file=" + cfg.second.string() + " --state.dir=" + state_.string());
  EXPECT_NE(diagnose.out.find("prune policies on images and containers do not run: compose project cwpunread"),
            std::string::npos)
      << describe(diagnose);
  // An agent counts each refused run as a failure.
  const fs::path agent_cfg = write("agent.yml", "prune:\n  policies:\n    - {name: blocked, schedule: every 10s, "
                                                "target: images, images: unused, older_than: 0s, dry_run: false}\n");
  AgentProcess agent({.args = {"--docker.host=" + host_, "--config.file=" + agent_cfg.string()}});
  EXPECT_TRUE(metric_eventually(agent, "composewatch_prune_failures_total", {{"policy", "blocked"}},
                                [](std::optional<double> v) { return v && *v >= 1; }, ">= 1", 40s))
      << agent.log_tail();
  EXPECT_EQ(sh(docker("image inspect cwpu/worker:1")).code, 0);
  EXPECT_NE(agent.log().find("compose project cwpunread: its files do not load"), std::string::npos)
      << agent.log_tail();
}

// Reproducible builds stamp Created with the epoch (ko, jib) or a commit's date
// (SOURCE_DATE_EPOCH): such an image pulled a minute ago is not 24 hours old. Its age runs
// from the latest of Created, LastTagTime and when the agent saw it pulled or used
// (events, kept in the state file that `composewatch prune` reads too); unknown is kept.
TEST_F(Prune, AnImagesAgeIsNotItsBuildDate) {
  const std::string epoch = load_image("cwpr/epoch:1", "1970-01-01T00:00:00Z");
  const std::string control = load_image("cwpr/control:1", "2020-01-01T00:00:00Z");
  LocalRegistry registry(work_ / "registry", engine_netns());
  const std::string reg = registry.host();
  load_image(reg + "/cwpr/bytag:1", "2020-01-01T00:00:00Z");
  load_image(reg + "/cwpr/bydigest:1", "2020-01-01T00:00:00Z");
  const std::string used = load_image("cwpr/used:1", "2020-01-01T00:00:00Z");
  for (const char* repo : {"cwpr/bytag", "cwpr/bydigest"}) d("push -q " + reg + "/" + repo + ":1", 120s);
  const std::string by_digest = d("image inspect -f '{{index .RepoDigests 0}}' " + reg + "/cwpr/bydigest:1");
  d("rmi " + reg + "/cwpr/bytag:1 " + reg + "/cwpr/bydigest:1");

  // The agent, watching: the pulls now, a container of cwpr/used:1 made and removed.
  {
    AgentProcess agent({.args = {"--docker.host=" + host_}, .state_dir = state_});
    ASSERT_TRUE(metric_eventually_eq(agent, "composewatch_engine_up", {}, 1)) << agent.log_tail();
    d("pull -q " + reg + "/cwpr/bytag:1", 120s);
    d("pull -q " + by_digest, 120s);
    d("run --rm --network none cwpr/used:1 /blob 2>/dev/null || true");
    ASSERT_TRUE(eventually([&] { return agent.log().find("action=destroy") != std::string::npos ||
                                        agent.scrape().value("composewatch_events_total",
                                                             {{"type", "container"}, {"action", "destroy"}})
                                                .value_or(0) >= 1; },
                           20s, "the container's removal seen", [&] { return agent.log_tail(); }));
    EXPECT_EQ(agent.stop(), 0);  // saves the state file
  }
  const fs::path cfg = write("day.yml", "prune:\n  policies:\n    - {name: day, schedule: every 1h, target: images, "
                                        "images: unused, older_than: 24h, dry_run: false}\n");
  const ShResult r = prune(cfg);
  EXPECT_EQ(r.code, 0) << describe(r);
  EXPECT_NE(sh(docker("image inspect " + control)).code, 0) << "built in 2020, never seen here: old\n" << describe(r);
  EXPECT_EQ(sh(docker("image inspect " + epoch)).code, 0) << describe(r);
  EXPECT_NE(r.out.find("its age is unknown"), std::string::npos) << describe(r);
  for (const std::string& young : {reg + "/cwpr/bytag:1", by_digest, used})
    EXPECT_EQ(sh(docker("image inspect " + young)).code, 0) << young << " is minutes old here\n" << describe(r);
  EXPECT_NE(r.out.find("younger than the grace period"), std::string::npos) << describe(r);
}

// `composewatch prune` run by root and the service's own (dynamic) user share one lock:
// the state directory itself, which both can open. A lock file root made (0600) used to
// keep the service from ever running a policy again, without a word. A lock that cannot
// be taken is a failure, counted.
TEST_F(Prune, TheHostLockServesRootAndTheServiceUserAndABusyLockIsAFailure) {
  constexpr int kServiceUid = 61'000;  // as systemd's DynamicUser= would pick
  random_image("cwpl/x:1", 1);
  const std::string first = id_of("image", "cwpl/x:1");
  random_image("cwpl/x:1", 1);  // `first` is dangling now
  fs::permissions(work_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
  const fs::path state = work_ / "service-state";  // as StateDirectory= makes it: the user's, 0750
  fs::create_directories(state);
  must("chown " + std::to_string(kServiceUid) + ":" + std::to_string(kServiceUid) + " " + quote(state.string()) +
       " && chmod 0750 " + quote(state.string()));
  // The operator's one-shot run first, as root.
  const fs::path dry = write("dry.yml", "prune:\n  policies:\n    - {name: p, schedule: every 1h, target: images}\n");
  const ShResult root_run = sh(quote(agent_binary().string()) + " prune --docker.host=" + host_ +
                               " --config.file=" + dry.string() + " --state.dir=" + state.string());
  ASSERT_EQ(root_run.code, 0) << describe(root_run);
  // The service's user may use the engine's socket (the docker group, on a real host).
  const std::string socket = dir_ + "/docker.sock";
  must("chmod 0666 " + quote(socket));
  cleanup_.add([socket] { sh("chmod 0660 " + quote(socket)); });
  const fs::path cfg = write("service.yml", "prune:\n  policies:\n    - {name: p, schedule: every 10s, target: images, "
                                            "older_than: 0s, dry_run: false}\n");
  fs::permissions(cfg, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
  const int port = free_port();
  ServiceProcess agent("agent-service-user",
                       {"/usr/bin/setpriv", "--reuid=" + std::to_string(kServiceUid),
                        "--regid=" + std::to_string(kServiceUid), "--clear-groups", agent_binary().string(), "run",
                        "--web.listen-address=127.0.0.1:" + std::to_string(port), "--log.level=debug",
                        "--state.dir=" + state.string(), "--docker.host=" + host_, "--config.file=" + cfg.string()},
                       {.wait_port = port});
  auto value = [&](const std::string& name, const Labels& labels) {
    return Metrics::parse(http_get("127.0.0.1", port, "/metrics").body).value(name, labels);
  };
  EXPECT_TRUE(eventually([&] { return value("composewatch_prune_runs_total", {{"policy", "p"}, {"mode", "apply"}}).value_or(0) >= 1; },
                         40s, "the service user's scheduled run applied", [&] { return agent.log_tail(); }));
  EXPECT_EQ(value("composewatch_prune_failures_total", {{"policy", "p"}}), 0) << agent.log_tail();
  EXPECT_NE(sh(docker("image inspect " + first)).code, 0) << agent.log_tail();

  // Now someone holds the lock when the policy is due: a failure, logged and counted.
  const int fd = ::open(state.c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  EXPECT_TRUE(eventually([&] { return value("composewatch_prune_failures_total", {{"policy", "p"}}).value_or(0) >= 1; },
                         30s, "the busy lock counted as a failure", [&] { return agent.log_tail(); }));
  ::close(fd);
  EXPECT_NE(agent.log().find("prune policy not run: the host's prune lock cannot be taken"), std::string::npos)
      << agent.log_tail();
}

// SIGTERM while an applied run untags an image with many tags: the agent finishes that
// image (every tag, then the image), attempts nothing more, says so, and exits 0. Before,
// it stopped at once and left the image half untagged.
TEST_F(Prune, SigtermDuringAnAppliedRunFinishesTheImageInFlightAndNothingMore) {
  constexpr int kTags = 60;
  random_image("cwps/many-0:1", 1);
  const std::string many = id_of("image", "cwps/many-0:1");
  // One repository each: deleting by id alone would need force, so every tag is untagged.
  for (int i = 1; i < kTags; ++i) d("tag cwps/many-0:1 cwps/many-" + std::to_string(i) + ":1");
  std::this_thread::sleep_for(1100ms);  // the rest are younger: deleted after it
  std::vector<std::string> rest;
  for (int i = 0; i < 4; ++i) {
    random_image("cwps/rest-" + std::to_string(i) + ":1", 1);
    rest.push_back(id_of("image", "cwps/rest-" + std::to_string(i) + ":1"));
  }
  const fs::path cfg = write("agent.yml", "prune:\n  policies:\n    - {name: p, schedule: every 10s, target: images, "
                                          "images: unused, older_than: 0s, dry_run: false}\n");
  AgentProcess agent({.args = {"--docker.host=" + host_, "--config.file=" + cfg.string()}});
  ASSERT_TRUE(eventually([&] {
                const ShResult n = sh(docker("image inspect -f '{{len .RepoTags}}' " + many));
                return n.code == 0 && n.out != std::to_string(kTags) + "\n";
              },
                         40s, "the untagging under way", [&] { return agent.log_tail(); }, 10ms));
  const int code = agent.stop();
  EXPECT_EQ(code, 0) << agent.log_tail();
  EXPECT_NE(sh(docker("image inspect " + many)).code, 0) << "the image in flight is finished\n" << agent.log_tail();
  for (int i = 0; i < kTags; ++i)
    EXPECT_NE(sh(docker("image inspect cwps/many-" + std::to_string(i) + ":1")).code, 0) << i;
  int still_there = 0;
  for (const auto& id : rest) still_there += sh(docker("image inspect " + id)).code == 0;
  EXPECT_GT(still_there, 0) << "nothing after the image in flight\n" << agent.log_tail();
  EXPECT_NE(agent.log().find("waiting for the prune run in flight to finish its deletion in flight"), std::string::npos)
      << agent.log_tail();
  EXPECT_NE(agent.log().find("msg=\"prune stopped: the agent is stopping\""), std::string::npos) << agent.log_tail();
}

}  // namespace
}  // namespace itest
