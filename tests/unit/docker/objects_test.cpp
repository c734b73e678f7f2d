// The engine object parsers on answers captured from Engine 20.10 (API 1.41) in
// tests/fixtures/engine/, and on hand-written ones (edge/) for nulls and newer API fields.

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "composewatch/docker/info.h"
#include "composewatch/docker/json.h"
#include "composewatch/docker/objects.h"

using namespace composewatch::docker;

namespace {

std::string fixture(const std::string& name) {
  std::ifstream f(std::string(COMPOSEWATCH_FIXTURES) + "/engine/" + name, std::ios::binary);
  if (!f) throw std::runtime_error("missing fixture " + name);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// The ParseError's text, or "" when none was thrown.
template <class F>
std::string parse_error(F&& f) {
  try {
    f();
  } catch (const ParseError& e) {
    return e.what();
  }
  return "";
}

const ContainerSummary& by_name(const std::vector<ContainerSummary>& cs, const std::string& name) {
  for (const auto& c : cs)
    if (c.name == name) return c;
  throw std::runtime_error("no container " + name);
}

const VolumeSummary& by_name(const std::vector<VolumeSummary>& vs, const std::string& name) {
  for (const auto& v : vs)
    if (v.name == name) return v;
  throw std::runtime_error("no volume " + name);
}

// A frame of the logs' multiplexed stream.
std::string frame(unsigned char stream, std::string_view payload, std::size_t declared = std::string::npos) {
  const std::size_t n = declared == std::string::npos ? payload.size() : declared;
  std::string f{char(stream),  0, 0, 0, char((n >> 24) & 0xff), char((n >> 16) & 0xff), char((n >> 8) & 0xff),
                char(n & 0xff)};
  return f + std::string(payload);
}

LogLine out(std::string text) { return {LogLine::Stream::stdout_, std::move(text)}; }
LogLine err(std::string text) { return {LogLine::Stream::stderr_, std::move(text)}; }

// github.com/docker/go-units HumanSize, as the CLI prints SIZE and RECLAIMABLE:
// "%.4g" of the size in powers of 1000 with the units B, kB, MB, GB, TB, ...
std::string human_size(std::int64_t bytes) {
  static const char* const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
  double size = static_cast<double>(bytes);
  std::size_t i = 0;
  while (size >= 1000.0 && i + 1 < std::size(units)) {
    size /= 1000.0;
    ++i;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4g%s", size, units[i]);
  return buf;
}

// RECLAIMABLE as the CLI prints it for images, containers and volumes; build cache has no percentage.
std::string reclaimable_text(const DiskKindUsage& u, bool with_percent) {
  std::string s = human_size(u.reclaimable_bytes);
  if (with_percent && u.total_bytes > 0) s += " (" + std::to_string(u.reclaimable_bytes * 100 / u.total_bytes) + "%)";
  return s;
}

}  // namespace

// ------------------------------------------------------------------------------ images

TEST(DockerObjectsImages, ParsesTheListingOfEngine2010) {
  auto images = parse_images(fixture("images.json"));
  ASSERT_EQ(images.size(), 3u);
  const ImageSummary& built = images[0];
  EXPECT_EQ(built.id, "sha256:6118a98dbfd76eb95e6dd3ab4f02c69d6330104661bb598b92447860b891b4d6");
  EXPECT_EQ(built.repo_tags, (std::vector<std::string>{"cwobj-built:1", "cwobj-built:alias"}));
  EXPECT_TRUE(built.repo_digests.empty());  // null
  EXPECT_EQ(built.created, 1796020050.0);
  EXPECT_EQ(built.size, 2289515);
  EXPECT_EQ(built.shared_size, -1);  // the listing does not compute it
  EXPECT_EQ(built.containers, -1);
  EXPECT_EQ(built.labels.at("com.example.cwobj"), "built");
  EXPECT_FALSE(built.dangling());

  // An image whose tag moved to a newer build.
  const ImageSummary& old = images[1];
  EXPECT_TRUE(old.repo_tags.empty());
  EXPECT_TRUE(old.repo_digests.empty());
  EXPECT_TRUE(old.dangling());
}

TEST(DockerObjectsImages, ToleratesNullsPlaceholdersAndMissingFields) {
  auto images = parse_images(fixture("edge/images_nulls.json"));
  ASSERT_EQ(images.size(), 3u);
  EXPECT_TRUE(images[0].repo_tags.empty());
  EXPECT_TRUE(images[0].labels.empty());
  EXPECT_TRUE(images[0].dangling());

  // Untagged but still referenced by digest: dangling all the same (prune looks at tags).
  EXPECT_TRUE(images[1].repo_tags.empty());
  EXPECT_EQ(images[1].repo_digests, std::vector<std::string>{"app@sha256:abc"});
  EXPECT_TRUE(images[1].dangling());

  EXPECT_EQ(images[2].repo_tags, std::vector<std::string>{"a:1"});
  EXPECT_TRUE(images[2].repo_digests.empty());
  EXPECT_FALSE(images[2].dangling());
  EXPECT_EQ(images[2].size, 30);  // VirtualSize when Size is absent
  EXPECT_EQ(images[2].shared_size, -1);
  EXPECT_EQ(images[2].containers, -1);
}

TEST(DockerObjectsImages, InspectReadsRfc3339CreatedAndConfigLabels) {
  ImageSummary img = parse_image_inspect(fixture("image_inspect.json"));
  EXPECT_EQ(img.id, "sha256:6118a98dbfd76eb95e6dd3ab4f02c69d6330104661bb598b92447860b891b4d6");
  EXPECT_EQ(img.repo_tags, (std::vector<std::string>{"cwobj-built:1", "cwobj-built:alias"}));
  EXPECT_TRUE(img.repo_digests.empty());
  // "2026-11-30T06:27:30.816367178Z"; the listing rounds the same time down to 1796020050.
  EXPECT_NEAR(img.created, 1796020050.816367178, 1e-5);
  EXPECT_EQ(img.size, 2289515);
  EXPECT_EQ(img.shared_size, -1);
  EXPECT_EQ(img.containers, -1);
  EXPECT_EQ(img.labels.at("org.example.role"), "base");
  EXPECT_EQ(img.labels.size(), 2u);

  ImageSummary bare = parse_image_inspect(R"({"Id":"sha256:1","RepoTags":[],"Created":"2024-01-02T03:04:05Z",
                                             "Size":5,"Config":{"Labels":null}})");
  EXPECT_TRUE(bare.dangling());
  EXPECT_EQ(bare.created, 1704164645.0);
  EXPECT_TRUE(bare.labels.empty());
  EXPECT_EQ(parse_image_inspect(R"({"Id":"sha256:1","Config":null})").labels.size(), 0u);
}

TEST(DockerObjectsImages, HistoryKeepsMissingLayerIds) {
  auto layers = parse_image_history(fixture("image_history.json"));
  ASSERT_EQ(layers.size(), 4u);
  EXPECT_EQ(layers[0].id, "sha256:6118a98dbfd76eb95e6dd3ab4f02c69d6330104661bb598b92447860b891b4d6");
  EXPECT_EQ(layers[0].tags, (std::vector<std::string>{"cwobj-built:1", "cwobj-built:alias"}));
  EXPECT_EQ(layers[0].size, 3);
  EXPECT_EQ(layers[1].id, "<missing>");
  EXPECT_EQ(layers[1].created, 1796020048.0);
  EXPECT_EQ(layers[1].created_by, "RUN /bin/sh -c dd if=/dev/zero of=/blob bs=1k count=300 2>/dev/null # buildkit");
  EXPECT_EQ(layers[1].size, 307200);
  EXPECT_TRUE(layers[1].tags.empty());  // null
  EXPECT_EQ(layers[3].created_by, "");
}

TEST(DockerObjectsImages, MalformedAnswersNameTheField) {
  EXPECT_NE(parse_error([] { parse_images("{}"); }).find("image list: not a JSON array"), std::string::npos);
  EXPECT_NE(parse_error([] { parse_images("[{\"Id\":"); }).find("invalid JSON"), std::string::npos);
  EXPECT_NE(parse_error([] { parse_images(R"([{"Id":"a"},{"Size":1}])"); }).find("image list[1]: missing Id"),
            std::string::npos);
  EXPECT_NE(parse_error([] { parse_images(R"([{"Id":"a","Size":"big"}])"); }).find("Size is not an integer"),
            std::string::npos);
  EXPECT_NE(parse_error([] { parse_images(R"([{"Id":"a","RepoTags":"a:1"}])"); }).find("RepoTags is not an array"),
            std::string::npos);
  EXPECT_NE(parse_error([] { parse_images(R"([{"Id":"a","Labels":{"k":1}}])"); }).find("Labels.k is not a string"),
            std::string::npos);
  EXPECT_NE(parse_error([] { parse_images("[42]"); }).find("image list[0]: not a JSON object"), std::string::npos);
  EXPECT_NE(parse_error([] {
              parse_image_inspect(R"({"Id":"a","Created":"last week"})");
            }).find("Created is not an RFC 3339 time"),
            std::string::npos);
  EXPECT_NE(parse_error([] { parse_image_history(R"([{"Created":1}])"); }).find("image history[0]: missing Id"),
            std::string::npos);
  EXPECT_EQ(parse_images("[]").size(), 0u);
}

// -------------------------------------------------------------------------- containers

TEST(DockerObjectsContainers, ParsesTheListingOfEngine2010) {
  auto cs = parse_containers(fixture("containers.json"));
  ASSERT_EQ(cs.size(), 6u);
  const ContainerSummary& running = by_name(cs, "cwobj-running");
  EXPECT_EQ(running.id, "ffc52631187d9820be358eb6de1b6730c27bcbaef44f3670a7db35675f4a642e");
  EXPECT_EQ(running.image, "cwobj-built:1");
  EXPECT_EQ(running.image_id, "sha256:6118a98dbfd76eb95e6dd3ab4f02c69d6330104661bb598b92447860b891b4d6");
  EXPECT_EQ(running.state, "running");
  EXPECT_EQ(running.created, 1796020059.0);
  EXPECT_EQ(running.size_rw, -1);  // not asked for (size=1)
  EXPECT_EQ(running.labels.at("com.example.cwobj"), "running");
  ASSERT_EQ(running.mounts.size(), 2u);
  EXPECT_EQ(running.mounts[0],
            (Mount{"volume", "faa7d9895a7ea1d5715d7f0eb4a15e3fb250f6b2eab4db7ac587d664a4e82b88", "", "/anon"}));
  EXPECT_EQ(running.mounts[1], (Mount{"volume", "cwobj-data", "/var/lib/docker/volumes/cwobj-data/_data", "/data"}));
  EXPECT_EQ(running.network_names, std::vector<std::string>{"cwobj-net"});
  EXPECT_EQ(running.network_ids,
            std::vector<std::string>{"d28dc044b1bceb614e4a05188a2a494774867fca516f2522ca7886130c4bd463"});

  const ContainerSummary& created = by_name(cs, "cwobj-created");
  EXPECT_EQ(created.state, "created");
  EXPECT_EQ(created.network_names, std::vector<std::string>{"none"});
  EXPECT_EQ(created.network_ids, std::vector<std::string>{""});  // never started: no endpoint yet
  EXPECT_TRUE(created.mounts.empty());
  EXPECT_EQ(by_name(cs, "cwobj-paused").state, "paused");
}

TEST(DockerObjectsContainers, ToleratesNullsAndTakesTheFirstName) {
  SystemDf df = parse_system_df(fixture("edge/system_df_newer.json"));
  ASSERT_EQ(df.containers.size(), 4u);
  const ContainerSummary& web = df.containers[0];
  EXPECT_TRUE(web.labels.empty());  // Labels: null
  EXPECT_TRUE(web.mounts.empty());  // Mounts: null
  EXPECT_EQ(web.network_ids, std::vector<std::string>{"n1"});
  const ContainerSummary& old = df.containers[1];
  EXPECT_EQ(old.name, "old");              // not the link name
  EXPECT_TRUE(old.network_names.empty());  // NetworkSettings: null
  ASSERT_EQ(old.mounts.size(), 1u);
  EXPECT_EQ(old.mounts[0], (Mount{"bind", "", "/srv", "/srv"}));
  EXPECT_EQ(df.containers[2].size_rw, -1);  // absent
  EXPECT_EQ(df.containers[3].size_rw, 5);

  auto unnamed = parse_containers(R"([{"Id":"x"}])");
  ASSERT_EQ(unnamed.size(), 1u);
  EXPECT_EQ(unnamed[0].name, "");
}

TEST(DockerObjectsContainers, MalformedAnswersNameTheField) {
  EXPECT_NE(parse_error([] {
              parse_containers(R"([{"Id":"x","Mounts":[1]}])");
            }).find("container list[0]: Mounts[0]: not a JSON object"),
            std::string::npos);
  EXPECT_NE(parse_error([] { parse_containers(R"([{"Id":"x","State":3}])"); }).find("State is not a string"),
            std::string::npos);
  EXPECT_NE(parse_error([] { parse_containers(R"([{"Names":["/a"]}])"); }).find("missing Id"), std::string::npos);
  EXPECT_NE(parse_error([] {
              parse_containers(R"([{"Id":"x","NetworkSettings":{"Networks":{"n":{"NetworkID":1}}}}])");
            }).find("Networks.n: NetworkID is not a string"),
            std::string::npos);
}

// ----------------------------------------------------------------------------- volumes

TEST(DockerObjectsVolumes, ParsesTheListingAndInspectOfEngine2010) {
  auto vols = parse_volumes(fixture("volumes.json"));
  ASSERT_EQ(vols.size(), 4u);
  const VolumeSummary& data = by_name(vols, "cwobj-data");
  EXPECT_EQ(data.driver, "local");
  EXPECT_EQ(data.mountpoint, "/var/lib/docker/volumes/cwobj-data/_data");
  ASSERT_TRUE(data.created_at);
  EXPECT_EQ(*data.created_at, 1796020060.0);  // 2026-11-30T06:27:40Z
  EXPECT_EQ(data.labels.at("com.example.cwobj"), "data");
  EXPECT_EQ(data.size, -1);  // only /system/df measures
  EXPECT_EQ(data.ref_count, -1);
  EXPECT_FALSE(data.anonymous());
  EXPECT_TRUE(by_name(vols, "faa7d9895a7ea1d5715d7f0eb4a15e3fb250f6b2eab4db7ac587d664a4e82b88").anonymous());
  EXPECT_TRUE(by_name(vols, "cwobj-spare").labels.empty());  // Labels: null

  VolumeSummary one = parse_volume(fixture("volume_inspect.json"));
  EXPECT_EQ(one.name, "cwobj-data");
  EXPECT_EQ(one.created_at, data.created_at);
  EXPECT_EQ(one.labels, data.labels);
}

TEST(DockerObjectsVolumes, NullVolumesListIsEmpty) {
  EXPECT_TRUE(parse_volumes(fixture("edge/volumes_null.json")).empty());
  EXPECT_TRUE(parse_volumes("{}").empty());
}

TEST(DockerObjectsVolumes, AnonymousMeansMadeByTheEngineForAnUnnamedMount) {
  const std::string hex(64, 'a');
  auto vol = [](std::string name, std::map<std::string, std::string> labels) {
    VolumeSummary v;
    v.name = std::move(name);
    v.labels = std::move(labels);
    return v;
  };
  EXPECT_TRUE(vol(hex, {}).anonymous());                                     // Engine 20.10
  EXPECT_TRUE(vol(hex, {{"com.docker.volume.anonymous", ""}}).anonymous());  // newer engines
  EXPECT_TRUE(vol("anything", {{"com.docker.volume.anonymous", ""}}).anonymous());
  EXPECT_FALSE(vol(hex, {{"com.docker.compose.volume", "data"}}).anonymous());  // Compose named it so
  EXPECT_FALSE(vol("data", {}).anonymous());
  EXPECT_FALSE(vol(hex.substr(1), {}).anonymous());
  EXPECT_FALSE(vol(std::string(64, 'A'), {}).anonymous());
  EXPECT_FALSE(vol(std::string(63, 'a') + "g", {}).anonymous());
}

TEST(DockerObjectsVolumes, ReadsUsageDataAndOffsetTimes) {
  SystemDf df = parse_system_df(fixture("edge/system_df_newer.json"));
  ASSERT_EQ(df.volumes.size(), 4u);
  EXPECT_TRUE(df.volumes[0].anonymous());
  EXPECT_EQ(df.volumes[0].size, 400);
  EXPECT_EQ(df.volumes[0].ref_count, 0);
  EXPECT_EQ(*df.volumes[0].created_at, 1704161045.0);  // 03:04:05+01:00 = 02:04:05Z
  EXPECT_EQ(*df.volumes[1].created_at, 1704164645.5);
  EXPECT_FALSE(df.volumes[1].anonymous());
  EXPECT_FALSE(df.volumes[2].created_at);
  EXPECT_EQ(df.volumes[2].size, -1);
  EXPECT_EQ(df.volumes[3].size, -1);  // UsageData: null
  EXPECT_EQ(df.volumes[3].ref_count, -1);
}

TEST(DockerObjectsVolumes, MalformedAnswersNameTheField) {
  EXPECT_NE(parse_error([] { parse_volumes("[]"); }).find("volume list: not a JSON object"), std::string::npos);
  EXPECT_NE(parse_error([] { parse_volumes(R"({"Volumes":{}})"); }).find("volume list: Volumes: not a JSON array"),
            std::string::npos);
  EXPECT_NE(parse_error([] {
              parse_volumes(R"({"Volumes":[{"Driver":"local"}]})");
            }).find("volume list: Volumes[0]: missing Name"),
            std::string::npos);
  EXPECT_NE(parse_error([] {
              parse_volume(R"({"Name":"v","CreatedAt":"yesterday"})");
            }).find("volume inspect: CreatedAt is not an RFC 3339 time"),
            std::string::npos);
  EXPECT_NE(
      parse_error([] { parse_volume(R"({"Name":"v","UsageData":{"Size":1.5}})"); }).find("Size is not an integer"),
      std::string::npos);
}

// ---------------------------------------------------------------------------- networks

TEST(DockerObjectsNetworks, ParsesTheListingAndInspectOfEngine2010) {
  auto nets = parse_networks(fixture("networks.json"));
  ASSERT_EQ(nets.size(), 4u);
  const NetworkSummary* mine = nullptr;
  for (const auto& n : nets) {
    EXPECT_EQ(n.attached, 0u) << n.name;  // the listing's Containers is always empty
    if (n.name == "cwobj-net") mine = &n;
  }
  ASSERT_TRUE(mine);
  EXPECT_TRUE(mine->internal);
  EXPECT_EQ(mine->driver, "bridge");
  EXPECT_EQ(mine->scope, "local");

  NetworkSummary n = parse_network(fixture("network_inspect.json"));
  EXPECT_EQ(n.id, "d28dc044b1bceb614e4a05188a2a494774867fca516f2522ca7886130c4bd463");
  EXPECT_EQ(n.name, "cwobj-net");
  EXPECT_NEAR(n.created, 1796020059.046040204, 1e-5);
  EXPECT_TRUE(n.internal);
  EXPECT_EQ(n.attached, 1u);
  EXPECT_EQ(n.labels.at("com.example.cwobj"), "net");
}

TEST(DockerObjectsNetworks, MalformedAnswersNameTheField) {
  EXPECT_NE(parse_error([] { parse_network(R"({"Id":"n"})"); }).find("network inspect: missing Name"),
            std::string::npos);
  EXPECT_NE(parse_error([] {
              parse_networks(R"([{"Id":"n","Name":"x","Internal":"yes"}])");
            }).find("network list[0]: Internal is not a boolean"),
            std::string::npos);
  EXPECT_NE(parse_error([] {
              parse_network(R"({"Id":"n","Name":"x","Containers":[]})");
            }).find("Containers is not an object"),
            std::string::npos);
  NetworkSummary nulls = parse_network(R"({"Id":"n","Name":"x","Containers":null,"Labels":null,"Created":null})");
  EXPECT_EQ(nulls.attached, 0u);
  EXPECT_EQ(nulls.created, 0.0);
}

// -------------------------------------------------------------------------- system df

TEST(DockerObjectsSystemDf, ParsesTheAnswerOfEngine2010) {
  SystemDf df = parse_system_df(fixture("system_df.json"));
  EXPECT_EQ(df.layers_size, 2289518);
  ASSERT_EQ(df.images.size(), 3u);
  EXPECT_EQ(df.images[0].shared_size, 2289512);
  EXPECT_EQ(df.images[0].containers, 2);
  EXPECT_TRUE(df.images[1].dangling());
  EXPECT_EQ(df.containers.size(), 6u);
  EXPECT_EQ(by_name(df.containers, "cwobj-exited").size_rw, 24576);
  EXPECT_EQ(by_name(df.containers, "cwobj-created").size_rw, -1);  // omitted when 0
  ASSERT_EQ(df.volumes.size(), 4u);
  EXPECT_EQ(by_name(df.volumes, "cwobj-spare").size, 122880);
  EXPECT_EQ(by_name(df.volumes, "cwobj-spare").ref_count, 0);
  ASSERT_EQ(df.build_cache.size(), 6u);
  const BuildCacheRecord& r = df.build_cache[0];
  EXPECT_EQ(r.id, "imgzfwqst0ra65lof557ewgen");
  EXPECT_EQ(r.parents, std::vector<std::string>{"d0d5q5pudfou0rkok9ibswptf"});  // API 1.41: Parent
  EXPECT_EQ(r.type, "regular");
  EXPECT_EQ(r.description, "mount / from exec /bin/sh -c echo v2 > /version");
  EXPECT_FALSE(r.in_use);
  EXPECT_TRUE(r.shared);
  EXPECT_EQ(r.size, 3);
  EXPECT_NEAR(*r.created_at, 1796020050.816367178, 1e-5);
  EXPECT_NEAR(*r.last_used_at, 1796020050.863460715, 1e-5);
  EXPECT_EQ(r.usage_count, 1);
  EXPECT_TRUE(df.build_cache[1].parents.empty());  // Parent: ""
}

TEST(DockerObjectsSystemDf, ReadsNewerBuildCacheFields) {
  SystemDf df = parse_system_df(fixture("edge/system_df_newer.json"));
  ASSERT_EQ(df.build_cache.size(), 4u);
  EXPECT_EQ(df.build_cache[0].parents, std::vector<std::string>{"r0"});
  EXPECT_FALSE(df.build_cache[0].last_used_at);    // null
  EXPECT_TRUE(df.build_cache[1].parents.empty());  // Parents: null
  EXPECT_EQ(df.build_cache[2].parents, (std::vector<std::string>{"r1", "r2"}));
  EXPECT_FALSE(df.build_cache[2].last_used_at);                          // absent
  EXPECT_EQ(df.build_cache[3].parents, std::vector<std::string>{"r1"});  // both fields: not twice
}

TEST(DockerObjectsSystemDf, ReadsDocker28ParentsUnderItsMisspelledKey) {
  // Docker 28.5 at API 1.51: " Parents" (a leading space) instead of "Parents".
  SystemDf df = parse_system_df(fixture("system_df_28.5.json"));
  ASSERT_EQ(df.build_cache.size(), 5u);
  std::map<std::string, std::vector<std::string>> parents;
  for (const auto& r : df.build_cache) parents[r.description] = r.parents;
  EXPECT_EQ(parents["mount / from exec /bin/sh -c dd if=/dev/urandom of=/two bs=1M count=1"],
            std::vector<std::string>{"rcyji9vzto7pf7dj1tbi9u3kg"});
  EXPECT_EQ(parents["mount / from exec /bin/sh -c dd if=/dev/urandom of=/one bs=1M count=1"],
            std::vector<std::string>{"ot1xyhhcd75pncl2xxkyo1say"});
  EXPECT_TRUE(parents["from local "].empty());
}

TEST(DockerObjectsSystemDf, EmptyEngineAndNullLists) {
  // What Engine 20.10 answers with nothing on it.
  SystemDf df =
      parse_system_df(R"({"LayersSize":0,"Images":[],"Containers":[],"Volumes":[],"BuildCache":null,"BuilderSize":0})");
  EXPECT_TRUE(df.images.empty() && df.containers.empty() && df.volumes.empty() && df.build_cache.empty());
  EXPECT_EQ(summarize(df), DiskSummary{});
  EXPECT_TRUE(parse_system_df(R"({"Images":null,"Containers":null,"Volumes":null})").images.empty());
}

TEST(DockerObjectsSystemDf, MalformedAnswersNameTheField) {
  EXPECT_NE(parse_error([] { parse_system_df("[]"); }).find("system df: not a JSON object"), std::string::npos);
  EXPECT_NE(
      parse_error([] { parse_system_df(R"({"LayersSize":"1GB"})"); }).find("system df: LayersSize is not an integer"),
      std::string::npos);
  EXPECT_NE(parse_error([] {
              parse_system_df(R"({"BuildCache":[{"ID":"r","InUse":1}]})");
            }).find("system df: BuildCache[0]: InUse is not a boolean"),
            std::string::npos);
  EXPECT_NE(parse_error([] {
              parse_system_df(R"({"BuildCache":[{"ID":"r","Parents":"r0"}]})");
            }).find("Parents is not an array"),
            std::string::npos);
  EXPECT_NE(parse_error([] {
              parse_system_df(R"({"Images":[{"Id":"i","Size":-1e3}]})");
            }).find("system df: Images[0]: Size is not an integer"),
            std::string::npos);
  EXPECT_NE(
      parse_error([] { parse_system_df(R"({"Containers":{}})"); }).find("system df: Containers: not a JSON array"),
      std::string::npos);
}

// A negative size would let a prune slip past its max_bytes brake, a huge one overflow
// the sums: neither is a number the engine sends, so neither is a number to compute with.
TEST(DockerObjectsSystemDf, NegativeOrAbsurdSizesAreProtocolErrors) {
  for (const char* bad : {R"({"Images":[{"Id":"i","Size":-5}]})", R"({"Images":[{"Id":"i","Size":1,"SharedSize":-2}]})",
                          R"({"Images":[{"Id":"i","Size":10,"SharedSize":11}]})",
                          R"({"Images":[{"Id":"i","Size":9223372036854775807}]})",
                          R"({"Containers":[{"Id":"c","SizeRw":-7}]})",
                          R"({"Volumes":[{"Name":"v","UsageData":{"Size":-9,"RefCount":0}}]})",
                          R"({"BuildCache":[{"ID":"r","Size":-1}]})", R"({"LayersSize":-1})"}) {
    EXPECT_THROW(parse_system_df(bad), ParseError) << bad;
  }
  EXPECT_NE(parse_error([] { parse_system_df(R"({"Images":[{"Id":"i","Size":-5}]})"); })
                .find("system df: Images[0]: Size is negative (-5)"),
            std::string::npos);
  EXPECT_NE(parse_error([] { parse_system_df(R"({"BuildCache":[{"ID":"r","Size":2251799813685248}]})"); })
                .find("Size is beyond any disk"),
            std::string::npos);
  // -1 is the engine's own "not computed" where it uses it, and stays readable.
  const auto df = parse_system_df(
      R"({"Images":[{"Id":"i","Size":5,"SharedSize":-1,"Containers":-1}],"Containers":[{"Id":"c","SizeRw":-1}],
          "Volumes":[{"Name":"v","UsageData":{"Size":-1,"RefCount":-1}}]})");
  EXPECT_EQ(df.images[0].shared_size, -1);
  EXPECT_EQ(df.containers[0].size_rw, -1);
  EXPECT_EQ(df.volumes[0].size, -1);
  EXPECT_THROW(parse_build_prune(R"({"CachesDeleted":["a"],"SpaceReclaimed":-100})"), ParseError);
  EXPECT_THROW(parse_image_inspect(R"({"Id":"sha256:1","Size":-100})"), ParseError);
}

