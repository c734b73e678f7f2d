// Drift comparisons on constructed models and inspect values.

#include <gtest/gtest.h>

#include <functional>

#include "composewatch/compose/drift.h"

using namespace composewatch::compose;
using composewatch::docker::LiveContainer;
using composewatch::docker::live_container;
using composewatch::docker::HealthcheckConfig;
using composewatch::docker::RestartPolicy;

namespace {

constexpr std::int64_t MiB = 1024 * 1024;

Service service(const std::string& name, const std::string& image = "composewatch-test/busybox:1") {
  Service s;
  s.name = name;
  s.image = image;
  s.location = {"/srv/shop/docker-compose.yml", 3};
  return s;
}

LiveContainer container(const std::string& project, const std::string& svc, int n, const std::string& image,
                        const std::string& state = "running") {
  LiveContainer c;
  c.spec.compose.project = project;
  c.spec.compose.service = svc;
  c.name = project + "_" + svc + "_" + std::to_string(n);
  c.spec.image = image;
  c.state = state;
  c.spec.restart_policy = {"no", 0};
  return c;
}

const ServiceDrift* find(const ProjectDrift& d, const std::string& svc) {
  for (const auto& s : d.services)
    if (s.service == svc) return &s;
  return nullptr;
}

std::optional<bool> field(const ServiceDrift& s, DriftField f) {
  for (const auto& [k, v] : s.fields)
    if (k == f) return v;
  return std::nullopt;
}

}  // namespace

TEST(DriftImage, NormalisesReferences) {
  EXPECT_EQ(normalize_image_ref("busybox"), "busybox:latest");
  EXPECT_EQ(normalize_image_ref("docker.io/library/busybox:1"), "busybox:1");
  EXPECT_EQ(normalize_image_ref("library/busybox"), "busybox:latest");
  EXPECT_EQ(normalize_image_ref("registry:5000/team/app"), "registry:5000/team/app:latest");
  EXPECT_EQ(normalize_image_ref("registry:5000/team/app:2"), "registry:5000/team/app:2");
  EXPECT_EQ(normalize_image_ref("app@sha256:abc"), "app@sha256:abc");
}

TEST(DriftImage, ComparesDeclaredAndLiveReferences) {
  Service s = service("api", "composewatch-test/busybox:1");
  EXPECT_FALSE(image_drift("shop", s, "composewatch-test/busybox:1"));
  auto d = image_drift("shop", s, "composewatch-test/busybox:2");
  ASSERT_TRUE(d);
  EXPECT_NE(d->find("composewatch-test/busybox:2"), std::string::npos) << *d;
  s.image = "busybox";
  EXPECT_FALSE(image_drift("shop", s, "docker.io/library/busybox:latest"));
}

TEST(DriftImage, BuildOnlyServiceExpectsComposesImageName) {
  Service s = service("api", "");
  s.has_build = true;
  EXPECT_FALSE(image_drift("shop", s, "shop_api"));         // Compose v1
  EXPECT_FALSE(image_drift("shop", s, "shop-api"));         // Compose v2
  EXPECT_FALSE(image_drift("shop", s, "shop_api:latest"));
  EXPECT_TRUE(image_drift("shop", s, "shop_worker"));
  EXPECT_TRUE(image_drift("shop", s, "composewatch-test/busybox:1"));
  // build and image: the image is the name of the build's result.
  s.image = "shop/api:2";
  EXPECT_FALSE(image_drift("shop", s, "shop/api:2"));
  EXPECT_TRUE(image_drift("shop", s, "shop_api"));
}

TEST(DriftMemory, NoneMatchesZeroAndValuesMustBeEqual) {
  EXPECT_FALSE(memory_drift(std::nullopt, 0));
  EXPECT_FALSE(memory_drift(64 * MiB, 64 * MiB));
  auto d = memory_drift(64 * MiB, 0);
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, "declared 64MiB, container has none");
  EXPECT_EQ(memory_drift(std::nullopt, 32 * MiB).value_or(""), "declared none, container has 32MiB");
  EXPECT_TRUE(memory_drift(64 * MiB, 32 * MiB));
}

TEST(DriftHealthcheck, UndeclaredIsNotCompared) {
  EXPECT_FALSE(healthcheck_drift(std::nullopt, std::nullopt));
  EXPECT_FALSE(healthcheck_drift(std::nullopt, HealthcheckConfig{{"CMD", "true"}, 0, 0, 0, 0}));
}

