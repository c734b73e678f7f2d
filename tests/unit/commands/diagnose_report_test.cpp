// diagnose's pure part: which containers are troubled and why, the largest images and
// layers, the next steps and their thresholds, and the text and JSON renderings, on
// hand-made facts and the engine fixtures, with a fixed clock.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <set>
#include <sstream>

#include "composewatch/commands/diagnose/command.h"
#include "composewatch/commands/diagnose/render.h"
#include "fixture_file.h"

using namespace composewatch;
using namespace composewatch::commands;
using composewatch::test_support::read_fixture;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

constexpr double kNow = 1'800'000'000;  // 2027-01-15T08:00:00Z
constexpr std::int64_t kMiB = 1 << 20;
constexpr std::int64_t kGiB = std::int64_t(1) << 30;

docker::ContainerInfo container(std::string name, std::string state, int exit_code = 0) {
  docker::ContainerInfo c;
  c.id = name + std::string(64 - std::min<std::size_t>(name.size(), 64), '0');
  c.name = std::move(name);
  c.state = std::move(state);
  c.exit_code = exit_code;
  c.spec.image = "busybox:1";
  c.started_at = kNow - 3600;
  if (c.state != "running") c.finished_at = kNow - 1800;
  return c;
}

docker::ContainerInfo exited_after(std::string name, int exit_code, double seconds) {
  auto c = container(std::move(name), "exited", exit_code);
  c.started_at = kNow - 100;
  c.finished_at = kNow - 100 + seconds;
  return c;
}

void compose_labels(docker::ContainerInfo& c, const std::string& project, const std::string& service) {
  c.spec.labels["com.docker.compose.project"] = project;
  c.spec.labels["com.docker.compose.service"] = service;
  c.spec.compose = docker::ComposeLabels::from(c.spec.labels);
}

// A reachable engine with nothing on it, a roomy filesystem and no projects.
HostFacts quiet_host() {
  HostFacts f;
  f.now = kNow;
  f.docker_host = "unix:///var/run/docker.sock";
  f.version = "20.10.24+dfsg1";
  f.api_version = "1.41";
  f.docker_root_dir = "/var/lib/docker";
  f.df = docker::SystemDf{};
  f.filesystem_path = "/var/lib/docker";
  f.filesystem = disk::FilesystemUsage{.size_bytes = 100 * std::uint64_t(kGiB), .avail_bytes = 60 * std::uint64_t(kGiB)};
  f.containers = std::vector<docker::ContainerInfo>{};
  f.projects = std::vector<compose::ProjectState>{};
  return f;
}

std::string text_of(const DiagnoseReport& r) {
  std::ostringstream out;
  render_text(r, out);
  return out.str();
}

boost::json::object json_of(const DiagnoseReport& r) {
  std::ostringstream out;
  render_json(r, out);
  return boost::json::parse(out.str()).as_object();
}

bool has_step(const DiagnoseReport& r, const std::string& command_part) {
  for (const auto& s : r.next_steps)
    if (s.command.find(command_part) != std::string::npos) return true;
  return false;
}

std::string steps_of(const DiagnoseReport& r) {
  std::string s;
  for (const auto& n : r.next_steps) s += n.why + "\n  $ " + n.command + "\n";
  return s;
}

compose::ProjectState project(const std::string& name, std::map<std::string, compose::Service> services,
                              std::vector<std::string> volumes = {}) {
  auto p = std::make_shared<compose::Project>();
  p->name = name;
  p->working_dir = "/srv/" + name;
  p->files = {"/srv/" + name + "/docker-compose.yml"};
  for (auto& [n, s] : services) {
    s.name = n;
    s.location = {p->files[0], 3};
  }
  p->services = std::move(services);
  for (const auto& v : volumes) p->volumes[v] = {};
  compose::ProjectState st;
  st.name = name;
  st.source.name = name;
  st.source.files = p->files;
  st.source.configured = true;
  st.model = std::move(p);
  st.valid = true;
  return st;
}

}  // namespace

// ------------------------------------------------------------------ troubled containers

TEST(DiagnoseTroubles, OomKilledByTheFlagOrTheCgroupCounter) {
  auto flagged = container("a", "exited", 137);
  flagged.oom_killed = true;
  EXPECT_THAT(troubles(flagged, std::nullopt), ::testing::ElementsAre(Trouble::oom_killed));

  auto running = container("b", "running");
  EXPECT_THAT(troubles(running, 2u), ::testing::ElementsAre(Trouble::oom_killed));
  EXPECT_TRUE(troubles(running, 0u).empty());
  EXPECT_TRUE(troubles(running, std::nullopt).empty());
}