TEST(DockerObjectsImages, InspectReadsLastTagTime) {
  const auto img = parse_image_inspect(
      R"({"Id":"sha256:1","Created":"1970-01-01T00:00:00Z","Metadata":{"LastTagTime":"2026-12-01T10:00:00.5Z"}})");
  EXPECT_EQ(img.created, 0) << "a reproducible build's Created";
  ASSERT_TRUE(img.last_tag_time);
  EXPECT_NEAR(*img.last_tag_time, 1796119200.5, 1e-6);
  // Engines write Go's zero time for an image never tagged here (pulled by digest).
  EXPECT_FALSE(parse_image_inspect(R"({"Id":"sha256:1","Metadata":{"LastTagTime":"0001-01-01T00:00:00Z"}})")
                   .last_tag_time);
}

// --------------------------------------------------------------------------- summarize

TEST(DockerObjectsSummarize, ComputesEachRowAsTheCliDoes) {
  DiskSummary s = summarize(parse_system_df(fixture("edge/system_df_newer.json")));
  // Images: LayersSize 1000, minus the unique part of images with containers: aaa 700-300;
  // ccc's SharedSize is unknown (-1) so it is left out; bbb has no container.
  EXPECT_EQ(s.images, (DiskKindUsage{1000, 600, 3, 2}));
  // Containers: 50 + 30 + 0 (absent) + 5; running and restarting are active; exited and
  // created reclaimable.
  EXPECT_EQ(s.containers, (DiskKindUsage{85, 30, 4, 2}));
  // Volumes: 400 + 600, the -1 sizes skipped; the unreferenced 400 reclaimable; one referenced.
  EXPECT_EQ(s.volumes, (DiskKindUsage{1000, 400, 4, 1}));
  // Build cache: unshared 100 + 250; minus the unshared in-use 100; two in use.
  EXPECT_EQ(s.build_cache, (DiskKindUsage{350, 250, 4, 2}));
}