TEST(DriftHealthcheck, PresenceMatters) {
  Healthcheck h;
  h.test = {"CMD-SHELL", "true"};
  EXPECT_TRUE(healthcheck_drift(h, std::nullopt));
  EXPECT_TRUE(healthcheck_drift(h, HealthcheckConfig{{"NONE"}, 0, 0, 0, 0}));
  EXPECT_FALSE(healthcheck_drift(h, HealthcheckConfig{{"CMD-SHELL", "true"}, 0, 0, 0, 0}));
}

TEST(DriftHealthcheck, DisabledMatchesNoneOrNoHealthcheck) {
  Healthcheck off;
  off.disabled = true;
  EXPECT_FALSE(healthcheck_drift(off, std::nullopt));
  EXPECT_FALSE(healthcheck_drift(off, HealthcheckConfig{{"NONE"}, 0, 0, 0, 0}));
  EXPECT_TRUE(healthcheck_drift(off, HealthcheckConfig{{"CMD", "true"}, 0, 0, 0, 0}));
  Healthcheck none_test;
  none_test.test = {"NONE"};
  EXPECT_FALSE(healthcheck_drift(none_test, HealthcheckConfig{{"NONE"}, 0, 0, 0, 0}));
}

TEST(DriftHealthcheck, ComparesTheTest) {
  Healthcheck h;
  h.test = {"CMD-SHELL", "pg_isready"};
  auto d = healthcheck_drift(h, HealthcheckConfig{{"CMD", "pg_isready"}, 0, 0, 0, 0});
  ASSERT_TRUE(d);
  EXPECT_NE(d->find("test"), std::string::npos) << *d;
  // A healthcheck that sets only durations keeps the image's test.
  Healthcheck only_interval;
  only_interval.interval_seconds = 30;
  EXPECT_FALSE(healthcheck_drift(only_interval, HealthcheckConfig{{"CMD", "x"}, 0, 0, 0, 0}));
}