TEST(DiagnoseTroubles, RestartLoopByStateOrThreeRestarts) {
  EXPECT_THAT(troubles(container("a", "restarting", 3), std::nullopt), ::testing::Contains(Trouble::restart_loop));
  auto three = container("b", "running");
  three.restart_count = 3;
  EXPECT_THAT(troubles(three, std::nullopt), ::testing::ElementsAre(Trouble::restart_loop));
  auto two = container("c", "running");
  two.restart_count = 2;
  EXPECT_TRUE(troubles(two, std::nullopt).empty());
}

TEST(DiagnoseTroubles, ImmediateExitIsNonZeroWithinTenSecondsOrAnEngineError) {
  EXPECT_THAT(troubles(exited_after("quick", 1, 2), std::nullopt), ::testing::ElementsAre(Trouble::immediate_exit));
  EXPECT_THAT(troubles(exited_after("edge", 2, 10), std::nullopt), ::testing::ElementsAre(Trouble::immediate_exit));
  EXPECT_TRUE(troubles(exited_after("slow", 1, 11), std::nullopt).empty());
  EXPECT_TRUE(troubles(exited_after("clean", 0, 1), std::nullopt).empty());
  // Seen on Engine 20.10: a process that exits at once is recorded as finished before the
  // engine notes its start.
  EXPECT_THAT(troubles(exited_after("raced", 7, -0.0005), std::nullopt), ::testing::ElementsAre(Trouble::immediate_exit));

  // `docker run` of a missing command: never started, exit code 127 and State.Error.
  auto never = container("never", "created", 127);
  never.started_at.reset();
  never.finished_at.reset();
  never.error = "OCI runtime create failed: exec: \"nope\": executable file not found in $PATH";
  EXPECT_THAT(troubles(never, std::nullopt), ::testing::ElementsAre(Trouble::immediate_exit));
  never.exit_code = 0;
  EXPECT_TRUE(troubles(never, std::nullopt).empty());

  // Running again after a quick exit: its FinishedAt is older than StartedAt.
  auto again = container("again", "running", 1);
  again.finished_at = kNow - 3602;
  EXPECT_TRUE(troubles(again, std::nullopt).empty());
}

TEST(DiagnoseTroubles, EveryRuleIsKeptTheFirstIsTheRule) {
  auto c = exited_after("oom", 137, 1);
  c.oom_killed = true;
  c.restart_count = 5;
  EXPECT_THAT(troubles(c, std::nullopt),
              ::testing::ElementsAre(Trouble::oom_killed, Trouble::restart_loop, Trouble::immediate_exit));

  HostFacts f = quiet_host();
  auto loop = container("loop", "restarting", 3);
  loop.restart_count = 4;
  f.containers = std::vector{exited_after("quick", 1, 1), loop, c, container("fine", "running")};
  const auto r = build_report(f);
  ASSERT_EQ(r.containers.troubled.size(), 3u);
  EXPECT_EQ(r.containers.troubled[0].container.name, "oom");
  EXPECT_EQ(r.containers.troubled[0].rule(), Trouble::oom_killed);
  EXPECT_EQ(r.containers.troubled[1].container.name, "loop");
  EXPECT_EQ(r.containers.troubled[2].container.name, "quick");
  EXPECT_EQ(r.containers.inspected, 4u);
}

// ------------------------------------------------------------------ images and layers

TEST(DiagnoseImages, LargestFirstTiesByIdAtMostN) {
  docker::SystemDf df;
  for (int i = 0; i < 12; ++i) {
    docker::ImageSummary img;
    img.id = "sha256:" + std::string(1, char('a' + i));
    img.size = (i % 4) * 100;  // 0, 100, 200, 300, 0, ...
    df.images.push_back(img);
  }
  const auto top = largest_images(df, 10);
  ASSERT_EQ(top.size(), 10u);
  std::vector<std::string> ids;
  for (const auto* i : top) ids.push_back(i->id);
  EXPECT_THAT(ids, ::testing::ElementsAre("sha256:d", "sha256:h", "sha256:l", "sha256:c", "sha256:g", "sha256:k",
                                          "sha256:b", "sha256:f", "sha256:j", "sha256:a"));
  EXPECT_EQ(largest_images(df, 3).size(), 3u);
}