TEST(DockerObjectsSummarize, ImageWithUnknownContainersCountsAsUsedButNotActive) {
  // The CLI tests Containers != 0 for the reclaimable part and > 0 for ACTIVE.
  SystemDf df;
  df.layers_size = 100;
  ImageSummary img;
  img.size = 80;
  img.shared_size = 20;
  img.containers = -1;
  df.images.push_back(img);
  EXPECT_EQ(summarize(df).images, (DiskKindUsage{100, 40, 1, 0}));
}

TEST(DockerObjectsSummarize, MatchesDockerSystemDfOnTheSameEngineState) {
  // system_df.json and system_df_cli.jsonl (`docker system df --format '{{json .}}'`,
  // docker CLI 28.2.2) were captured back to back on the same quiet engine.
  DiskSummary s = summarize(parse_system_df(fixture("system_df.json")));
  std::map<std::string, boost::json::object> rows;
  std::istringstream cli(fixture("system_df_cli.jsonl"));
  for (std::string line; std::getline(cli, line);) {
    auto row = boost::json::parse(line).as_object();
    rows[std::string(row.at("Type").as_string())] = row;
  }
  ASSERT_EQ(rows.size(), 4u);
  struct Kind {
    const char* type;
    const DiskKindUsage& usage;
    bool percent;
  };
  for (const Kind& k : {Kind{"Images", s.images, true}, Kind{"Containers", s.containers, true},
                        Kind{"Local Volumes", s.volumes, true}, Kind{"Build Cache", s.build_cache, false}}) {
    SCOPED_TRACE(k.type);
    const auto& row = rows.at(k.type);
    EXPECT_EQ(std::string(row.at("TotalCount").as_string()), std::to_string(k.usage.objects));
    EXPECT_EQ(std::string(row.at("Active").as_string()), std::to_string(k.usage.active));
    EXPECT_EQ(std::string(row.at("Size").as_string()), human_size(k.usage.total_bytes));
    EXPECT_EQ(std::string(row.at("Reclaimable").as_string()), reclaimable_text(k.usage, k.percent));
  }
  // And the exact figures behind those rounded ones, worked out by hand from the fixture.
  EXPECT_EQ(s.images, (DiskKindUsage{2289518, 2289518 - 3, 3, 2}));
  EXPECT_EQ(s.containers, (DiskKindUsage{40960 + 24576 + 8192, 24576, 6, 2}));
  EXPECT_EQ(s.volumes, (DiskKindUsage{65536 + 122880, 122880, 4, 3}));
  // Only the unshared records count: 128 bytes, although the engine's own BuilderSize
  // (all records) says 307334.
  EXPECT_EQ(s.build_cache, (DiskKindUsage{128, 128, 6, 0}));
}

