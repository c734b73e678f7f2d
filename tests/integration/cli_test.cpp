// The binary's process contract: signals, flag errors, the status command.

#include <csignal>

#include <boost/json.hpp>

#include <filesystem>

#include "harness.h"

namespace itest {
namespace {

namespace json = boost::json;

std::string bin() { return quote(agent_binary().string()); }

// The first object anywhere in `v` whose member `key` is the string `value`.
const json::object* find_object(const json::value& v, const std::string& key, const std::string& value) {
  if (const auto* o = v.if_object()) {
    if (const auto* m = o->if_contains(key); m && m->is_string() && m->get_string() == value) return o;
    for (const auto& [k, child] : *o)
      if (const auto* found = find_object(child, key, value)) return found;
  } else if (const auto* a = v.if_array()) {
    for (const auto& child : *a)
      if (const auto* found = find_object(child, key, value)) return found;
  }
  return nullptr;
}

std::string string_member(const json::object& o, const char* key) {
  const auto* m = o.if_contains(key);
  return m && m->is_string() ? std::string(m->get_string()) : "<missing " + std::string(key) + ">";
}

TEST(AgentProcessContract, SigtermExitsZero) {
  AgentProcess agent;
  ASSERT_EQ(agent.get("/healthz").status, 200);
  EXPECT_EQ(agent.stop(), 0);
}

TEST(AgentProcessContract, SigintExitsZero) {
  AgentProcess agent;
  ASSERT_EQ(agent.get("/healthz").status, 200);
  kill(agent.pid(), SIGINT);
  EXPECT_TRUE(eventually([&] { return !agent.running(); }, 10s, "the agent exits on SIGINT"));
  EXPECT_EQ(agent.stop(), 0);
}

TEST(AgentProcessContract, UnknownFlagFailsWithOneLine) {
  // A listen address of its own, should the flag be ignored and the agent start.
  ShResult r = sh(bin() + " run --no-such-flag=1 --web.listen-address=127.0.0.1:1", 20s);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.code, 124) << "still running after 20 s";
  std::string all = r.out + r.err;
  while (!all.empty() && all.back() == '\n') all.pop_back();
  EXPECT_FALSE(all.empty());
  EXPECT_EQ(all.find('\n'), std::string::npos) << "more than one line:\n" << all;
  EXPECT_NE(all.find("no-such-flag"), std::string::npos) << all;
}

TEST(StatusCommand, ListsARunningContainerAsJson) {
  Cleanup cleanup;
  const std::string project = unique_name("status"), service = "db", name = unique_name("statusdb");
  run_container(cleanup, {name, project, service});

  ShResult r = sh(bin() + " status --format json", 60s);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  json::value doc;
  ASSERT_NO_THROW(doc = json::parse(r.out)) << r.out;
  const json::object* row = find_object(doc, "container", name);
  ASSERT_NE(row, nullptr) << "no object with \"container\": \"" << name << "\" in\n" << r.out;
  EXPECT_EQ(string_member(*row, "project"), project) << json::serialize(*row);
  EXPECT_EQ(string_member(*row, "service"), service) << json::serialize(*row);
  EXPECT_EQ(string_member(*row, "state"), "running") << json::serialize(*row);
}

TEST(StatusCommand, ExitsTwoWhenTheEngineIsUnreachable) {
  const std::string socket = "/tmp/" + unique_name("nosock") + "/docker.sock";
  ShResult r = sh("env -u DOCKER_HOST " + bin() + " status --format json --docker.host=unix://" + socket, 60s);
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("is dockerd running?"), std::string::npos) << r.err;
}

// The engine's socket is root:docker 0660; a user outside the group gets a reason that
// says what to do, not a bare errno.
TEST(StatusCommand, PermissionDeniedOnTheSocketIsExplained) {
  Cleanup cleanup;
  // A copy that `nobody` can execute wherever the checkout lives (CI may clone under /root).
  const std::filesystem::path dir = "/tmp/" + unique_name("nobody");
  cleanup.path(dir);
  must("install -d -m 0755 " + quote(dir.string()) + " && install -m 0755 " + bin() + " " +
       quote((dir / "composewatch").string()));
  ShResult r = sh("env -u DOCKER_HOST runuser -u nobody -- " + quote((dir / "composewatch").string()) +
                      " status --docker.host=unix:///var/run/docker.sock",
                  60s);
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("permission denied on /var/run/docker.sock"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("docker group"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace itest

namespace itest {
namespace {

TEST(HealthcheckCommand, ZeroWhileTheAgentServesOneOnceItIsGone) {
  auto agent = std::make_unique<AgentProcess>();
  const std::string flags = "--web.listen-address=:" + std::to_string(agent->port());
  const ShResult up = sh(quote(agent_binary().string()) + " healthcheck " + flags);
  EXPECT_EQ(up.code, 0) << up.out << up.err;
  EXPECT_NE(up.out.find("127.0.0.1:" + std::to_string(agent->port()) + ": ok"), std::string::npos) << up.out;
  agent->stop();
  const ShResult down = sh(quote(agent_binary().string()) + " healthcheck " + flags);
  EXPECT_EQ(down.code, 1) << down.out << down.err;
  EXPECT_NE(down.err.find("is not healthy: Connection refused"), std::string::npos) << down.err;
}

}  // namespace
}  // namespace itest
