// The image checks over the engine's answers, the joined report, and the collector that
// exports composewatch_image_finding from a snapshot.

#include <gtest/gtest.h>

#include "composewatch/docker/container.h"
#include "composewatch/docker/objects.h"
#include "composewatch/images/service_image.h"
#include "composewatch/metrics/collector.h"

namespace docker = composewatch::docker;
namespace img = composewatch::images;
namespace state = composewatch::state;
namespace metrics = composewatch::metrics;

namespace {

constexpr const char* kImageInspect = R"({"Id":"sha256:aaa","Size":104857600,"RepoTags":["shop/api:1"],
  "Config":{"User":"","Env":["PATH=/usr/bin","DB_PASSWORD=hunter2","API_TOKEN_FILE=/run/secrets/t","GITHUB_TOKEN="]}})";

TEST(ImageConfig, ParsesUserSizeAndEnvKeysOnly) {
  const auto c = docker::parse_image_inspect(kImageInspect);
  EXPECT_EQ(c.id, "sha256:aaa");
  EXPECT_EQ(c.size, 104857600);
  EXPECT_EQ(c.user, "");
  EXPECT_EQ(c.env_keys, (std::vector<std::string>{"PATH", "DB_PASSWORD", "API_TOKEN_FILE", "GITHUB_TOKEN"}));
  EXPECT_EQ(docker::parse_image_inspect(R"({"Id":"sha256:b","Config":null})").user, "");
  EXPECT_THROW(docker::parse_image_inspect("{"), docker::ParseError);
  EXPECT_THROW(docker::parse_image_inspect(R"({"Size":1})"), docker::ParseError);
  EXPECT_THROW(docker::parse_image_inspect(R"({"Id":"x","Config":{"Env":"A=1"}})"), docker::ParseError);
  EXPECT_THROW(docker::parse_image_inspect(R"({"Id":"x","Config":{"Env":[1]}})"), docker::ParseError);
  const auto ref = docker::parse_inspect(
      R"({"Id":"c1","Image":"sha256:aaa","Config":{"User":"1000:1000"},"State":{"Status":"running"}})");
  EXPECT_EQ(ref.image_id, "sha256:aaa");
  EXPECT_EQ(ref.user, "1000:1000");
  EXPECT_EQ(docker::parse_inspect(R"({"Id":"c1","Config":{},"State":{}})").user, "");
}

TEST(ImageChecks, RootUser) {
  for (const char* u : {"", "0", "root", "0:0", "root:root", "0:1000"}) EXPECT_TRUE(img::is_root_user(u)) << u;
  for (const char* u : {"1000", "app", "65534:65534", "nobody", "10:0"}) EXPECT_FALSE(img::is_root_user(u)) << u;
}

img::ServiceImage service_image() {
  img::ServiceImage s;
  s.project = "shop";
  s.service = "api";
  s.container = "shop_api_1";
  s.image = "shop/api:1";
  s.config = docker::parse_image_inspect(kImageInspect);
  return s;
}

std::vector<std::string> ids(const std::vector<img::Finding>& f) {
  std::vector<std::string> out;
  for (const auto& x : f) out.push_back(x.check);
  return out;
}

TEST(ImageChecks, TheContainersUserCountsAndSecretKeysAreNamedWithoutValues) {
  auto s = service_image();
  s.has_container_user = true;
  s.container_user = "";  // nothing in the image, nothing in compose
  auto f = img::check_image(s);
  EXPECT_EQ(ids(f), (std::vector<std::string>{"image-runs-as-root", "image-secret-env"}));
  EXPECT_EQ(f[1].message, "the image's environment sets DB_PASSWORD, GITHUB_TOKEN");
  for (const auto& x : f) EXPECT_EQ(x.message.find("hunter2"), std::string::npos);
  s.container_user = "1000";  // compose `user: "1000"` over an image without USER
  EXPECT_EQ(ids(img::check_image(s)), (std::vector<std::string>{"image-secret-env"}));
  s.config.user = "1000";
  s.container_user = "root";  // compose `user: root` over an image with USER
  EXPECT_EQ(ids(img::check_image(s)), (std::vector<std::string>{"image-runs-as-root", "image-secret-env"}));
  s.has_container_user = false;  // no container: the image's own user
  EXPECT_EQ(ids(img::check_image(s)), (std::vector<std::string>{"image-secret-env"}));
}