TEST(DockerObjectsSummarize, HumanSizeMatchesGoUnits) {
  EXPECT_EQ(human_size(0), "0B");
  EXPECT_EQ(human_size(128), "128B");
  EXPECT_EQ(human_size(24576), "24.58kB");
  EXPECT_EQ(human_size(2289515), "2.29MB");
  EXPECT_EQ(human_size(1000), "1kB");
}

// -------------------------------------------------------------------------------- info

// One parse of GET /info gives what the disk collector, the prune executor, the stats
// source and diagnose each read of it; the cgroup part stays lenient, the answer not.
TEST(DockerObjectsInfo, OneParseGivesTheRootDirAndTheCgroups) {
  const auto info = parse_info(R"({"DockerRootDir":"/srv/docker","CgroupDriver":"systemd","CgroupVersion":"2",)"
                               R"("SecurityOptions":["name=seccomp,profile=default","name=rootless"]})");
  EXPECT_EQ(info.docker_root_dir, "/srv/docker");
  EXPECT_EQ(info.cgroup.driver, "systemd");
  EXPECT_EQ(info.cgroup.version, "2");
  EXPECT_TRUE(info.cgroup.rootless);
  const auto odd = parse_info(R"({"DockerRootDir":"/d","CgroupVersion":2,"SecurityOptions":null})");
  EXPECT_EQ(odd.docker_root_dir, "/d");
  EXPECT_EQ(odd.cgroup.version, "") << "a cgroup field of another type is unknown, not fatal";
  EXPECT_NE(parse_error([] { parse_info("[1]"); }).find("info:"), std::string::npos);
  EXPECT_EQ(parse_engine_info("not json").driver, "");
}

