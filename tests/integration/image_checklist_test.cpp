// The image and build checklist on the real engine: images built here with BuildKit from a
// Dockerfile with defects and from a clean one, run as a compose project, are seen by the
// running agent (composewatch_image_finding) and by `composewatch check`; a rebuilt, larger
// image of the same service gives image-grew.

#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <fstream>
#include <set>

#include "harness.h"

namespace itest {
namespace {

namespace fs = std::filesystem;

// BuildKit, as ENGINE-NOTES says: Debian's client, no network.
void buildkit(const fs::path& context, const std::string& tag) {
  must("DOCKER_BUILDKIT=1 /usr/bin/docker build --network none -q -t " + tag + " " + quote(context.string()) + " 2>&1",
       300s);
}

std::string image_id(const std::string& tag) { return must("docker image inspect -f '{{.Id}}' " + tag); }

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

// Every check the dirty Dockerfile and its image should give, and no other.
const std::set<std::string> kDirtyChecks = {
    "dockerignore-missing",  "dependencies-after-source", "apt-install-recommends", "apt-lists-kept",
    "pip-cache-kept",        "toolchain-in-final-stage",  "final-stage-runs-as-root",
    "secret-build-variable", "base-image-unpinned",       "image-runs-as-root",     "image-secret-env"};

std::set<std::string> checks_of(const Metrics& m, const std::string& project, const std::string& service) {
  std::set<std::string> out;
  for (const auto* s : m.find("composewatch_image_finding", {{"project", project}, {"service", service}}))
    if (s->value == 1) out.insert(s->labels.at("check"));
  return out;
}

TEST(ImageChecklist, DefectsAreFoundByTheAgentAndByCheckAndACleanImageHasNone) {
  Cleanup cleanup;
  const std::string project = "imgchk" + std::to_string(::getpid());
  const fs::path dir = make_temp_dir(cleanup, "imgchk");
  const std::string base = "composewatch-test/imgchk-base-" + std::to_string(::getpid()) + ":latest";
  const std::string dirty_tag = "composewatch-test/imgchk-dirty-" + std::to_string(::getpid()) + ":1";
  const std::string clean_tag = "composewatch-test/imgchk-clean-" + std::to_string(::getpid()) + ":1";
  // Every image built, removed at the end (also the one a rebuild untags). Shared with the
  // cleanup step, which runs after this scope's other locals are gone.
  auto ids = std::make_shared<std::vector<std::string>>();
  cleanup.add([ids, base, dirty_tag, clean_tag] {
    sh("docker rmi -f " + dirty_tag + " " + clean_tag + " 2>&1");
    for (const auto& id : *ids) sh("docker rmi -f " + id + " 2>&1");
    sh("docker rmi " + base + " 2>&1");  // only the tag: the test image stays
  });
  must("docker tag " + std::string(kImage) + " " + base);

  // Each defect in a RUN sits behind `true ||`: the parser sees it, the build never runs it
  // (the base has no apt-get, pip or npm).
  write(dir / "dirty/Dockerfile", "FROM " + base +
                                      "\n"
                                      "ENV API_TOKEN=not-a-real-token\n"
                                      "COPY . /app\n"
                                      "RUN true || apt-get install -y curl gcc\n"
                                      "RUN true || pip install flask\n"
                                      "RUN true || npm ci\n"
                                      "CMD [\"sleep\", \"3600\"]\n");
  write(dir / "dirty/app.txt", "dirty\n");
  write(dir / "clean/Dockerfile", std::string("FROM ") + kImage +
                                      "\n"
                                      "COPY app.txt /app/app.txt\n"
                                      "USER 65534:65534\n"
                                      "CMD [\"sleep\", \"3600\"]\n");
  write(dir / "clean/.dockerignore", ".git\nnode_modules\n.venv\nvenv\nenv\n.env*\n");
  write(dir / "clean/app.txt", "clean\n");
  buildkit(dir / "dirty", dirty_tag);
  ids->push_back(image_id(dirty_tag));
  buildkit(dir / "clean", clean_tag);
  ids->push_back(image_id(clean_tag));

  const fs::path file = dir / "docker-compose.yml";
  write(file, "services:\n"
              "  dirty:\n"
              "    build: ./dirty\n"
              "    image: " + dirty_tag + "\n"
              "    network_mode: none\n"
              "    stop_grace_period: 1s\n"
              "  clean:\n"
              "    build: ./clean\n"
              "    image: " + clean_tag + "\n"
              "    network_mode: none\n"
              "    stop_grace_period: 1s\n");
  cleanup.compose(file, project);
  const std::string compose = "docker-compose -p " + project + " -f " + quote(file.string());
  must(compose + " up -d --no-build 2>&1", 120s);

  AgentProcess agent;
  const Labels dirty = {{"project", project}, {"service", "dirty"}};
  for (const auto& check : kDirtyChecks)
    EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_image_finding", with(dirty, "check", check), 1, 60s))
        << check << "\n" << agent.log_tail();
  Metrics m = agent.scrape();
  EXPECT_EQ(checks_of(m, project, "dirty"), kDirtyChecks) << m.lines("composewatch_image_finding", dirty);
  EXPECT_EQ(checks_of(m, project, "clean"), std::set<std::string>{})
      << m.lines("composewatch_image_finding", {{"project", project}});
  EXPECT_EQ(m.value("composewatch_collector_success", {{"collector", "images"}}), 1.0);

  // `composewatch check`: the same checks, exit 1, secrets named but not their values.
  const ShResult text = sh(quote(agent_binary().string()) + " check -f " + quote(file.string()) + " -p " + project);
  EXPECT_EQ(text.code, 1) << text.out << text.err;
  EXPECT_NE(text.out.find("image-runs-as-root: service dirty"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("build clean: context " + (dir / "clean").string() + " sends "), std::string::npos)
      << text.out;
  EXPECT_EQ(text.out.find("not-a-real-token"), std::string::npos) << text.out;
  const ShResult json = sh(quote(agent_binary().string()) + " check --format json -f " + quote(file.string()) +
                           " -p " + project);
  EXPECT_EQ(json.code, 1) << json.err;
  std::map<std::string, std::set<std::string>> by_service;
  const boost::json::value doc = boost::json::parse(json.out);
  for (const auto& p : doc.at("projects").as_array())
    for (const auto& svc : p.at("images").as_array()) {
      auto& checks = by_service[std::string(svc.at("service").as_string())];
      for (const auto& f : svc.at("findings").as_array()) checks.insert(std::string(f.at("check").as_string()));
      EXPECT_FALSE(svc.at("build").is_null()) << json.out;
      EXPECT_FALSE(svc.at("image").is_null()) << json.out;
    }
  EXPECT_EQ(by_service["dirty"], kDirtyChecks) << json.out;
  EXPECT_EQ(by_service["clean"], std::set<std::string>{}) << json.out;

  // A larger image of the same service: the agent sees the image change and the growth.
  write(dir / "dirty/Dockerfile", "FROM " + base +
                                      "\n"
                                      "ENV API_TOKEN=not-a-real-token\n"
                                      "COPY . /app\n"
                                      "RUN dd if=/dev/zero of=/big bs=1048576 count=40\n"
                                      "RUN true || apt-get install -y curl gcc\n"
                                      "RUN true || pip install flask\n"
                                      "RUN true || npm ci\n"
                                      "CMD [\"sleep\", \"3600\"]\n");
  buildkit(dir / "dirty", dirty_tag);
  ids->push_back(image_id(dirty_tag));
  must(compose + " up -d --no-build 2>&1", 120s);
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_image_finding", with(dirty, "check", "image-grew"), 1, 60s))
      << agent.log_tail();
  EXPECT_TRUE(metric_eventually_absent(agent, "composewatch_image_finding",
                                       {{"project", project}, {"service", "clean"}, {"check", "image-grew"}}, 1s));
}

}  // namespace
}  // namespace itest
