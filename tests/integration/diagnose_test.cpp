// `composewatch diagnose` against the real engine: an OOM-killed container, a restart loop
// and an immediate exit each under its rule with its exit code and log lines from both
// streams, a child's OOM kill seen only by the cgroup, a TTY container's raw log; the disk
// figures as summarize() of /system/df; exit 0 with an unreachable engine.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include "composewatch/engine/client.h"
#include "composewatch/docker/objects.h"
#include "harness.h"

namespace itest {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
namespace engine = composewatch::engine;
namespace docker = composewatch::docker;

std::string bin() { return quote(agent_binary().string()); }

docker::DiskSummary disk_summary_now() {
  asio::io_context ioc;
  auto fut = asio::co_spawn(
      ioc,
      []() -> asio::awaitable<std::string> {
        engine::Client client(co_await asio::this_coro::executor, engine::parse_endpoint("unix:///var/run/docker.sock"),
                              engine::ClientOptions{.request_timeout = std::chrono::seconds(120)});
        co_return co_await client.get("/system/df");
      }(),
      asio::use_future);
  ioc.run();
  return docker::summarize(docker::parse_system_df(fut.get()));
}

const json::object* troubled_named(const json::value& doc, const std::string& name) {
  for (const auto& t : doc.at("containers").at("troubled").as_array())
    if (t.at("name").as_string() == name) return &t.as_object();
  return nullptr;
}

bool has_log(const json::object& c, const std::string& stream, const std::string& text) {
  for (const auto& l : c.at("logs").as_array())
    if (l.at("stream").as_string() == stream && l.at("text").as_string() == text) return true;
  return false;
}

// The text between "  <title>\n" and the next rule's title or section.
std::string rule_block(const std::string& text, const std::string& title) {
  const auto start = text.find("\n  " + title + "\n");
  if (start == std::string::npos) return "";
  auto end = text.size();
  for (const char* next : {"\n  OOM-killed\n", "\n  Restart loops\n", "\n  Immediate exits\n", "\n== "}) {
    const auto p = text.find(next, start + 1);
    if (p != std::string::npos && p < end) end = p;
  }
  return text.substr(start, end - start);
}

// The lines of the block that describe `name`, up to the next container of the block.
std::string container_block(const std::string& block, const std::string& name) {
  const auto start = block.find("\n    " + name + "\n");
  if (start == std::string::npos) return "";
  auto end = block.find("\n    cw", start + 1);  // the next container (all test containers are cwit-…)
  return block.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

testing::AssertionResult within(const char* what, std::int64_t got, std::int64_t a, std::int64_t b) {
  const double lo = double(std::min(a, b)) * 0.95 - 64 * 1024;
  const double hi = double(std::max(a, b)) * 1.05 + 64 * 1024;
  if (double(got) >= lo && double(got) <= hi) return testing::AssertionSuccess();
  return testing::AssertionFailure() << what << ": diagnose says " << got << ", /system/df before and after: " << a
                                     << " and " << b;
}

TEST(DiagnoseCommand, ListsTroubledContainersWithLogsAndTheDiskAsSystemDf) {
  Cleanup cleanup;
  const std::string oom = unique_name("diag-oom"), loop = unique_name("diag-loop"), quick = unique_name("diag-quick"),
                    child = unique_name("diag-child"), tty = unique_name("diag-tty");
  run_container(cleanup, {.name = oom,
                          .options = kMemoryLimit,
                          .command = memory_hog("echo start; echo hog-err >&2; ")});
  run_container(cleanup, {.name = loop,
                          .options = "--restart always",
                          .command = "sh -c 'echo loop-out; echo crash >&2; exit 3'"});
  run_container(cleanup, {.name = quick, .command = "sh -c 'echo quick-out; echo quick-err >&2; exit 7'"});
  // With a TTY the log is raw text, not frames.
  run_container(cleanup, {.name = tty, .options = "-t", .command = "sh -c 'echo tty-line; exit 5'"});
  // A child is OOM-killed, the container runs on: only the cgroup's oom_kill counter says so.
  run_container(cleanup, {.name = child,
                          .options = kMemoryLimit,
                          .command = "sh -c 'sh -c \"x=aaaaaaaa; while true; do x=\\$x\\$x; done\"; echo survived; "
                                     "sleep 600'"});

  ASSERT_TRUE(inspect_eventually(oom, "{{.State.OOMKilled}} {{.State.ExitCode}}", "true 137", 30s));
  ASSERT_TRUE(inspect_eventually(quick, "{{.State.Status}} {{.State.ExitCode}}", "exited 7", 30s));
  ASSERT_TRUE(inspect_eventually(tty, "{{.State.Status}} {{.State.ExitCode}}", "exited 5", 30s));
  ASSERT_TRUE(eventually([&] { return std::stoi(inspect(loop, "{{.RestartCount}}")) >= 3; }, 30s,
                         "RestartCount of " + loop + " reaches 3", [&] { return inspect(loop, "{{.RestartCount}}"); }));

  ASSERT_TRUE(eventually([&] { return sh("docker logs " + quote(child) + " 2>/dev/null").out.find("survived") !=
                                      std::string::npos; },
                         30s, child + " survives its child's OOM kill"));
  ASSERT_EQ(inspect(child, "{{.State.Status}} {{.State.OOMKilled}}"), "running false");

  const auto before = disk_summary_now();
  const ShResult js = sh(bin() + " diagnose --format json --logs 10", 150s);
  const ShResult text = sh(bin() + " diagnose --logs 10", 150s);
  const auto after = disk_summary_now();

  // JSON: one object, each container under its rule, with its exit code and both streams.
  ASSERT_EQ(js.code, 0) << js.err;
  json::value doc;
  ASSERT_NO_THROW(doc = json::parse(js.out)) << js.out;
  ASSERT_TRUE(doc.at("engine").at("reachable").as_bool()) << js.out;
  struct Want {
    std::string name, rule;
    int exit_code;
    std::string out, err;
  };
  for (const Want& w : {Want{oom, "oom_killed", 137, "start", "hog-err"}, Want{loop, "restart_loop", 3, "loop-out", "crash"},
                        Want{quick, "immediate_exit", 7, "quick-out", "quick-err"}}) {
    const json::object* c = troubled_named(doc, w.name);
    ASSERT_NE(c, nullptr) << w.name << " is not listed in\n" << json::serialize(doc.at("containers"));
    EXPECT_EQ(c->at("rule").as_string(), w.rule) << json::serialize(*c);
    // A looping container caught in the instant it runs again has no exit code yet (0).
    if (w.rule == "restart_loop" && c->at("state").as_string() == "running")
      EXPECT_EQ(c->at("exit_code").as_int64(), 0) << json::serialize(*c);
    else
      EXPECT_EQ(c->at("exit_code").as_int64(), w.exit_code) << json::serialize(*c);
    EXPECT_TRUE(has_log(*c, "stdout", w.out)) << json::serialize(*c);
    EXPECT_TRUE(has_log(*c, "stderr", w.err)) << json::serialize(*c);
  }
  EXPECT_TRUE(troubled_named(doc, oom)->at("oom_killed").as_bool());
  const json::object* raw = troubled_named(doc, tty);
  ASSERT_NE(raw, nullptr) << tty << " is not listed in\n" << json::serialize(doc.at("containers"));
  EXPECT_EQ(raw->at("rule").as_string(), "immediate_exit") << json::serialize(*raw);
  EXPECT_TRUE(raw->at("logs_error").is_null()) << json::serialize(*raw);
  EXPECT_TRUE(has_log(*raw, "stdout", "tty-line")) << json::serialize(*raw);
  const json::object* c = troubled_named(doc, child);
  ASSERT_NE(c, nullptr) << child << " is not listed in\n" << json::serialize(doc.at("containers"));
  EXPECT_EQ(c->at("rule").as_string(), "oom_killed") << json::serialize(*c);
  EXPECT_EQ(c->at("state").as_string(), "running") << json::serialize(*c);
  EXPECT_FALSE(c->at("oom_killed").as_bool()) << json::serialize(*c);
  ASSERT_TRUE(c->at("cgroup_oom_kills").is_int64() || c->at("cgroup_oom_kills").is_uint64()) << json::serialize(*c);
  EXPECT_GE(c->at("cgroup_oom_kills").to_number<std::int64_t>(), 1) << json::serialize(*c);
  EXPECT_TRUE(has_log(*c, "stdout", "survived")) << json::serialize(*c);

  // The disk figures are summarize() of /system/df (others' objects may come and go).
  ASSERT_TRUE(doc.at("disk").at("error").is_null()) << json::serialize(doc.at("disk"));
  const auto& kinds = doc.at("disk").at("kinds");
  const std::pair<const char*, docker::DiskKindUsage docker::DiskSummary::*> rows[] = {
      {"images", &docker::DiskSummary::images},
      {"containers", &docker::DiskSummary::containers},
      {"volumes", &docker::DiskSummary::volumes},
      {"build_cache", &docker::DiskSummary::build_cache}};
  for (const auto& [kind, member] : rows) {
    const auto& k = kinds.at(kind);
    const auto& b = before.*member;
    const auto& a = after.*member;
    EXPECT_TRUE(within(kind, k.at("size_bytes").as_int64(), b.total_bytes, a.total_bytes));
    EXPECT_TRUE(within(kind, k.at("reclaimable_bytes").as_int64(), b.reclaimable_bytes, a.reclaimable_bytes));
    EXPECT_TRUE(within(kind, k.at("objects").as_int64(), std::int64_t(b.objects), std::int64_t(a.objects)));
  }
  EXPECT_GE(kinds.at("containers").at("objects").as_int64(), 5);
  EXPECT_GT(doc.at("filesystem").at("size_bytes").as_int64(), 0) << json::serialize(doc.at("filesystem"));
  EXPECT_FALSE(doc.at("images").at("largest").as_array().empty());

  // Text: the same containers under the rule headings, their exit codes and labelled lines.
  ASSERT_EQ(text.code, 0) << text.err;
  const std::string& t = text.out;
  for (const char* section : {"== Engine", "== Disk use by kind", "== Docker filesystem", "== Largest images",
                              "== Volumes", "== Troubled containers", "== Compose projects", "== Next steps"})
    EXPECT_NE(t.find(section), std::string::npos) << section << " missing in\n" << t;
  const std::string oom_text = container_block(rule_block(t, "OOM-killed"), oom);
  const std::string loop_text = container_block(rule_block(t, "Restart loops"), loop);
  const std::string quick_text = container_block(rule_block(t, "Immediate exits"), quick);
  EXPECT_NE(oom_text.find("exit code 137"), std::string::npos) << t;
  EXPECT_NE(oom_text.find("stdout | start"), std::string::npos) << t;
  EXPECT_NE(oom_text.find("stderr | hog-err"), std::string::npos) << t;
  EXPECT_TRUE(loop_text.find("exit code 3") != std::string::npos ||
              loop_text.find("state running, exit code 0") != std::string::npos)
      << t;
  EXPECT_NE(loop_text.find("stdout | loop-out"), std::string::npos) << t;
  EXPECT_NE(loop_text.find("stderr | crash"), std::string::npos) << t;
  EXPECT_NE(quick_text.find("exit code 7"), std::string::npos) << t;
  EXPECT_NE(quick_text.find("stdout | quick-out"), std::string::npos) << t;
  EXPECT_NE(quick_text.find("stderr | quick-err"), std::string::npos) << t;
  EXPECT_NE(t.find("$ docker logs --tail 100 " + oom), std::string::npos) << t;
}

TEST(DiagnoseCommand, ExitsZeroAndSaysSoWhenTheEngineIsUnreachable) {
  const ShResult text = sh("env -u DOCKER_HOST " + bin() + " diagnose --docker.host=unix:///nonexistent.sock", 60s);
  EXPECT_EQ(text.code, 0) << text.err;
  EXPECT_NE(text.out.find("ENGINE UNREACHABLE"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("$ systemctl status docker"), std::string::npos) << text.out;

  const ShResult js =
      sh("env -u DOCKER_HOST " + bin() + " diagnose --format json --docker.host=unix:///nonexistent.sock", 60s);
  EXPECT_EQ(js.code, 0) << js.err;
  json::value doc;
  ASSERT_NO_THROW(doc = json::parse(js.out)) << js.out;
  EXPECT_FALSE(doc.at("engine").at("reachable").as_bool());
  EXPECT_FALSE(doc.at("engine").at("error").is_null());
}

TEST(DiagnoseCommand, ABadLogsValueIsAUsageError) {
  const ShResult r = sh(bin() + " diagnose --logs=many", 30s);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--logs: invalid value 'many'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace itest
