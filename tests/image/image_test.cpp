// The container image (deploy/compose): built here with the multi-stage Dockerfile from a
// locally made Debian base (scripts/toolchain-image.sh; no registry), run with the compose
// file as a user would, it is healthy by its own HEALTHCHECK, runs read-only as 65534, and
// serves every metric family from inside a container. Its size is recorded
// (image_size_bytes in the test's XML output, and printed).

#include <sys/stat.h>

#include <fstream>
#include <iostream>
#include <set>

#include "harness.h"

namespace itest {
namespace {

namespace fs = std::filesystem;

TEST(ContainerImage, BuildsRunsHealthyAndServesEveryFamily) {
  Cleanup cleanup;
  const std::string toolchain = must(quote((source_dir() / "scripts/toolchain-image.sh").string()), 1200s);
  const std::string tag = "composewatch-test/composewatch:" + unique_name("image");
  cleanup.add([tag] {
    sh("docker rmi -f " + tag, 120s);
    sh("docker image prune -f --filter label=composewatch.stage=build", 120s);  // the build stage
  });
  const std::string revision = sh("git -C " + quote(source_dir().string()) + " rev-parse --short=12 HEAD").out;
  // --network none: the base holds every package; nothing is fetched.
  must("docker build --network none --build-arg BUILD_IMAGE=" + toolchain + " --build-arg REVISION=" +
           (revision.empty() ? "unknown" : revision.substr(0, 12)) + " -f " + quote((source_dir() / "deploy/compose/Dockerfile").string()) + " -t " + tag +
           " " + quote(source_dir().string()) + " 2>&1",
       1500s);
  const std::int64_t size = std::stoll(must("docker image inspect -f '{{.Size}}' " + tag));
  RecordProperty("image_size_bytes", std::to_string(size));
  std::cout << "[image] " << tag << ": " << size << " bytes (" << size / (1024 * 1024) << " MiB)\n";
  EXPECT_LT(size, 64ll << 20) << "only the binary and its libraries";
  EXPECT_EQ(must("docker image inspect -f '{{.Config.User}}' " + tag), "65534:65534");

  // As the README says: the compose file, the socket's group, a port on loopback.
  const std::string project = unique_name("image");
  const fs::path file = source_dir() / "deploy/compose/docker-compose.yml";
  struct stat st {};
  ASSERT_EQ(::stat("/var/run/docker.sock", &st), 0);
  const std::string env = "DOCKER_GID=" + std::to_string(st.st_gid) + " COMPOSEWATCH_IMAGE=" + tag +
                          " COMPOSEWATCH_PORT=19469 ";
  const std::string compose = env + "docker-compose -p " + project + " -f " + quote(file.string());
  cleanup.add([compose] { sh(compose + " down -v 2>&1", 120s); });
  must(compose + " up -d 2>&1", 120s);
  const std::string container = project + "_composewatch_1";

  // A container to watch, with a memory limit.
  const std::string busy = unique_name("busy");
  cleanup.container(busy);
  must("docker run -d --name " + busy + " --network none -m 64m --cpus 0.5 " + std::string(kImage) + " sleep 600");

  ASSERT_TRUE(inspect_eventually(container, "{{.State.Health.Status}}", "healthy", 90s))
      << sh("docker logs " + container + " 2>&1").out;
  EXPECT_EQ(inspect(container, "{{.HostConfig.ReadonlyRootfs}}"), "true");
  EXPECT_EQ(inspect(container, "{{.Config.User}}"), "65534:65534");

  Metrics m;
  ASSERT_TRUE(eventually(
      [&] {
        m = Metrics::parse(http_get("127.0.0.1", 19469, "/metrics").body);
        return m.value("composewatch_collector_success", {{"collector", "disk"}}) == 1 &&
               m.value("composewatch_container_memory_limit_bytes", {{"container", busy}}).has_value();
      },
      60s, "the agent in the container reports the disk and the new container",
      [&] { return sh("docker logs " + container + " 2>&1").out; }));
  std::set<std::string> names;
  for (const auto& s : m.samples()) names.insert(s.name);
  for (const auto& family : host_metric_families())
    EXPECT_TRUE(names.count(family)) << family << " is missing from the container's /metrics";
  for (const auto& s : m.find("composewatch_collector_success")) EXPECT_EQ(s->value, 1) << format_sample(*s);
  EXPECT_EQ(m.value("composewatch_container_memory_limit_bytes", {{"container", busy}}), 64 << 20);
  EXPECT_EQ(m.value("composewatch_build_info", {{"revision", revision.substr(0, 12)}}), 1);
}

}  // namespace
}  // namespace itest
