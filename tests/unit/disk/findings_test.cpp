// Volume findings (dead-volume, orphan-volume) and per-service image sizes, on hand-built
// /system/df answers and compose projects.

#include <gtest/gtest.h>

#include "composewatch/disk/findings.h"

using namespace composewatch;

namespace {

constexpr double kNow = 1'800'000'000;

docker::VolumeSummary volume(std::string name, std::int64_t size, std::map<std::string, std::string> labels = {}) {
  docker::VolumeSummary v;
  v.name = std::move(name);
  v.size = size;
  v.ref_count = 1;
  v.labels = std::move(labels);
  return v;
}

std::map<std::string, std::string> compose_volume(const std::string& project, const std::string& key) {
  return {{"com.docker.compose.project", project}, {"com.docker.compose.volume", key}};
}

docker::ContainerSummary container(std::string id, std::string name, std::string state,
                                   std::vector<docker::Mount> mounts = {}) {
  docker::ContainerSummary c;
  c.id = std::move(id);
  c.name = std::move(name);
  c.state = std::move(state);
  c.mounts = std::move(mounts);
  return c;
}

docker::Mount mount(std::string volume, std::string target) { return {"volume", std::move(volume), "", std::move(target)}; }

compose::ProjectState project(std::string name, std::vector<std::string> volumes,
                              std::map<std::string, compose::Service> services = {}) {
  auto p = std::make_shared<compose::Project>();
  p->name = name;
  p->files = {"/srv/" + name + "/docker-compose.yml"};
  for (auto& v : volumes) p->volumes[v] = {};
  p->services = std::move(services);
  compose::ProjectState st;
  st.name = std::move(name);
  st.model = std::move(p);
  st.valid = true;
  return st;
}

}  // namespace

TEST(VolumeFindings, DeadVolumeOnlyAfterAnHourMountedByARunningContainer) {
  docker::SystemDf df;
  df.volumes = {volume("shop_uploads", 0, compose_volume("shop", "uploads")),
                volume("shop_db", 4096, compose_volume("shop", "db")),
                volume("shop_cache", 0, compose_volume("shop", "cache")),
                volume("shop_tmp", 0, compose_volume("shop", "tmp")),
                volume("plain", 0)};
  df.containers = {container("c1", "shop_web_1", "running", {mount("shop_uploads", "/srv/uploads"), mount("shop_db", "/db")}),
                   container("c2", "shop_worker_1", "running", {mount("shop_cache", "/cache")}),
                   container("c3", "shop_old_1", "exited", {mount("shop_tmp", "/tmp")}),
                   container("c4", "plain_1", "running", {mount("plain", "/x")})};
  const std::map<std::string, double> started = {
      {"c1", kNow - 3 * 3600}, {"c2", kNow - 600}, {"c3", kNow - 9 * 3600}, {"c4", kNow - 9 * 3600}};
  const auto found = disk::volume_findings(df, started, {project("shop", {"uploads", "db", "cache", "tmp"})}, kNow);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].check, "dead-volume");
  EXPECT_EQ(found[0].project, "shop");
  EXPECT_EQ(found[0].volume, "shop_uploads");
  EXPECT_NE(found[0].detail.find("3 hours mounted at /srv/uploads of running container shop_web_1"), std::string::npos)
      << found[0].detail;
  EXPECT_FALSE(found[0].why.empty());
  EXPECT_FALSE(found[0].fix.empty());
}

TEST(VolumeFindings, DeadVolumeNeedsAKnownStartTime) {
  docker::SystemDf df;
  df.volumes = {volume("shop_uploads", 0, compose_volume("shop", "uploads"))};
  df.containers = {container("c1", "shop_web_1", "running", {mount("shop_uploads", "/srv/uploads")})};
  EXPECT_TRUE(disk::volume_findings(df, {}, {project("shop", {"uploads"})}, kNow).empty());
  EXPECT_EQ(disk::volume_findings(df, {{"c1", kNow - 3600}}, {project("shop", {"uploads"})}, kNow).size(), 1u);
  EXPECT_TRUE(disk::volume_findings(df, {{"c1", kNow - 3599}}, {project("shop", {"uploads"})}, kNow).empty());
}

TEST(VolumeFindings, OrphanVolumeOfAProjectWhoseFileDroppedIt) {
  docker::SystemDf df;
  df.volumes = {volume("shop_db", 10, compose_volume("shop", "db")),
                volume("shop_legacy", 10, compose_volume("shop", "legacy")),
                volume("blog_data", 10, compose_volume("blog", "data")),  // project not known: not judged
                volume("shop_external", 10, {})};                           // no compose labels
  const auto found = disk::volume_findings(df, {}, {project("shop", {"db"})}, kNow);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].check, "orphan-volume");
  EXPECT_EQ(found[0].volume, "shop_legacy");
  EXPECT_NE(found[0].detail.find("volume 'legacy' of project shop is not declared in /srv/shop/docker-compose.yml"),
            std::string::npos)
      << found[0].detail;
}

TEST(VolumeFindings, AProjectWithoutAModelJudgesNothing) {
  docker::SystemDf df;
  df.volumes = {volume("shop_legacy", 10, compose_volume("shop", "legacy"))};
  compose::ProjectState broken;
  broken.name = "shop";
  broken.valid = false;
  broken.error = "docker-compose.yml:3: bad";
  EXPECT_TRUE(disk::volume_findings(df, {}, {broken}, kNow).empty());
}

TEST(ServiceImages, FromContainersAndFromDeclaredImages) {
  docker::SystemDf df;
  docker::ImageSummary web, db, built;
  web.id = "sha256:web";
  web.repo_tags = {"shop/web:2"};
  web.size = 1000;
  db.id = "sha256:db";
  db.repo_tags = {"postgres:16"};
  db.size = 5000;
  built.id = "sha256:built";
  built.repo_tags = {"shop_worker:latest"};
  built.size = 300;
  df.images = {web, db, built};
  auto c = container("c1", "shop_web_1", "running");
  c.image = "shop/web:2";
  c.image_id = "sha256:web";
  c.labels = {{"com.docker.compose.project", "shop"}, {"com.docker.compose.service", "web"}};
  df.containers = {c};
  compose::Service svc_web, svc_db, svc_worker, svc_missing;
  svc_web.name = "web";
  svc_web.image = "shop/web:1";  // the container runs :2; its image is what counts
  svc_db.name = "db";
  svc_db.image = "docker.io/library/postgres:16";
  svc_worker.name = "worker";
  svc_worker.has_build = true;
  svc_missing.name = "cache";
  svc_missing.image = "redis:7";
  const auto images = disk::service_images(
      df, {project("shop", {}, {{"web", svc_web}, {"db", svc_db}, {"worker", svc_worker}, {"cache", svc_missing}})});
  ASSERT_EQ(images.size(), 3u);
  EXPECT_EQ(images[0].service, "db");
  EXPECT_EQ(images[0].image, "docker.io/library/postgres:16");
  EXPECT_EQ(images[0].size_bytes, 5000);
  EXPECT_EQ(images[1].service, "web");
  EXPECT_EQ(images[1].image, "shop/web:2");
  EXPECT_EQ(images[1].size_bytes, 1000);
  EXPECT_EQ(images[2].service, "worker");
  EXPECT_EQ(images[2].image, "shop_worker:latest");
  EXPECT_EQ(images[2].size_bytes, 300);
}
