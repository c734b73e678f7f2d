// Discovery and drift of a project started by Compose v2, on inspect output of real
// containers (tests/fixtures/compose/v2-recreate/, Compose 2.40.3 on Engine 20.10):
// `<project>-<service>-<n>` names, absolute comma-joined config_files, the depends_on
// label ("svc:condition:required"), and a re-create caught in flight: the new container
// created as "<old id12>_cwv2fix-db-1" with com.docker.compose.replace while the old
// one still runs (Compose stops, removes the old one, then renames the new one).

#include <gtest/gtest.h>

#include "composewatch/compose/discovery.h"
#include "composewatch/compose/drift.h"
#include "composewatch/docker/container.h"
#include "fixture_file.h"

using namespace composewatch::compose;
using composewatch::docker::LiveContainer;
using composewatch::docker::live_container;
using composewatch::docker::parse_inspect;

namespace {

LiveContainer from_fixture(const std::string& file) {
  return live_container(
      parse_inspect(composewatch::test_support::read_fixture("compose/v2-recreate/" + file)));
}

// The project as its files say: db and api (2 replicas) active, cache behind a profile.
Project cwv2fix() {
  Project p;
  p.name = "cwv2fix";
  for (const char* name : {"db", "api"}) {
    Service s;
    s.name = name;
    s.image = "composewatch-test/busybox:1";
    s.restart = "";
    p.services[name] = s;
  }
  p.services["api"].replicas = 2;
  Healthcheck hc;
  hc.test = {"CMD", "true"};
  hc.interval_seconds = 3;
  p.services["db"].healthcheck = hc;
  Service cache;
  cache.name = "cache";
  cache.image = "composewatch-test/busybox:1";
  cache.profiles = {"cache"};
  p.inactive_services["cache"] = cache;
  return p;
}

const ServiceDrift* find(const ProjectDrift& d, const std::string& svc) {
  for (const auto& s : d.services)
    if (s.service == svc) return &s;
  return nullptr;
}

}  // namespace

TEST(ComposeV2Discovery, ReadsTheLabelsComposeV2Writes) {
  const LiveContainer api = from_fixture("api-1.json");
  ASSERT_EQ(api.name, "cwv2fix-api-1");
  EXPECT_EQ(api.spec.labels.at("com.docker.compose.depends_on"), "db:service_healthy:true");
  const std::vector<ProjectSource> sources = discovered_sources({api});
  ASSERT_EQ(sources.size(), 1u);
  EXPECT_EQ(sources[0].name, "cwv2fix");
  EXPECT_EQ(sources[0].files,
            (std::vector<std::string>{"/tmp/cwv2fix/shop/compose.yaml", "/tmp/cwv2fix/shop/compose.prod.yaml"}));
  EXPECT_EQ(sources[0].project_directory, "/tmp/cwv2fix/shop");
  EXPECT_EQ(sources[0].problem, "");
}

TEST(ComposeV2Discovery, TemporaryNameWithReplaceLabelIsARecreateInFlight) {
  const std::vector<LiveContainer> live = {from_fixture("db-1-old.json"), from_fixture("db-1-new-in-flight.json")};
  ASSERT_EQ(live[1].name, "f1fcd416cb50_cwv2fix-db-1");
  ASSERT_EQ(live[1].spec.labels.at("com.docker.compose.replace"), "db-1");
  EXPECT_FALSE(recreate_in_flight(live[0], live));
  EXPECT_TRUE(recreate_in_flight(live[1], live));
}

TEST(ComposeV2Discovery, RenamedReplacementIsAnOrdinaryReplica) {
  // Compose leaves the replace label on the container once it has its real name.
  const std::vector<LiveContainer> live = {from_fixture("db-1-after.json")};
  ASSERT_EQ(live[0].name, "cwv2fix-db-1");
  ASSERT_TRUE(live[0].spec.labels.contains("com.docker.compose.replace"));
  EXPECT_FALSE(recreate_in_flight(live[0], live));
}

TEST(ComposeV2Discovery, OlderV2RenamedTheOldContainerInstead) {
  // Before the replace label, Compose v2 renamed the old container "<id12>_<name>" and
  // created the new one under the real name.
  LiveContainer old_one = from_fixture("db-1-old.json");
  LiveContainer new_one = from_fixture("db-1-after.json");
  old_one.name = "f1fcd416cb50_cwv2fix-db-1";
  new_one.spec.labels.erase("com.docker.compose.replace");
  const std::vector<LiveContainer> live = {old_one, new_one};
  EXPECT_TRUE(recreate_in_flight(live[0], live));
  EXPECT_FALSE(recreate_in_flight(live[1], live));
  // Alone (its replacement not created yet, or another project's), it is no re-create.
  EXPECT_FALSE(recreate_in_flight(old_one, {old_one}));
  LiveContainer plain = new_one;
  plain.name = "0123456789ab_not-compose";
  plain.spec.compose.project.clear();
  EXPECT_FALSE(recreate_in_flight(plain, {plain, new_one}));
}

TEST(ComposeV2Drift, RecreateInFlightIsNeitherAnExtraReplicaNorAnOrphan) {
  std::vector<LiveContainer> live = {from_fixture("api-1.json"), from_fixture("db-1-old.json"),
                                     from_fixture("db-1-new-in-flight.json")};
  LiveContainer api2 = live[0];
  api2.name = "cwv2fix-api-2";
  live.push_back(api2);
  // Both halves running (older v2 started the new one before removing the old one).
  live[2].state = "running";
  const ProjectDrift d = compare_project(cwv2fix(), live);
  const ServiceDrift* db = find(d, "db");
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->desired, 1);
  EXPECT_EQ(db->running, 1);
  // The old container still has the old interval: that is drift, of it alone.
  for (const auto& detail : db->details) {
    EXPECT_NE(detail.field, DriftField::replicas) << detail.detail;
    EXPECT_EQ(detail.container, "cwv2fix-db-1") << field_name(detail.field) << ": " << detail.detail;
  }
  const ServiceDrift* api = find(d, "api");
  ASSERT_NE(api, nullptr);
  EXPECT_EQ(api->running, 2);
  EXPECT_TRUE(d.orphans.empty());
  EXPECT_EQ(find(d, "cache"), nullptr);  // disabled and without containers
}

TEST(ComposeV2Drift, RecreateOfARemovedServiceIsNoOrphan) {
  // The file no longer declares db: the old container is an orphan, the half-made
  // replacement is not a second one.
  Project p = cwv2fix();
  p.services.erase("db");
  const std::vector<LiveContainer> live = {from_fixture("db-1-old.json"), from_fixture("db-1-new-in-flight.json")};
  const ProjectDrift d = compare_project(p, live);
  ASSERT_EQ(d.orphans.size(), 1u);
  EXPECT_EQ(d.orphans[0].container, "cwv2fix-db-1");
}