TEST(DiagnoseImages, ThreeLargestNonEmptyLayersNewestFirstAmongEquals) {
  std::vector<docker::ImageLayer> h = {{"l1", 5, "CMD [\"sh\"]", 0, {}},       {"l2", 0, "ENV A=b", 0, {}},
                                       {"l3", 5, "/bin/sh -c make", 300, {}}, {"l4", 0, "LABEL x=y", 0, {}},
                                       {"l5", 0, "", 900, {}},               {"l6", 0, "", 50, {}}};
  const auto top = largest_layers(h, 3);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].id, "l5");
  EXPECT_EQ(top[1].id, "l3");
  EXPECT_EQ(top[2].id, "l6");
  EXPECT_TRUE(largest_layers({{"z", 0, "", 0, {}}}, 3).empty());
}

TEST(DiagnoseImages, CreatedByOnOneShortLine) {
  EXPECT_EQ(short_created_by("/bin/sh -c #(nop)  CMD [\"sh\"]", 80), "CMD [\"sh\"]");
  EXPECT_EQ(short_created_by("/bin/sh -c apt-get update \\\n\t&& apt-get install -y curl", 80),
            "RUN apt-get update \\ && apt-get install -y curl");
  EXPECT_EQ(short_created_by("RUN /bin/sh -c dd if=/dev/zero of=/blob bs=1k count=300 # buildkit", 80),
            "RUN dd if=/dev/zero of=/blob bs=1k count=300");
  EXPECT_EQ(short_created_by("COPY dir:abc in / ", 80), "COPY dir:abc in /");
  EXPECT_EQ(short_created_by("", 80), "(no command recorded)");
  const std::string cut = short_created_by("RUN " + std::string(200, 'x'), 40);
  EXPECT_EQ(cut, "RUN " + std::string(35, 'x') + "\xE2\x80\xA6");
}

TEST(DiagnoseImages, FromTheEngineFixtures) {
  HostFacts f = quiet_host();
  f.df = docker::parse_system_df(read_fixture("engine/system_df.json"));
  const std::string built = f.df->images[0].id;
  ASSERT_EQ(f.df->images[0].repo_tags, (std::vector<std::string>{"cwobj-built:1", "cwobj-built:alias"}));
  f.history[built] = docker::parse_image_history(read_fixture("engine/image_history.json"));
  f.history_error[f.df->images[2].id] = "GET /v1.41/images/x/history: engine answered 404: no such image";
  const auto r = build_report(f);

  ASSERT_TRUE(r.disk.summary);
  EXPECT_EQ(*r.disk.summary, docker::summarize(*f.df));
  const auto& s = *r.disk.summary;
  EXPECT_EQ(r.disk.reclaimable_bytes, s.images.reclaimable_bytes + s.containers.reclaimable_bytes +
                                          s.volumes.reclaimable_bytes + s.build_cache.reclaimable_bytes);

  ASSERT_EQ(r.images.total, 3u);
  ASSERT_EQ(r.images.largest.size(), 3u);
  // Two images of the same size: by id.
  EXPECT_EQ(r.images.largest[0].id, built);
  EXPECT_EQ(r.images.largest[0].display_name(), "cwobj-built:1, cwobj-built:alias");
  EXPECT_EQ(r.images.largest[0].size_bytes, 2289515);
  EXPECT_EQ(r.images.largest[0].unique_size_bytes, 3);
  EXPECT_EQ(r.images.largest[0].containers, 2);
  ASSERT_EQ(r.images.largest[0].layers.size(), 3u);
  EXPECT_EQ(r.images.largest[0].layers[0].size_bytes, 1982312);
  EXPECT_EQ(r.images.largest[0].layers[0].created_by, "(no command recorded)");
  EXPECT_EQ(r.images.largest[0].layers[1].created_by, "RUN dd if=/dev/zero of=/blob bs=1k count=300 2>/dev/null");
  EXPECT_EQ(r.images.largest[0].layers[2].size_bytes, 3);
  EXPECT_THAT(r.images.largest[1].display_name(), ::testing::StartsWith("<none> a2a428a3d0d0"));
  EXPECT_EQ(r.images.largest[1].layers_error, "not read");
  EXPECT_THAT(r.images.largest[2].layers_error, HasSubstr("404"));

  const std::string text = text_of(r);
  EXPECT_THAT(text, HasSubstr("Largest images (3 of 3)"));
  EXPECT_THAT(text, HasSubstr("cwobj-built:1, cwobj-built:alias  size 2.2MiB, unique 3B, containers 2"));
  EXPECT_THAT(text, HasSubstr("could not read: history: GET /v1.41/images/x/history"));
}

