// What /metrics and the other endpoints serve, checked with Prometheus's own linter.

#include <fstream>

#include "harness.h"

namespace itest {
namespace {

TEST(MetricsEndpoint, PassesPromtoolAndCarriesTheContractsSeries) {
  Cleanup cleanup;
  AgentProcess agent;
  const std::string project = unique_name("expo");
  const std::string running = unique_name("running"), exited = unique_name("exited");
  run_container(cleanup, {running, project, "app"});
  run_container(cleanup, {.name = exited, .command = "sh -c 'exit 0'"});
  must("docker exec " + running + " sh -c 'echo hi'");

  const Labels exec_start = {{"type", "container"}, {"action", "exec_start"}};
  ASSERT_TRUE(metric_eventually(
      agent, "composewatch_events_total", exec_start, [](auto v) { return v && *v >= 1; }, ">= 1"));
  ASSERT_TRUE(metric_eventually_eq(agent, "composewatch_container_state",
                                   with(container_series("", "", exited), "state", "exited"), 1));

  HttpResponse r = agent.get("/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(r.header("content-encoding"), "");

  // promtool reads the exposition on stdin and prints one line per problem.
  const auto dir = make_temp_dir(cleanup, "expo");
  const auto body_file = dir / "metrics.txt";
  std::ofstream(body_file, std::ios::binary) << r.body;
  ShResult lint = sh("promtool check metrics < " + quote(body_file.string()));
  EXPECT_EQ(lint.code, 0) << lint.out << lint.err;
  EXPECT_EQ(lint.out + lint.err, "") << "promtool found problems";

  Metrics m = Metrics::parse(r.body);
  for (const Sample* s : m.find("composewatch_events_total")) {
    const std::string& action = s->labels.at("action");
    EXPECT_EQ(action.find_first_of(" :"), std::string::npos) << format_sample(*s);
  }

  auto build_info = m.find("composewatch_build_info");
  ASSERT_EQ(build_info.size(), 1u) << m.lines("composewatch_build_info");
  EXPECT_EQ(build_info.front()->value, 1.0);
  EXPECT_NE(build_info.front()->labels.count("version"), 0u) << format_sample(*build_info.front());
  EXPECT_NE(build_info.front()->labels.count("revision"), 0u) << format_sample(*build_info.front());
  EXPECT_NE(m.value("composewatch_build_info", {{"version", ""}}), 1.0) << "empty version label";

  const std::string version = must("docker version -f '{{.Server.Version}}'");
  const std::string api = must("docker version -f '{{.Server.APIVersion}}'");
  EXPECT_EQ(m.value("composewatch_engine_info", {{"version", version}, {"api_version", api}}), 1.0)
      << m.lines("composewatch_engine_info");
  EXPECT_EQ(m.value("composewatch_engine_up"), 1.0);

  auto rss = m.value("process_resident_memory_bytes");
  ASSERT_TRUE(rss.has_value()) << "process_resident_memory_bytes is not exported";
  EXPECT_GT(*rss, 0);
  for (const char* name : {"process_cpu_seconds_total", "process_open_fds", "process_start_time_seconds"})
    EXPECT_TRUE(m.value(name).has_value()) << name << " is not exported";

  EXPECT_EQ(m.value("composewatch_container_info",
                    with(with(container_series(project, "app", running), "id", short_id(running)), "image", kImage)),
            1.0)
      << m.lines("composewatch_container_info");
}

TEST(MetricsEndpoint, GzipsWhenAsked) {
  AgentProcess agent;
  HttpResponse r = agent.get("/metrics", {{"Accept-Encoding", "gzip"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-encoding"), "gzip");
  EXPECT_EQ(r.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  ASSERT_GE(r.body.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(r.body[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(r.body[1]), 0x8b);
  Metrics m = Metrics::parse(gunzip(r.body));
  EXPECT_TRUE(m.value("composewatch_engine_up").has_value());
  EXPECT_EQ(m.find("composewatch_build_info").size(), 1u);
}

TEST(MetricsEndpoint, RootPageLinksTheMetrics) {
  AgentProcess agent;
  HttpResponse r = agent.get("/");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type").rfind("text/html", 0), 0u) << r.header("content-type");
  EXPECT_NE(r.body.find("href=\"/metrics\""), std::string::npos) << r.body;
}

}  // namespace
}  // namespace itest