TEST(ImageChecks, GrowthAboveBothThresholdsOnly) {
  auto s = service_image();
  s.config.env_keys.clear();
  s.config.user = "1000";
  s.previous = img::PreviousImage{"sha256:old", 50 << 20};  // 50 MiB → 100 MiB
  auto f = img::check_image(s);
  ASSERT_EQ(ids(f), (std::vector<std::string>{"image-grew"}));
  EXPECT_NE(f[0].message.find("50 MiB"), std::string::npos) << f[0].message;
  s.previous = img::PreviousImage{"sha256:old", 95 << 20};  // +5 MiB: below 20 MiB
  EXPECT_TRUE(img::check_image(s).empty());
  s.config.size = std::int64_t(1030) << 20;
  s.previous = img::PreviousImage{"sha256:old", std::int64_t(1000) << 20};  // +30 MiB but 3 %
  EXPECT_TRUE(img::check_image(s).empty());
  s.previous = img::PreviousImage{"sha256:old", std::int64_t(2000) << 20};  // shrank
  EXPECT_TRUE(img::check_image(s).empty());
  s.previous = img::PreviousImage{s.config.id, 1};  // the same image
  EXPECT_TRUE(img::check_image(s).empty());
}

TEST(ImageChecks, LargestLayersShortened) {
  std::vector<composewatch::docker::ImageLayer> h(4);
  h[0] = {"<missing>", 4, "/bin/sh -c #(nop)  CMD [\"app\"]", 0, {}};
  h[1] = {"<missing>", 3, "RUN /bin/sh -c apt-get update &&   apt-get install -y gcc # buildkit", 300, {}};
  h[2] = {"<missing>", 2, "/bin/sh -c pip install -r requirements.txt", 500, {}};
  h[3] = {"<missing>", 1, "", 100, {}};
  const auto l = img::largest_layers(h, 2, 30);
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0].size, 500);
  EXPECT_EQ(l[0].created_by, "RUN pip install -r requiremen\xE2\x80\xA6");
  EXPECT_EQ(l[1].created_by, "RUN apt-get update && apt-get\xE2\x80\xA6");
}

TEST(ImageReport, JoinPutsBuildThenImageFindingsPerService) {
  img::ServiceReport build;
  build.project = "shop";
  build.service = "api";
  build.build = img::BuildReport{};
  build.build->findings = {{"dockerignore-missing", "/srv/api", "no .dockerignore"}};
  img::ServiceReport only_build;
  only_build.project = "shop";
  only_build.service = "worker";
  only_build.build = img::BuildReport{};
  img::ServiceReport running;
  running.project = "shop";
  running.service = "api";
  running.image = service_image();
  const auto joined = img::join_reports({build, only_build}, {running});
  ASSERT_EQ(joined.size(), 2u);
  EXPECT_EQ(joined[0].service, "api");
  EXPECT_EQ(ids(joined[0].findings), (std::vector<std::string>{"dockerignore-missing", "image-runs-as-root", "image-secret-env"}));
  EXPECT_TRUE(joined[1].findings.empty());
}

TEST(ImageReport, RunningServicesOnePerServiceRunningComposeOnly) {
  std::vector<state::ContainerRecord> cs(4);
  cs[0].name = "shop_api_1";
  cs[0].id = "a1";
  cs[0].state = "running";
  cs[0].spec.compose.project = "shop";
  cs[0].spec.compose.service = "api";
  cs[1] = cs[0];
  cs[1].name = "shop_api_2";
  cs[1].id = "a2";
  cs[2] = cs[0];
  cs[2].name = "shop_db_1";
  cs[2].id = "d1";
  cs[2].spec.compose.service = "db";
  cs[2].state = "exited";
  cs[3].name = "loose";
  cs[3].state = "running";
  const auto r = img::running_services(cs);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].container_id, "a1");
}