TEST(DiagnoseVolumes, UnreferencedVolumesLargestFirst) {
  HostFacts f = quiet_host();
  f.df = docker::parse_system_df(read_fixture("engine/system_df.json"));
  auto r = build_report(f);
  EXPECT_EQ(r.volumes.unreferenced, 1u);
  EXPECT_EQ(r.volumes.unreferenced_bytes, 122880);
  ASSERT_EQ(r.volumes.largest_unreferenced.size(), 1u);
  EXPECT_EQ(r.volumes.largest_unreferenced[0].name, "cwobj-spare");
  EXPECT_THAT(text_of(r), HasSubstr("  unreferenced (no container uses them): 1 volume, 120KiB\n"
                                    "      120KiB  cwobj-spare\n"));

  for (int i = 0; i < 7; ++i) {
    docker::VolumeSummary v;
    v.name = std::string(64, char('0' + i));  // hex: anonymous
    v.size = i * 1000;
    v.ref_count = 0;
    f.df->volumes.push_back(v);
  }
  r = build_report(f);
  EXPECT_EQ(r.volumes.unreferenced, 8u);
  ASSERT_EQ(r.volumes.largest_unreferenced.size(), 5u);
  EXPECT_EQ(r.volumes.largest_unreferenced[0].name, "cwobj-spare");
  EXPECT_EQ(r.volumes.largest_unreferenced[1].size_bytes, 6000);
  EXPECT_TRUE(r.volumes.largest_unreferenced[1].anonymous);
  const std::string text = text_of(r);
  EXPECT_THAT(text, HasSubstr("5.9KiB  666666666666\xE2\x80\xA6 (anonymous)"));
  EXPECT_THAT(text, HasSubstr("(3 more: docker volume ls --filter dangling=true)"));
}

// ------------------------------------------------------------------ next steps

TEST(DiagnoseNextSteps, PruneDryRunAboveOneGiBOrTenPercentOfTheFilesystem) {
  auto with_reclaimable = [](std::int64_t bytes, std::uint64_t fs_size) {
    HostFacts f = quiet_host();
    docker::VolumeSummary v;
    v.name = "spare";
    v.size = bytes;
    v.ref_count = 0;
    f.df->volumes.push_back(v);
    f.filesystem = disk::FilesystemUsage{.size_bytes = fs_size, .avail_bytes = fs_size / 2};
    return build_report(f);
  };
  const std::uint64_t big_fs = 1000 * std::uint64_t(kGiB);
  EXPECT_FALSE(has_step(with_reclaimable(kGiB, big_fs), "composewatch prune --dry-run"));
  EXPECT_TRUE(has_step(with_reclaimable(kGiB + 1, big_fs), "composewatch prune --dry-run"));
  const std::uint64_t small_fs = 5 * std::uint64_t(kGiB);  // 10% = 512MiB
  EXPECT_FALSE(has_step(with_reclaimable(500 * kMiB, small_fs), "composewatch prune --dry-run"));
  EXPECT_TRUE(has_step(with_reclaimable(600 * kMiB, small_fs), "composewatch prune --dry-run"));
  // No filesystem figures: the absolute threshold alone.
  HostFacts f = quiet_host();
  f.filesystem.reset();
  docker::VolumeSummary v;
  v.size = 600 * kMiB;
  v.ref_count = 0;
  f.df->volumes.push_back(v);
  EXPECT_FALSE(has_step(build_report(f), "prune"));

  const auto r = with_reclaimable(2 * kGiB, big_fs);
  EXPECT_THAT(steps_of(r), HasSubstr("2GiB is reclaimable"));
  EXPECT_THAT(steps_of(r), HasSubstr("no prune policies are configured"));
}

TEST(DiagnoseNextSteps, LowFilesystemWarnsAndPointsAtTheSpace) {
  HostFacts f = quiet_host();
  f.filesystem = disk::FilesystemUsage{.size_bytes = 100 * std::uint64_t(kGiB), .avail_bytes = 9 * std::uint64_t(kGiB)};
  const auto low = build_report(f);
  EXPECT_TRUE(low.filesystem.low);
  EXPECT_TRUE(has_step(low, "du -xh --max-depth=1 /var/lib/docker"));
  EXPECT_THAT(text_of(low), HasSubstr("WARNING: less than 10% free"));

  f.filesystem->avail_bytes = 11 * std::uint64_t(kGiB);
  const auto fine = build_report(f);
  EXPECT_FALSE(fine.filesystem.low);
  EXPECT_FALSE(has_step(fine, "du -xh"));
  EXPECT_THAT(text_of(fine), Not(HasSubstr("WARNING")));
}