TEST(DockerObjectsInfo, ReadsDockerRootDir) {
  EXPECT_EQ(parse_docker_root_dir(fixture("info.json")), "/var/lib/docker");
  EXPECT_NE(parse_error([] { parse_docker_root_dir("{}"); }).find("info: missing DockerRootDir"), std::string::npos);
  EXPECT_NE(parse_error([] { parse_docker_root_dir(R"({"DockerRootDir":""})"); }).find("missing DockerRootDir"),
            std::string::npos);
  EXPECT_NE(parse_error([] { parse_docker_root_dir(R"({"DockerRootDir":7})"); }).find("DockerRootDir is not a string"),
            std::string::npos);
  EXPECT_NE(parse_error([] { parse_docker_root_dir("not json"); }).find("info: invalid JSON"), std::string::npos);
}

// -------------------------------------------------------------------------------- logs

TEST(DockerObjectsLogs, DemuxesARealMultiplexedBody) {
  // The container wrote: out one / err one / "out two\r\n" / err two / an empty line / an
  // unterminated tail. The engine orders by timestamp, so stderr came first here.
  auto lines = demux_logs(fixture("logs_multiplexed.bin"), false);
  EXPECT_EQ(lines, (std::vector<LogLine>{err("err one"), err("err two"), out("out one"), out("out two"), out(""),
                                         out("out tail without newline")}));
}