TEST(ImageCollector, OneSeriesPerProjectServiceAndCheck) {
  auto report = std::make_shared<img::ImageReport>();
  img::ServiceReport s;
  s.project = "shop";
  s.service = "api";
  s.findings = {{"base-image-unpinned", "D:1", "a"}, {"base-image-unpinned", "D:4", "b"}, {"image-runs-as-root", "x", "c"}};
  report->services.push_back(s);
  img::ServiceReport clean;
  clean.project = "shop";
  clean.service = "web";
  report->services.push_back(clean);
  state::Snapshot snap;
  snap.images = report;
  std::vector<std::unique_ptr<metrics::Collector>> cs;
  cs.push_back(metrics::make_image_collector());
  const std::string text = metrics::Exposition(std::move(cs)).render(snap);
  EXPECT_NE(text.find("composewatch_image_finding{project=\"shop\",service=\"api\",check=\"base-image-unpinned\"} 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("composewatch_image_finding{project=\"shop\",service=\"api\",check=\"image-runs-as-root\"} 1"),
            std::string::npos);
  EXPECT_EQ(text.find("service=\"web\""), std::string::npos);
  std::size_t n = 0;
  for (std::size_t p = 0; (p = text.find("composewatch_image_finding{", p)) != std::string::npos; ++p) ++n;
  EXPECT_EQ(n, 2u);
  EXPECT_NE(text.find("composewatch_collector_success{collector=\"images\"} 1"), std::string::npos);
  report->last_ok = false;
  std::vector<std::unique_ptr<metrics::Collector>> cs2;
  cs2.push_back(metrics::make_image_collector());
  EXPECT_NE(metrics::Exposition(std::move(cs2)).render(snap).find("composewatch_collector_success{collector=\"images\"} 0"),
            std::string::npos);
}

TEST(ImageChecksCatalogue, EveryCheckHasWhyAndFix) {
  for (const auto& c : img::checks()) {
    EXPECT_FALSE(c.why.empty()) << c.id;
    EXPECT_FALSE(c.fix.empty()) << c.id;
    EXPECT_EQ(&img::checks().at(c.id), &c);
  }
  EXPECT_THROW(img::checks().at("nope"), std::out_of_range);
}

}  // namespace

#include <sstream>

#include "composewatch/commands/diagnose/render.h"

namespace {

TEST(ImageDiagnose, TheChecklistSectionInTextAndJson) {
  composewatch::commands::HostFacts f;
  img::ServiceReport s;
  s.project = "shop";
  s.service = "api";
  s.build = img::BuildReport{};
  s.build->context = "/srv/shop/api";
  s.build->context_size = {.bytes = 3u << 20, .files = 12, .complete = true, .error = {}};
  s.findings = {{"dockerignore-missing", "/srv/shop/api", "the build context /srv/shop/api has no .dockerignore"}};
  f.image_checks = {s};
  const auto report = composewatch::commands::build_report(f);
  std::ostringstream text, json;
  composewatch::commands::render_text(report, text);
  composewatch::commands::render_json(report, json);
  EXPECT_NE(text.str().find("== Image and Dockerfile checklist\n  shop/api: context /srv/shop/api sends 3 MiB\n"
                            "    dockerignore-missing: the build context /srv/shop/api has no .dockerignore"),
            std::string::npos)
      << text.str();
  EXPECT_NE(json.str().find(R"("image_checklist":{"error":null,"services":[{"project":"shop","service":"api","context":"/srv/shop/api","context_bytes":3145728,"context_complete":true,"image":null,"image_bytes":null,"findings":[{"check":"dockerignore-missing")"),
            std::string::npos)
      << json.str();
}

}  // namespace