TEST(DiagnoseNextSteps, EachTroubledContainerGetsItsCommands) {
  HostFacts f = quiet_host();
  auto oom_compose = exited_after("shop_api_1", 137, 3);
  oom_compose.oom_killed = true;
  oom_compose.spec.memory_limit = 64 * kMiB;
  compose_labels(oom_compose, "shop", "api");
  auto oom_plain = exited_after("worker", 137, 3);
  oom_plain.oom_killed = true;
  oom_plain.spec.memory_limit = 16 * kMiB;
  auto oom_unlimited = exited_after("hog", 137, 3);
  oom_unlimited.oom_killed = true;
  auto loop = container("looper", "restarting", 3);
  loop.restart_count = 7;
  auto quick = exited_after("quick", 2, 1);
  quick.error = "something went wrong";
  f.containers = std::vector{oom_compose, oom_plain, oom_unlimited, loop, quick};
  compose::Service api;
  api.image = "busybox:1";
  f.projects = std::vector{project("shop", {{"api", api}})};
  const auto r = build_report(f);
  const std::string steps = steps_of(r);

  for (const char* name : {"shop_api_1", "worker", "hog", "looper", "quick"})
    EXPECT_TRUE(has_step(r, std::string("docker logs --tail 100 ") + name)) << name << "\n" << steps;
  EXPECT_THAT(steps, HasSubstr("raise mem_limit (or deploy.resources.limits.memory) of service api at "
                               "/srv/shop/docker-compose.yml:3 above its 64MiB"));
  EXPECT_TRUE(has_step(r, "docker-compose -p shop -f /srv/shop/docker-compose.yml up -d api"));
  EXPECT_TRUE(has_step(r, "docker update --memory 32m --memory-swap 32m worker"));
  EXPECT_THAT(steps, HasSubstr("no memory limit, so the host itself ran out of memory"));
  EXPECT_TRUE(has_step(r, "docker inspect looper --format"));
  EXPECT_TRUE(has_step(r, "docker inspect quick --format '{{.State.Error}}'"));
  EXPECT_FALSE(has_step(r, "docker inspect hog --format '{{.State.Error}}'"));  // no State.Error to show
  // One line per command.
  std::set<std::string> commands;
  for (const auto& s : r.next_steps)
    if (!s.command.empty()) EXPECT_TRUE(commands.insert(s.command).second) << s.command;
}

TEST(DiagnoseNextSteps, DestructiveCommandsCarryACaution) {
  HostFacts f = quiet_host();
  docker::VolumeSummary old;
  old.name = "shop_old";
  old.size = 4096;
  old.ref_count = 0;
  old.labels = {{"com.docker.compose.project", "shop"}, {"com.docker.compose.volume", "old"}};
  f.df->volumes.push_back(old);
  auto oom = exited_after("shop_api_1", 137, 3);
  oom.oom_killed = true;
  oom.spec.memory_limit = 64 * kMiB;
  compose_labels(oom, "shop", "api");
  compose::Service api;
  f.projects = std::vector{project("shop", {{"api", api}}, {"data"})};
  f.containers = std::vector{oom};
  const auto r = build_report(f);
  ASSERT_EQ(r.volumes.findings.size(), 1u);
  EXPECT_EQ(r.volumes.findings[0].check, "orphan-volume");
  ASSERT_TRUE(has_step(r, "docker volume rm shop_old")) << steps_of(r);
  for (const auto& s : r.next_steps) {
    const bool changes = s.command.find(" rm ") != std::string::npos || s.command.find(" up ") != std::string::npos ||
                         s.command.find("update") != std::string::npos ||
                         (s.command.find("prune") != std::string::npos && s.command.find("--dry-run") == std::string::npos);
    if (changes) EXPECT_FALSE(s.caution.empty()) << s.command;
  }
  for (const auto& s : r.next_steps)
    if (s.command == "docker volume rm shop_old") EXPECT_THAT(s.caution, HasSubstr("back it up first"));
  EXPECT_THAT(text_of(r), HasSubstr("careful: deletes the volume's data for good"));
}

TEST(DiagnoseNextSteps, NothingToDoOnAQuietHost) {
  const auto r = build_report(quiet_host());
  EXPECT_TRUE(r.next_steps.empty()) << steps_of(r);
  EXPECT_THAT(text_of(r), HasSubstr("nothing stands out"));
}

// ------------------------------------------------------------------ compose