TEST(DriftHealthcheck, DurationsAreNanosecondsAndZeroIsTheDefault) {
  Healthcheck h;
  h.test = {"CMD", "true"};
  const HealthcheckConfig defaults{{"CMD", "true"}, 0, 0, 0, 0};
  EXPECT_FALSE(healthcheck_drift(h, defaults));
  h.interval_seconds = 30;  // the default, written out
  h.timeout_seconds = 30;
  h.retries = 3;
  h.start_period_seconds = 0;
  EXPECT_FALSE(healthcheck_drift(h, defaults));

  h.interval_seconds = 5;
  auto d = healthcheck_drift(h, defaults);
  ASSERT_TRUE(d);
  EXPECT_NE(d->find("interval 5s vs 30s"), std::string::npos) << *d;
  EXPECT_FALSE(healthcheck_drift(h, HealthcheckConfig{{"CMD", "true"}, 5'000'000'000, 0, 0, 0}));
  EXPECT_TRUE(healthcheck_drift(h, HealthcheckConfig{{"CMD", "true"}, 5'000'000, 0, 0, 0}));  // 5 ms

  Healthcheck t = h;
  t.interval_seconds.reset();
  t.timeout_seconds = 1.5;
  EXPECT_TRUE(healthcheck_drift(t, defaults));
  EXPECT_FALSE(healthcheck_drift(t, HealthcheckConfig{{"CMD", "true"}, 0, 1'500'000'000, 0, 0}));

  Healthcheck r;
  r.test = {"CMD", "true"};
  r.retries = 5;
  EXPECT_TRUE(healthcheck_drift(r, defaults));
  EXPECT_FALSE(healthcheck_drift(r, HealthcheckConfig{{"CMD", "true"}, 0, 0, 0, 5}));

  Healthcheck sp;
  sp.test = {"CMD", "true"};
  sp.start_period_seconds = 20;
  EXPECT_TRUE(healthcheck_drift(sp, defaults));
  EXPECT_FALSE(healthcheck_drift(sp, HealthcheckConfig{{"CMD", "true"}, 0, 0, 20'000'000'000, 0}));
}

TEST(DriftRestart, MapsComposeOntoTheEnginePolicy) {
  Service s = service("api");
  EXPECT_FALSE(restart_drift(s, {"", 0}));    // not declared ↔ none
  EXPECT_FALSE(restart_drift(s, {"no", 0}));
  EXPECT_TRUE(restart_drift(s, {"always", 0}));
  s.restart = "no";
  EXPECT_FALSE(restart_drift(s, {"", 0}));
  s.restart = "always";
  EXPECT_FALSE(restart_drift(s, {"always", 0}));
  EXPECT_EQ(restart_drift(s, {"no", 0}).value_or(""), "declared always, container has no");
  s.restart = "unless-stopped";
  EXPECT_FALSE(restart_drift(s, {"unless-stopped", 0}));
  EXPECT_TRUE(restart_drift(s, {"always", 0}));
  s.restart = "on-failure:3";
  EXPECT_FALSE(restart_drift(s, {"on-failure", 3}));
  EXPECT_TRUE(restart_drift(s, {"on-failure", 5}));
  s.restart = "on-failure";
  EXPECT_FALSE(restart_drift(s, {"on-failure", 0}));
}

TEST(DriftRestart, DeployRestartPolicyWhenNoRestartKey) {
  Service s = service("api");
  s.deploy_restart_condition = "any";
  EXPECT_EQ(declared_restart_policy(s), (RestartPolicy{"always", 0}));
  s.deploy_restart_condition = "on-failure";
  s.deploy_restart_max_attempts = 4;
  EXPECT_EQ(declared_restart_policy(s), (RestartPolicy{"on-failure", 4}));
  s.deploy_restart_condition = "none";
  EXPECT_EQ(declared_restart_policy(s), (RestartPolicy{"no", 0}));
  s.restart = "always";  // restart: wins
  EXPECT_EQ(declared_restart_policy(s), (RestartPolicy{"always", 0}));
}

TEST(DriftProject, MatchingProjectHasNoDrift) {
  Project p;
  p.name = "shop";
  Service api = service("api");
  api.replicas = 2;
  api.memory_limit_bytes = 64 * MiB;
  p.services["api"] = api;
  std::vector<LiveContainer> live = {container("shop", "api", 1, api.image), container("shop", "api", 2, api.image)};
  for (auto& c : live) c.spec.memory_limit = 64 * MiB;
  ProjectDrift d = compare_project(p, live);
  ASSERT_EQ(d.services.size(), 1u);
  const ServiceDrift& s = d.services.front();
  EXPECT_EQ(s.desired, 2);
  EXPECT_EQ(s.running, 2);
  EXPECT_EQ(s.memory_limit_bytes, 64 * MiB);
  EXPECT_EQ(s.fields.size(), kDriftFields.size());
  for (const auto& [f, differs] : s.fields) EXPECT_FALSE(differs) << field_name(f);
  EXPECT_TRUE(s.details.empty());
  EXPECT_TRUE(d.orphans.empty());
}

TEST(DriftProject, EachFieldIsReportedByTheContainerThatDiffers) {
  Project p;
  p.name = "shop";
  Service api = service("api");
  api.replicas = 2;
  api.memory_limit_bytes = 64 * MiB;
  api.memory_reservation_bytes = 32 * MiB;
  api.restart = "always";
  api.healthcheck = Healthcheck{{"CMD", "true"}, 5, std::nullopt, std::nullopt, std::nullopt, false};
  p.services["api"] = api;
  LiveContainer good = container("shop", "api", 1, api.image);
  good.spec.memory_limit = 64 * MiB;
  good.spec.memory_reservation = 32 * MiB;
  good.spec.restart_policy = {"always", 0};
  good.spec.healthcheck = HealthcheckConfig{{"CMD", "true"}, 5'000'000'000, 0, 0, 0};
  ASSERT_TRUE(container_drift("shop", api, good).empty());

  struct Case {
    DriftField field;
    std::function<void(LiveContainer&)> change;
  };
  const std::vector<Case> cases = {
      {DriftField::image, [](LiveContainer& c) { c.spec.image = "composewatch-test/busybox:2"; }},
      {DriftField::memory_limit, [](LiveContainer& c) { c.spec.memory_limit = 0; }},
      {DriftField::memory_reservation, [](LiveContainer& c) { c.spec.memory_reservation = 16 * MiB; }},
      {DriftField::healthcheck, [](LiveContainer& c) { c.spec.healthcheck.reset(); }},
      {DriftField::restart_policy, [](LiveContainer& c) { c.spec.restart_policy = {"no", 0}; }},
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(std::string(field_name(k.field)));
    LiveContainer bad = container("shop", "api", 2, api.image);
    bad.spec.memory_limit = good.spec.memory_limit;
    bad.spec.memory_reservation = good.spec.memory_reservation;
    bad.spec.restart_policy = good.spec.restart_policy;
    bad.spec.healthcheck = good.spec.healthcheck;
    k.change(bad);
    ProjectDrift d = compare_project(p, {good, bad});
    const ServiceDrift* s = find(d, "api");
    ASSERT_TRUE(s);
    for (DriftField f : kDriftFields) EXPECT_EQ(field(*s, f), f == k.field) << field_name(f);
    ASSERT_EQ(s->details.size(), 1u);
    EXPECT_EQ(s->details.front().container, "shop_api_2");
  }
}

TEST(DriftProject, ReplicasCountRunningNonOneoffContainers) {
  Project p;
  p.name = "shop";
  Service api = service("api");
  api.replicas = 3;
  p.services["api"] = api;
  std::vector<LiveContainer> live = {container("shop", "api", 1, api.image),
                                     container("shop", "api", 2, api.image, "exited"),
                                     container("shop", "api", 3, api.image)};
  LiveContainer run = container("shop", "api", 4, api.image);
  run.spec.compose.oneoff = true;  // docker-compose run: not a replica
  live.push_back(run);
  live.push_back(container("other", "api", 1, api.image));  // another project
  ProjectDrift d = compare_project(p, live);
  const ServiceDrift* s = find(d, "api");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->desired, 3);
  EXPECT_EQ(s->running, 2);
  EXPECT_EQ(field(*s, DriftField::replicas), true);
  EXPECT_TRUE(d.orphans.empty());
}

TEST(DriftProject, ProjectThatIsDownReportsDesiredAndOnlyReplicas) {
  Project p;
  p.name = "shop";
  Service api = service("api");
  api.replicas = 2;
  p.services["api"] = api;
  ProjectDrift d = compare_project(p, {});
  const ServiceDrift* s = find(d, "api");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->desired, 2);
  EXPECT_EQ(s->running, 0);
  ASSERT_EQ(s->fields.size(), 1u);  // nothing to compare the configuration with
  EXPECT_EQ(field(*s, DriftField::replicas), true);
}

TEST(DriftProject, ProfileDisabledServicesAreNotDesired) {
  Project p;
  p.name = "shop";
  p.services["api"] = service("api");
  p.inactive_services["jobs"] = service("jobs");
  p.inactive_services["debug"] = service("debug");
  std::vector<LiveContainer> live = {container("shop", "api", 1, "composewatch-test/busybox:1"),
                                     container("shop", "jobs", 1, "composewatch-test/busybox:1")};
  ProjectDrift d = compare_project(p, live);
  EXPECT_FALSE(find(d, "debug"));  // disabled and absent: not reported
  const ServiceDrift* jobs = find(d, "jobs");
  ASSERT_TRUE(jobs);
  EXPECT_EQ(jobs->desired, 0);
  EXPECT_EQ(jobs->running, 1);
  EXPECT_EQ(field(*jobs, DriftField::replicas), true);
  EXPECT_TRUE(d.orphans.empty());  // a disabled service is still declared

  // Known only from labels: the profile was evidently enabled.
  d = compare_project(p, live, {.profiles_known = false});
  jobs = find(d, "jobs");
  ASSERT_TRUE(jobs);
  EXPECT_EQ(jobs->desired, 1);
  EXPECT_EQ(field(*jobs, DriftField::replicas), false);
}

TEST(DriftProject, ContainersOfUndeclaredServicesAreOrphans) {
  Project p;
  p.name = "shop";
  p.services["api"] = service("api");
  std::vector<LiveContainer> live = {container("shop", "api", 1, "composewatch-test/busybox:1"),
                                     container("shop", "old", 1, "composewatch-test/busybox:1")};
  LiveContainer run = container("shop", "gone", 1, "x");
  run.spec.compose.oneoff = true;
  live.push_back(run);
  ProjectDrift d = compare_project(p, live);
  ASSERT_EQ(d.orphans.size(), 1u);
  EXPECT_EQ(d.orphans.front().service, "old");
  EXPECT_EQ(d.orphans.front().container, "shop_old_1");
  EXPECT_FALSE(find(d, "old"));
}

TEST(DriftProject, ComposeLabelsAreReadOnceFromTheLabels) {
  const auto labels = composewatch::docker::ComposeLabels::from({{"com.docker.compose.project", "shop"},
                                                                 {"com.docker.compose.service", "api"},
                                                                 {"com.docker.compose.oneoff", "False"},
                                                                 {"com.docker.compose.project.working_dir", "/srv/shop"},
                                                                 {"com.docker.compose.project.config_files", "docker-compose.yml"},
                                                                 {"other", "x"}});
  EXPECT_EQ(labels.project, "shop");
  EXPECT_EQ(labels.service, "api");
  EXPECT_FALSE(labels.oneoff);
  EXPECT_EQ(labels.working_dir, "/srv/shop");
  EXPECT_EQ(labels.config_files, "docker-compose.yml");
  EXPECT_TRUE(composewatch::docker::ComposeLabels::from({{"com.docker.compose.oneoff", "True"}}).oneoff);
  EXPECT_EQ(composewatch::docker::ComposeLabels::from({}), composewatch::docker::ComposeLabels{});
}

TEST(DriftProject, LiveContainerFromInspectCarriesTheSpec) {
  composewatch::docker::ContainerInfo info;
  info.name = "shop_api_1";
  info.state = "running";
  info.spec.image = "img:1";
  info.spec.memory_reservation = 5;
  info.spec.restart_policy = {"always", 0};
  info.spec.compose.project = "shop";
  LiveContainer c = live_container(info);
  EXPECT_EQ(c.name, "shop_api_1");
  EXPECT_EQ(c.state, "running");
  EXPECT_EQ(c.spec, info.spec);
  EXPECT_EQ(c.project(), "shop");
}

namespace {

LiveContainer exited(const std::string& svc, int exit_code, RestartPolicy policy = {"no", 0}, int restarts = 0) {
  LiveContainer c = container("shop", svc, 1, "composewatch-test/busybox:1", "exited");
  c.exit_code = exit_code;
  c.spec.restart_policy = policy;
  c.restart_count = restarts;
  return c;
}

}  // namespace

TEST(DriftImageStale, TagMovedToAnotherImageIsStaleWithBothIds) {
  LiveContainer c = container("shop", "api", 1, "composewatch-test/app:1");
  c.image_id = "sha256:aaaaaaaaaaaaaaaa";
  const CurrentImages current = {{"composewatch-test/app:1", "sha256:bbbbbbbbbbbbbbbb"}};
  auto f = image_stale_drift(c, current);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->container, c.name);
  EXPECT_EQ(f->image, "composewatch-test/app:1");
  EXPECT_EQ(f->running_image_id, "sha256:aaaaaaaaaaaaaaaa");
  EXPECT_EQ(f->current_image_id, "sha256:bbbbbbbbbbbbbbbb");
  const FieldDrift line = f->drift();
  EXPECT_EQ(line.field, DriftField::image_stale);
  EXPECT_NE(line.detail.find("aaaaaaaaaaaa"), std::string::npos) << line.detail;
  EXPECT_NE(line.detail.find("bbbbbbbbbbbb"), std::string::npos) << line.detail;

  // The same image: not stale; a tag the engine no longer knows: not stale either.
  EXPECT_FALSE(image_stale_drift(c, {{"composewatch-test/app:1", "sha256:aaaaaaaaaaaaaaaa"}}));
  EXPECT_FALSE(image_stale_drift(c, {}));
  // A stopped container is not compared: up re-creates it anyway.
  LiveContainer stopped = c;
  stopped.state = "exited";
  EXPECT_FALSE(image_stale_drift(stopped, current));
  // An image named by id cannot move.
  c.spec.image = "sha256:aaaaaaaaaaaaaaaa";
  EXPECT_FALSE(image_stale_drift(c, {{"sha256:aaaaaaaaaaaaaaaa", "sha256:bbbbbbbbbbbbbbbb"}}));
}

TEST(DriftImageStale, ComposeV2ImageLabelIsTheRunningImage) {
  LiveContainer c = container("shop", "api", 1, "composewatch-test/app:1");
  c.image_id = "sha256:bbbbbbbbbbbbbbbb";
  c.spec.labels[std::string(kLabelImage)] = "sha256:aaaaaaaaaaaaaaaa";
  EXPECT_EQ(running_image_id(c), "sha256:aaaaaaaaaaaaaaaa");
  auto f = image_stale_drift(c, {{"composewatch-test/app:1", "sha256:bbbbbbbbbbbbbbbb"}});
  ASSERT_TRUE(f);
  EXPECT_EQ(f->running_image_id, "sha256:aaaaaaaaaaaaaaaa");
}

TEST(DriftImageStale, ReportedOnlyWithTheEnginesAnswer) {
  Project p;
  p.name = "shop";
  p.services["api"] = service("api");
  LiveContainer c = container("shop", "api", 1, "composewatch-test/busybox:1");
  c.image_id = "sha256:old";
  std::vector<LiveContainer> live = {c};
  // Without the engine's tags (a scrape before the first image check): not compared.
  EXPECT_FALSE(field(*find(compare_project(p, live), "api"), DriftField::image_stale));
  const CurrentImages moved = {{"composewatch-test/busybox:1", "sha256:new"}};
  const ProjectDrift d = compare_project(p, live, {.current_images = &moved});
  const ServiceDrift* s = find(d, "api");
  EXPECT_EQ(field(*s, DriftField::image_stale), true);
  EXPECT_EQ(field(*s, DriftField::image), false);  // the file still names this tag
  const CurrentImages same = {{"composewatch-test/busybox:1", "sha256:old"}};
  EXPECT_EQ(field(*find(compare_project(p, live, {.current_images = &same}), "api"), DriftField::image_stale), false);
}

TEST(DriftCompletion, OneShotThatExitedZeroIsCompletedNotMissing) {
  Project p;
  p.name = "shop";
  Service migrate = service("migrate");
  migrate.restart = "no";
  p.services["migrate"] = migrate;
  std::vector<LiveContainer> live = {exited("migrate", 0)};
  const ProjectDrift d = compare_project(p, live);  // kept: s points into it
  const ServiceDrift* s = find(d, "migrate");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->completion, Completion::completed);
  EXPECT_EQ(s->running, 0);
  EXPECT_EQ(field(*s, DriftField::replicas), false);
}

TEST(DriftCompletion, NonZeroExitIsStillAFailure) {
  Project p;
  p.name = "shop";
  p.services["migrate"] = service("migrate");
  std::vector<LiveContainer> live = {exited("migrate", 3)};
  const ProjectDrift d = compare_project(p, live);  // kept: s points into it
  const ServiceDrift* s = find(d, "migrate");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->completion, Completion::none);
  EXPECT_EQ(field(*s, DriftField::replicas), true);
}

TEST(DriftCompletion, OnFailureExitZeroCompletesAlwaysDoesNot) {
  Service svc = service("init");
  svc.restart = "on-failure:3";
  LiveContainer c = exited("init", 0, {"on-failure", 3});
  EXPECT_EQ(service_completion(svc, {&c}, false), Completion::completed);
  // Under `always` an exit is not an end: stopped by hand, it is missing.
  svc.restart = "always";
  c.spec.restart_policy = {"always", 0};
  EXPECT_EQ(service_completion(svc, {&c}, false), Completion::none);
  // ... unless another service waits for it to complete.
  EXPECT_EQ(service_completion(svc, {&c}, true), Completion::completed);
  // A running container is not completed whatever its last exit was.
  c.state = "running";
  EXPECT_EQ(service_completion(svc, {&c}, true), Completion::none);
}

TEST(DriftCompletion, WaitedOnWithServiceCompletedSuccessfully) {
  Project p;
  p.name = "shop";
  Service seed = service("seed");
  seed.restart = "unless-stopped";
  Service api = service("api");
  api.depends_on["seed"].condition = "service_completed_successfully";
  p.services["seed"] = seed;
  p.services["api"] = api;
  EXPECT_EQ(waited_on_services(p), std::set<std::string>{"seed"});
  std::vector<LiveContainer> live = {exited("seed", 0, {"unless-stopped", 0}),
                                     container("shop", "api", 1, "composewatch-test/busybox:1")};
  const ProjectDrift d = compare_project(p, live);  // kept: s points into it
  const ServiceDrift* s = find(d, "seed");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->completion, Completion::completed);
  EXPECT_EQ(field(*s, DriftField::replicas), false);
}

TEST(DriftCompletion, OnFailureRetriesUsedUpIsGivenUp) {
  Service svc = service("job");
  svc.restart = "on-failure:2";
  LiveContainer c = exited("job", 1, {"on-failure", 2}, 1);
  EXPECT_EQ(service_completion(svc, {&c}, false), Completion::none);  // one retry left
  c.restart_count = 2;
  EXPECT_EQ(service_completion(svc, {&c}, false), Completion::gave_up);
  // Unbounded on-failure never gives up.
  c.spec.restart_policy = {"on-failure", 0};
  c.restart_count = 50;
  EXPECT_EQ(service_completion(svc, {&c}, false), Completion::none);
}
