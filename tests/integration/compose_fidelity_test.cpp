// Compose fidelity on the real engine: a project deployed with a variable from the
// deployer's shell, checked by an agent that does not have it (as under systemd); the
// env files Compose v2 records on its containers; and the files a project pulls in
// through include and extends, watched like its own.

#include <unistd.h>

#include <fstream>

#include "harness.h"

namespace itest {
namespace {

namespace fs = std::filesystem;

std::string describe(const ShResult& r) {
  return "exit " + std::to_string(r.code) + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
}

// Writes `text` the way editors save: a new file renamed over the old one.
void save(const fs::path& p, const std::string& text) {
  const fs::path tmp = p.parent_path() / ("." + p.filename().string() + ".swp");
  std::ofstream(tmp) << text;
  fs::rename(tmp, p);
}

// A second tag of the test image (no registry needed), untagged by `cleanup`.
std::string second_tag(Cleanup& cleanup, const std::string& tag) {
  const std::string image = "composewatch-test/busybox:" + tag;
  must("docker tag " + quote(kImage) + " " + quote(image));
  cleanup.add([image] { sh("docker rmi " + quote(image)); });
  return image;
}

Labels field(const std::string& project, const std::string& service, const std::string& f) {
  return {{"project", project}, {"service", service}, {"field", f}};
}

constexpr const char* kTaggedService = R"(services:
  api:
    image: composewatch-test/busybox:${TAG}
    command: ["sleep", "3600"]
    network_mode: none
    mem_limit: 32m
    restart: unless-stopped
    stop_grace_period: 1s
)";

constexpr const char* kRequiredTag = R"(services:
  api:
    image: composewatch-test/busybox:${TAG:?the release tag}
    command: ["sleep", "3600"]
    network_mode: none
    restart: unless-stopped
    stop_grace_period: 1s
)";

TEST(ComposeFidelity, DeployersVariableIsUnknownToTheAgentUntilItsEnvFileGivesIt) {
  Cleanup cleanup;
  const std::string tag = "cwfid-" + std::to_string(::getpid());
  second_tag(cleanup, tag);
  const std::string project = "cwfid-tag-" + std::to_string(::getpid());
  const fs::path dir = make_temp_dir(cleanup, "cwfid-tag");
  const fs::path file = dir / "docker-compose.yml";
  std::ofstream(file) << kTaggedService;
  cleanup.compose(file, project);
  // The deployer's shell has TAG; the file's directory has no .env.
  must("TAG=" + quote(tag) + " docker-compose -p " + quote(project) + " -f " + quote(file.string()) +
       " up -d 2>&1");

  // The agent as under systemd: without TAG, the project found from its containers.
  {
    AgentProcess agent(AgentOptions{.env = {{"TAG", std::nullopt}}});
    ASSERT_TRUE(metric_eventually_eq(agent, "composewatch_compose_project_valid", {{"project", project}}, 1));
    ASSERT_TRUE(metric_eventually_eq(agent, "composewatch_service_drift", field(project, "api", "restart_policy"), 0));
    const Metrics m = agent.scrape();
    EXPECT_FALSE(m.value("composewatch_service_drift", field(project, "api", "image")))
        << m.lines("composewatch_service_drift", {{"project", project}});
    EXPECT_EQ(m.value("composewatch_service_drift", field(project, "api", "memory_limit")), 0.0);
  }
  const std::string check = "env -u TAG " + quote(agent_binary().string()) + " check";
  // Every project on the (shared) engine is checked: only this one's lines are asserted.
  const ShResult text = sh(check);
  EXPECT_NE(text.out.find("unknown image: service api: not compared, the file's value depends on TAG"),
            std::string::npos)
      << describe(text);
  EXPECT_NE(text.out.find("TAG is not set in the agent's environment: set compose.projects[].env_file in "),
            std::string::npos)
      << describe(text);
  EXPECT_NE(text.out.find("systemctl edit composewatch"), std::string::npos) << describe(text);
  EXPECT_EQ(text.out.find("drift image"), std::string::npos) << describe(text);
  const ShResult json = sh(check + " --format json");
  EXPECT_NE(json.out.find(R"("unknown":[{"service":"api","field":"image",)"), std::string::npos) << describe(json);
  EXPECT_NE(json.out.find(R"("variables":["TAG"])"), std::string::npos) << describe(json);

  // compose.projects[].env_file gives the agent the deployer's TAG: compared, and equal.
  const fs::path env_file = dir / "agent.env";
  std::ofstream(env_file) << "TAG=" << tag << "\n";
  const fs::path config = dir / "config.yml";
  std::ofstream(config) << "compose:\n  projects:\n    - name: " << project << "\n      files: [" << file.string()
                        << "]\n      env_file: " << env_file.string() << "\n";
  AgentProcess agent(AgentOptions{.args = {"--config.file=" + config.string()}, .env = {{"TAG", std::nullopt}}});
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_service_drift", field(project, "api", "image"), 0));
  const ShResult configured = sh(check + " --config.file=" + quote(config.string()));
  EXPECT_EQ(configured.out.find("unknown image"), std::string::npos) << describe(configured);
  EXPECT_EQ(configured.out.find("drift image"), std::string::npos) << describe(configured);

  // Another TAG in that file is a real difference: drift, once the agent sees the edit.
  save(env_file, "TAG=" + tag + "-next\n");
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_service_drift", field(project, "api", "image"), 1, 10s));
  const ShResult drifted = sh(check + " --config.file=" + quote(config.string()));
  EXPECT_EQ(drifted.code, 1) << describe(drifted);
  EXPECT_NE(drifted.out.find("drift image: service api"), std::string::npos) << describe(drifted);
}