TEST(DiagnoseCompose, DriftOrphansLintOrTheLoadError) {
  HostFacts f = quiet_host();
  compose::Service api;
  api.image = "shop/api:2";
  auto shop = project("shop", {{"api", api}});
  shop.findings.push_back({"no-memory-limit", "api", {}, "no limit"});
  compose::ProjectState broken;
  broken.name = "blog";
  broken.source.name = "blog";
  broken.source.configured = true;
  broken.error = "/srv/blog/docker-compose.yml:4: mapping values are not allowed here";
  auto c1 = container("shop_api_1", "running");
  c1.spec.image = "shop/api:1";
  compose_labels(c1, "shop", "api");
  auto c2 = container("shop_old_1", "running");
  compose_labels(c2, "shop", "old");
  f.containers = std::vector{c1, c2};
  f.projects = std::vector{shop, broken};
  auto r = build_report(f);
  ASSERT_EQ(r.compose.projects.size(), 2u);
  EXPECT_EQ(r.compose.projects[0].drift, 1u);
  EXPECT_EQ(r.compose.projects[0].orphans, 1u);
  EXPECT_EQ(r.compose.projects[0].lint, 1u);
  EXPECT_FALSE(r.compose.projects[1].valid);
  EXPECT_FALSE(r.compose.projects[1].drift);
  EXPECT_TRUE(has_step(r, "composewatch check"));
  EXPECT_THAT(steps_of(r), HasSubstr("shop: 1 drift, 1 orphan(s), 1 lint finding(s); blog could not be loaded"));
  EXPECT_THAT(text_of(r), HasSubstr("could not load: /srv/blog/docker-compose.yml:4: mapping values"));

  // Without the containers nothing is compared.
  f.containers.reset();
  f.containers_error = "GET /v1.41/containers/json: no answer within 30s";
  r = build_report(f);
  EXPECT_FALSE(r.compose.projects[0].drift);
  EXPECT_FALSE(r.compose.projects[0].orphans);
}

// ------------------------------------------------------------------ an unreachable engine

TEST(DiagnoseUnreachable, SaysSoFirstAndWhatToCheck) {
  HostFacts f;
  f.now = kNow;
  f.docker_host = "unix:///nonexistent.sock";
  f.engine_problem = EngineProblem::unreachable;
  f.engine_error = "cannot connect to the Docker engine at unix:///nonexistent.sock: no such socket (is dockerd running?)";
  f.filesystem_path = "/var/lib/docker";
  f.filesystem = disk::FilesystemUsage{.size_bytes = 10 * std::uint64_t(kGiB), .avail_bytes = std::uint64_t(kGiB) / 2};
  f.projects = std::vector<compose::ProjectState>{};
  const auto r = build_report(f);
  EXPECT_FALSE(r.engine.reachable);
  EXPECT_EQ(r.disk.error, "the engine did not answer");
  EXPECT_EQ(r.containers.error, "the engine did not answer");
  EXPECT_TRUE(r.filesystem.path_assumed);
  EXPECT_TRUE(r.filesystem.low);
  ASSERT_FALSE(r.next_steps.empty());
  EXPECT_EQ(r.next_steps[0].command, "systemctl status docker");
  EXPECT_TRUE(has_step(r, "ls -l /nonexistent.sock; id"));

  const std::string text = text_of(r);
  const auto first_section = text.find("\n== ");
  ASSERT_NE(first_section, std::string::npos);
  EXPECT_EQ(text.find("== Engine\n  ENGINE UNREACHABLE: cannot connect"), first_section + 1) << text;
  EXPECT_THAT(text, HasSubstr("could not read: the engine did not answer"));
  EXPECT_THAT(text, HasSubstr("(the default root dir; the engine did not say)"));

  const auto doc = json_of(r);
  EXPECT_FALSE(doc.at("engine").at("reachable").as_bool());
  EXPECT_THAT(std::string(doc.at("engine").at("error").as_string()), HasSubstr("no such socket"));
  EXPECT_TRUE(doc.at("disk").at("kinds").is_null());

  // Permission first when that is what it is.
  f.engine_problem = EngineProblem::permission_denied;
  EXPECT_EQ(build_report(f).next_steps[0].command, "ls -l /nonexistent.sock; id");
  f.docker_host = "tcp://10.0.0.5:2375";
  f.engine_problem = EngineProblem::timeout;
  EXPECT_TRUE(has_step(build_report(f), "docker -H tcp://10.0.0.5:2375 version"));
}

TEST(DiagnoseUnreachable, ASectionThatFailedSaysWhyAndTheOthersStay) {
  HostFacts f = quiet_host();
  f.df.reset();
  f.df_error = "GET /v1.41/system/df on unix:///var/run/docker.sock: no answer within 120s";
  f.containers = std::vector{exited_after("quick", 1, 1)};
  const auto r = build_report(f);
  EXPECT_TRUE(r.engine.reachable);
  EXPECT_EQ(r.disk.error, f.df_error);
  EXPECT_EQ(r.images.error, f.df_error);
  EXPECT_EQ(r.volumes.error, f.df_error);
  EXPECT_EQ(r.containers.troubled.size(), 1u);
  EXPECT_THAT(text_of(r), HasSubstr("could not read: GET /v1.41/system/df"));
}