TEST(DockerObjectsLogs, TtyBodyIsRawStdout) {
  EXPECT_EQ(demux_logs(fixture("logs_tty.bin"), true), (std::vector<LogLine>{out("tty one"), out("tty err")}));
  EXPECT_EQ(demux_logs("a\n\nb", true), (std::vector<LogLine>{out("a"), out(""), out("b")}));
  EXPECT_TRUE(demux_logs("", true).empty());
}

TEST(DockerObjectsLogs, JoinsPayloadsPerStreamAcrossFrames) {
  std::string body = frame(1, "hel") + frame(2, "E1\nE") + frame(1, "lo\nwor") + frame(2, "2\n") + frame(1, "") +
                     frame(1, "ld\r") + frame(1, "\nlast");
  EXPECT_EQ(demux_logs(body, false),
            (std::vector<LogLine>{err("E1"), out("hello"), err("E2"), out("world"), out("last")}));
}

TEST(DockerObjectsLogs, UnterminatedRestsComeOutInTheOrderTheyBegan) {
  EXPECT_EQ(demux_logs(frame(2, "e") + frame(1, "o"), false), (std::vector<LogLine>{err("e"), out("o")}));
  EXPECT_EQ(demux_logs(frame(1, "o") + frame(2, "e"), false), (std::vector<LogLine>{out("o"), err("e")}));
}