// `check -f` in the user's shell keeps Compose's error for ${X:?e}; the agent does not
// fail the project for it.
TEST(ComposeFidelity, RequiredVariableFailsCheckDashFButNotTheAgent) {
  Cleanup cleanup;
  const std::string project = "cwfid-req-" + std::to_string(::getpid());
  const fs::path dir = make_temp_dir(cleanup, "cwfid-req");
  const fs::path file = dir / "docker-compose.yml";
  std::ofstream(file) << kRequiredTag;
  // `down` needs TAG as much as `up` does.
  cleanup.add([file, project] {
    sh("TAG=1 docker-compose -p " + quote(project) + " -f " + quote(file.string()) +
       " down -v --remove-orphans -t 0 2>&1");
  });
  must("TAG=1 docker-compose -p " + quote(project) + " -f " + quote(file.string()) + " up -d 2>&1");

  const ShResult user = sh("env -u TAG " + quote(agent_binary().string()) + " check -f " + quote(file.string()) +
                           " -p " + quote(project));
  EXPECT_EQ(user.code, 2) << describe(user);
  EXPECT_NE(user.err.find("required variable TAG is missing a value: the release tag"), std::string::npos)
      << describe(user);

  AgentProcess agent(AgentOptions{.env = {{"TAG", std::nullopt}}});
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_compose_project_valid", {{"project", project}}, 1));
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_service_drift", field(project, "api", "restart_policy"), 0));
  EXPECT_FALSE(agent.scrape().value("composewatch_service_drift", field(project, "api", "image")));
}

// A container as Compose v2 makes it: labels with absolute paths and the env files used.
TEST(ComposeFidelity, ComposeV2EnvironmentFileLabelGivesTheVariables) {
  Cleanup cleanup;
  const std::string tag = "cwfid2-" + std::to_string(::getpid());
  const std::string image = second_tag(cleanup, tag);
  const std::string project = "cwfid-v2-" + std::to_string(::getpid());
  const fs::path dir = make_temp_dir(cleanup, "cwfid-v2");
  std::ofstream(dir / "compose.yaml") << kTaggedService;
  std::ofstream(dir / "deploy.env") << "TAG=" << tag << "\n";
  std::ofstream(dir / ".env") << "TAG=not-what-compose-read\n";
  const std::string name = project + "-api-1";
  cleanup.container(name);
  must("docker run -d --name " + quote(name) + " --network none --restart unless-stopped -m 32m " +
       compose_labels(project, "api") + " --label " +
       quote("com.docker.compose.project.working_dir=" + dir.string()) + " --label " +
       quote("com.docker.compose.project.config_files=" + (dir / "compose.yaml").string()) + " --label " +
       quote("com.docker.compose.project.environment_file=" + (dir / "deploy.env").string()) + " " +
       quote(image) + " sleep 3600");

  AgentProcess agent(AgentOptions{.env = {{"TAG", std::nullopt}}});
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_compose_project_valid", {{"project", project}}, 1));
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_service_drift", field(project, "api", "image"), 0));
  // The recorded file is watched: a new TAG there is drift.
  save(dir / "deploy.env", "TAG=" + tag + "-next\n");
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_service_drift", field(project, "api", "image"), 1, 10s));
}

// include and extends files reload the project when edited, as its own files do.
TEST(ComposeFidelity, EditOfAnIncludedOrExtendedFileReloadsTheProject) {
  Cleanup cleanup;
  const std::string project = "cwfid-inc-" + std::to_string(::getpid());
  const fs::path dir = make_temp_dir(cleanup, "cwfid-inc");
  fs::create_directories(dir / "inc");
  fs::create_directories(dir / "base");
  std::ofstream(dir / "compose.yaml") << "include: [inc/jobs.yml]\nservices:\n  api:\n    extends: {file: "
                                         "base/common.yml, service: base}\n";
  std::ofstream(dir / "inc/jobs.yml") << "services:\n  jobs: {image: " << kImage << ", scale: 2}\n";
  std::ofstream(dir / "base/common.yml") << "services:\n  base: {image: " << kImage << ", mem_limit: 32m}\n";
  const fs::path config = dir / "config.yml";
  std::ofstream(config) << "compose:\n  projects:\n    - name: " << project << "\n      files: ["
                        << (dir / "compose.yaml").string() << "]\n";
  AgentProcess agent(AgentOptions{.args = {"--config.file=" + config.string()}});
  const Labels jobs = {{"project", project}, {"service", "jobs"}};
  const Labels api = {{"project", project}, {"service", "api"}};
  ASSERT_TRUE(metric_eventually_eq(agent, "composewatch_service_replicas_desired", jobs, 2));
  ASSERT_TRUE(metric_eventually_eq(agent, "composewatch_service_memory_limit_bytes", api, 32.0 * 1024 * 1024));

  save(dir / "inc/jobs.yml", "services:\n  jobs: {image: " + std::string(kImage) + ", scale: 3}\n");
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_service_replicas_desired", jobs, 3, 10s));
  save(dir / "base/common.yml", "services:\n  base: {image: " + std::string(kImage) + ", mem_limit: 48m}\n");
  EXPECT_TRUE(metric_eventually_eq(agent, "composewatch_service_memory_limit_bytes", api, 48.0 * 1024 * 1024, 10s));
}

}  // namespace
}  // namespace itest