// ------------------------------------------------------------------ rendering

TEST(DiagnoseRender, TerminalSafeLogLines) {
  EXPECT_EQ(terminal_safe("plain text"), "plain text");
  EXPECT_EQ(terminal_safe("\x1b[31mred\x1b[0m done"), "red done");
  EXPECT_EQ(terminal_safe("bell\x07 and \x1b]0;title\x07"), "bell\\x07 and \\x1b]0;title\\x07");
  EXPECT_EQ(terminal_safe("a\tb\rc"), "a b\\x0dc");
  EXPECT_EQ(terminal_safe("caf\xC3\xA9 \xFF"), "caf\xC3\xA9 \\xff");
  EXPECT_EQ(terminal_safe("c1 \xC2\x9B" "2J"), "c1 \\x9b2J");
  EXPECT_EQ(rfc3339(kNow), "2027-01-15T08:00:00Z");
}

TEST(DiagnoseRender, TroubledContainersWithLabelledLogLines) {
  HostFacts f = quiet_host();
  auto quick = exited_after("quick", 3, 0.5);
  compose_labels(quick, "shop", "migrate");
  f.containers = std::vector{quick};
  f.logs[quick.id] = {{docker::LogLine::Stream::stdout_, "starting migration"},
                      {docker::LogLine::Stream::stderr_, "\x1b[1mfatal:\x1b[0m table \x01missing"}};
  auto r = build_report(f, {}, 20);
  const std::string text = text_of(r);
  EXPECT_THAT(text, HasSubstr("  Immediate exits\n    quick (project shop, service migrate)\n"
                              "      state exited, exit code 3, restarts 0, memory limit none, ran 0.5s, exited 2m ago"));
  EXPECT_THAT(text, HasSubstr("      last 2 log lines:\n        stdout | starting migration\n"
                              "        stderr | fatal: table \\x01missing\n"));
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (line.find(" | ") == std::string::npos) EXPECT_LE(line.size(), 120u) << line;

  f.logs.clear();
  f.logs_error[quick.id] = "GET /v1.41/containers/x/logs: engine answered 500: boom";
  EXPECT_THAT(text_of(build_report(f)), HasSubstr("logs: could not read: GET /v1.41/containers/x/logs"));
}

TEST(DiagnoseRender, LongValuesWrapAt120Columns) {
  HostFacts f = quiet_host();
  auto never = container("never", "created", 127);
  never.error = "OCI runtime create failed: container_linux.go:380: starting container process caused: exec: "
                "\"/definitely/not/here/and/a/rather/long/path/to/make/the/line/longer\": stat "
                "/definitely/not/here: no such file or directory: unknown";
  f.containers = std::vector{never};
  docker::VolumeSummary old;
  old.name = "shop_old";
  old.size = 1;
  old.ref_count = 0;
  old.labels = {{"com.docker.compose.project", "shop"}, {"com.docker.compose.volume", "old"}};
  f.df->volumes.push_back(old);
  f.projects = std::vector{project("shop", {}, {})};
  const std::string text = text_of(build_report(f));
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (line.find("$ ") == std::string::npos) EXPECT_LE(line.size(), 120u) << line;
  EXPECT_THAT(text, HasSubstr("error: OCI runtime create failed"));
}