TEST(DockerObjectsLogs, StdinReadsAsStdoutAndEngineErrorsAsStderr) {
  EXPECT_EQ(demux_logs(frame(0, "in\n") + frame(3, "engine failed\n"), false),
            (std::vector<LogLine>{out("in"), err("engine failed")}));
}

TEST(DockerObjectsLogs, TruncatedBodiesKeepWhatArrivedAndNeverReadPastTheEnd) {
  const std::string whole = frame(1, "one\n") + frame(2, "two\n");
  // Every cut of the body, read from a heap copy of exactly that size so ASan would catch
  // a read past it.
  for (std::size_t cut = 0; cut <= whole.size(); ++cut) {
    std::vector<char> copy(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(cut));
    auto lines = demux_logs(std::string_view(copy.data(), copy.size()), false);
    EXPECT_LE(lines.size(), 2u) << cut;
  }
  // A header cut short: the frames before it only.
  EXPECT_EQ(demux_logs(frame(1, "one\n") + frame(2, "two\n").substr(0, 5), false), std::vector<LogLine>{out("one")});
  // A size larger than the rest: what arrived.
  EXPECT_EQ(demux_logs(frame(1, "abc\nde", 100), false), (std::vector<LogLine>{out("abc"), out("de")}));
  EXPECT_EQ(demux_logs(frame(2, "x", 0xffffffffu), false), std::vector<LogLine>{err("x")});
  EXPECT_TRUE(demux_logs("", false).empty());
  EXPECT_TRUE(demux_logs(std::string("\x01\0\0", 3), false).empty());
}