TEST(DiagnoseRender, JsonKeysAreStable) {
  HostFacts f = quiet_host();
  f.df = docker::parse_system_df(read_fixture("engine/system_df.json"));
  f.history[f.df->images[0].id] = docker::parse_image_history(read_fixture("engine/image_history.json"));
  auto oom = exited_after("oom", 137, 1);
  oom.oom_killed = true;
  oom.spec.memory_limit = 16 * kMiB;
  f.containers = std::vector{oom};
  f.logs[oom.id] = {{docker::LogLine::Stream::stdout_, "start"}, {docker::LogLine::Stream::stderr_, "bad \xFF byte"}};
  compose::Service api;
  f.projects = std::vector{project("shop", {{"api", api}})};
  const auto doc = json_of(build_report(f));

  auto keys = [](const boost::json::object& o) {
    std::set<std::string> k;
    for (const auto& kv : o) k.insert(std::string(kv.key()));
    return k;
  };
  using S = std::set<std::string>;
  EXPECT_EQ(keys(doc), (S{"generated_at", "docker_host", "engine", "disk", "filesystem", "images", "volumes",
                          "containers", "compose", "image_checklist", "next_steps"}));
  EXPECT_EQ(keys(doc.at("image_checklist").as_object()), (S{"error", "services"}));
  EXPECT_EQ(doc.at("generated_at").as_string(), "2027-01-15T08:00:00Z");
  EXPECT_EQ(keys(doc.at("engine").as_object()), (S{"reachable", "error", "version", "api_version", "root_dir", "info_error"}));
  EXPECT_EQ(keys(doc.at("disk").as_object()), (S{"error", "kinds", "reclaimable_bytes"}));
  const auto& images_kind = doc.at("disk").at("kinds").at("images").as_object();
  EXPECT_EQ(keys(images_kind), (S{"size_bytes", "reclaimable_bytes", "objects", "active"}));
  EXPECT_EQ(images_kind.at("size_bytes").as_int64(), 2289518);
  EXPECT_EQ(keys(doc.at("disk").at("kinds").as_object()), (S{"images", "containers", "volumes", "build_cache"}));
  EXPECT_EQ(keys(doc.at("filesystem").as_object()),
            (S{"error", "path", "path_assumed", "low", "size_bytes", "avail_bytes", "free_percent"}));
  EXPECT_DOUBLE_EQ(doc.at("filesystem").at("free_percent").as_double(), 60.0);
  const auto& img = doc.at("images").at("largest").at(0).as_object();
  EXPECT_EQ(keys(img), (S{"id", "tags", "size_bytes", "unique_size_bytes", "containers", "layers", "layers_error"}));
  EXPECT_EQ(keys(img.at("layers").at(0).as_object()), (S{"id", "size_bytes", "created_by"}));
  EXPECT_EQ(img.at("size_bytes").as_int64(), 2289515);
  EXPECT_EQ(keys(doc.at("volumes").as_object()), (S{"error", "findings", "unreferenced"}));
  EXPECT_EQ(keys(doc.at("volumes").at("unreferenced").as_object()), (S{"count", "size_bytes", "largest"}));
  EXPECT_EQ(keys(doc.at("volumes").at("unreferenced").at("largest").at(0).as_object()),
            (S{"volume", "project", "size_bytes", "anonymous"}));
  const auto& c = doc.at("containers").at("troubled").at(0).as_object();
  EXPECT_EQ(keys(c), (S{"name", "id", "image", "project", "service", "rule", "reasons", "state", "exit_code", "error",
                        "restart_count", "restart_policy", "oom_killed", "cgroup_oom_kills", "memory_limit_bytes",
                        "started_at", "finished_at", "compose_location", "logs", "logs_error"}));
  EXPECT_EQ(c.at("rule").as_string(), "oom_killed");
  EXPECT_EQ(c.at("exit_code").as_int64(), 137);
  EXPECT_EQ(c.at("memory_limit_bytes").as_int64(), 16 * kMiB);
  EXPECT_EQ(c.at("started_at").as_string(), "2027-01-15T07:58:20Z");
  EXPECT_EQ(c.at("logs").at(1).at("stream").as_string(), "stderr");
  EXPECT_EQ(c.at("logs").at(1).at("text").as_string(), "bad \xEF\xBF\xBD byte");
  EXPECT_EQ(keys(doc.at("compose").at("projects").at(0).as_object()),
            (S{"project", "files", "source", "valid", "skipped", "error", "drift", "orphans", "lint"}));
  ASSERT_FALSE(doc.at("next_steps").as_array().empty());
  EXPECT_EQ(keys(doc.at("next_steps").at(0).as_object()), (S{"why", "command", "caution"}));
}

// ------------------------------------------------------------------ options

TEST(DiagnoseOptions, LogsIsAWholeNumberOfLines) {
  auto opts = [](std::vector<std::string> args) {
    args.insert(args.begin(), "diagnose");
    return diagnose_options(config::parse_command_line(args));
  };
  // Without --logs the default was read after its temporary died (ASan: stack-use-after-scope).
  EXPECT_EQ(opts({}).log_lines, 20u);
  EXPECT_EQ(opts({}).format, "text");
  EXPECT_EQ(opts({"--logs=0"}).log_lines, 0u);
  EXPECT_EQ(opts({"--logs", "50", "--format=json"}).log_lines, 50u);
  EXPECT_EQ(opts({"--format=json"}).format, "json");
  EXPECT_THROW(opts({"--logs=ten"}), config::UsageError);
  EXPECT_THROW(opts({"--logs=5x"}), config::UsageError);
  EXPECT_THROW(opts({"--logs=100000"}), config::UsageError);
}