TEST(DockerObjectsLogs, ATtyBodyReadAsFramesIsAnError) {
  EXPECT_NE(parse_error([] { demux_logs(fixture("logs_tty.bin"), false); }).find("frame at byte 0 has stream type 116"),
            std::string::npos);
  EXPECT_NE(parse_error([] { demux_logs(frame(1, "ok\n") + frame(9, "x"), false); }).find("frame at byte 11"),
            std::string::npos);
}

// The one bounded parse every engine answer goes through: too large or too deep is refused
// before (or while) parsing, with the answer named.
TEST(EngineJson, ParseIsBoundedAndNamesTheAnswer) {
  EXPECT_TRUE(parse_bounded(R"({"a":[1,2]})", "x").is_object());
  EXPECT_EQ(parse_error([] { parse_bounded(std::string(17, ' ') + "{}", "system df", JsonLimits{16, 8}); }),
            "system df: larger than 16 bytes (19)");
  const std::string deep = std::string(9, '[') + std::string(9, ']');
  EXPECT_NE(parse_error([&] { parse_bounded(deep, "image list", JsonLimits{1024, 8}); }).find("image list: invalid JSON"),
            std::string::npos);
  EXPECT_NO_THROW(parse_bounded(deep, "image list", JsonLimits{1024, 9}));
  EXPECT_NE(parse_error([] { parse_bounded("{", "volume list"); }).find("volume list: invalid JSON: "),
            std::string::npos);
  std::string error;
  EXPECT_FALSE(try_parse_bounded("nope", kEventLimits, error));
  EXPECT_NE(error.find("invalid JSON"), std::string::npos);
  // An event line as long as the stream's line limit still parses; one byte more does not.
  const std::string padded = R"({"Type":"container","Action":"start","pad":")";
  const std::string line = padded + std::string(kEventLimits.max_bytes - padded.size() - 2, 'x') + "\"}";
  EXPECT_TRUE(try_parse_bounded(line, kEventLimits, error)) << error;
  EXPECT_FALSE(try_parse_bounded(line + " ", kEventLimits, error));
}
