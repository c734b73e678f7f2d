// The prune scheduler job against a slow scripted engine: what the real engine cannot be
// made to do on demand is answer each deletion slowly enough that SIGHUP reloads land,
// again and again, in the middle of an applied run. A reload replaces every slot (also
// with an unchanged file, also one without the running policy); the run in flight owns
// what it reads, so nothing is read after it is freed (this suite runs under ASan and
// TSan in CI: label `threads`), the run deletes what it planned, and its figures land
// on the policy of the same name.

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <filesystem>
#include <thread>

#include "composewatch/compose/discovery.h"
#include "composewatch/jobs/prune_scheduler.h"
#include "composewatch/prune/host_lock.h"
#include "composewatch/prune/status.h"
#include "fake_engine.h"

using namespace composewatch;
using namespace std::chrono_literals;
using test_support::FakeEngine;

namespace {

constexpr int kImages = 20;

std::string image_id(int i) { return "sha256:img" + std::to_string(i); }

std::string system_df() {
  std::string images;
  for (int i = 0; i < kImages; ++i)
    images += std::string(i ? "," : "") + R"({"Id":")" + image_id(i) +
              R"(","RepoTags":null,"Created":1600000000,"Size":1000,"SharedSize":0,"Containers":0})";
  return R"({"LayersSize":20000,"Images":[)" + images + R"(],"Containers":[],"Volumes":[],"BuildCache":[]})";
}

// A deletion takes `delay`; everything else answers at once.
class SlowEngine {
 public:
  explicit SlowEngine(std::chrono::milliseconds delay) : delay_(delay) {
    fake_.on("/v1.41/info", 200, R"({"DockerRootDir":"/nonexistent/cw-scheduler-test"})")
        .on("/v1.41/system/df", 200, system_df())
        .on("/v1.41/containers/json?all=1", 200, "[]");
    for (int i = 0; i < kImages; ++i) {
      fake_.on("GET /v1.41/images/" + image_id(i) + "/json", 200,
               R"({"Id":")" + image_id(i) + R"(","RepoTags":[],"Created":"2020-09-13T12:26:40Z","Size":1000})");
      fake_.on("DELETE /v1.41/images/" + image_id(i), [this, i](test_support::Exchange& x) {
        std::this_thread::sleep_for(delay_);
        ++deletions_;
        x.json(200, R"([{"Deleted":")" + image_id(i) + R"("}])");
      });
    }
  }
  std::string docker_host() const { return fake_.docker_host(); }
  int deletions() const { return deletions_; }

 private:
  std::chrono::milliseconds delay_;
  std::atomic<int> deletions_{0};
  FakeEngine fake_;  // last: destroyed first, so no route runs on a member already gone
};

config::PrunePolicyConfig policy(std::string name) {
  config::PrunePolicyConfig p;
  p.name = std::move(name);
  p.schedule = "every 10s";
  p.target = "images";
  p.dry_run = false;
  return p;
}

std::optional<prune::PolicyStatus> status_of(const state::StateModel& model, const std::string& name) {
  const auto snap = model.snapshot();
  if (!snap->prune) return std::nullopt;
  for (const auto& s : snap->prune->policies)
    if (s.policy == name) return s;
  return std::nullopt;
}

}  // namespace

TEST(PruneScheduler, ReloadsDuringAnAppliedRunFreeNothingItReadsAndItsFiguresLandByName) {
  SlowEngine engine(30ms);
  const auto lock_dir = std::filesystem::temp_directory_path() / ("cw-scheduler-" + std::to_string(::getpid()));
  boost::asio::io_context ioc;
  state::StateModel model;
  model.set_compose(std::make_shared<const compose::ComposeState>());  // loaded: no project, nothing protected
  model.publish();
  jobs::PruneScheduler scheduler(ioc.get_executor(), engine::parse_endpoint(engine.docker_host()), model,
                                  {policy("p")},
                                  {.lock_path = lock_dir.string(), .df_timeout = 10s, .random = [] { return 0ull; }});
  boost::asio::co_spawn(ioc, scheduler.run(), boost::asio::detached);

  int reloads = 0;
  bool done = false;
  boost::asio::co_spawn(
      ioc,
      [&]() -> boost::asio::awaitable<void> {
        boost::asio::steady_timer t(co_await boost::asio::this_coro::executor);
        // The run is due 10 s in; a reload before it would only re-arm it.
        while (engine.deletions() == 0) {
          t.expires_after(5ms);
          co_await t.async_wait(boost::asio::use_awaitable);
        }
        // Mid-run: the same file again, one that adds a policy, one without the running
        // policy at all, and back.
        const std::vector<std::vector<config::PrunePolicyConfig>> files = {
            {policy("p")}, {policy("p"), policy("q")}, {}, {policy("q")}, {policy("p")}};
        // Until two deletions before the end (60 ms at this engine's pace, against 3 ms
        // between reloads), then a file with the policy: the run's figures land there.
        while (engine.deletions() < kImages - 2) {
          scheduler.reload(files[std::size_t(reloads++) % files.size()]);
          t.expires_after(3ms);
          co_await t.async_wait(boost::asio::use_awaitable);
        }
        scheduler.reload({policy("q"), policy("p")});
        for (int i = 0; i < 2000; ++i) {
          if (const auto s = status_of(model, "p"); s && s->runs_apply > 0) break;
          t.expires_after(5ms);
          co_await t.async_wait(boost::asio::use_awaitable);
        }
        done = true;
        ioc.stop();
      },
      boost::asio::detached);
  boost::asio::steady_timer deadline(ioc, 60s);
  deadline.async_wait([&](auto) { ioc.stop(); });
  ioc.run();

  ASSERT_TRUE(done) << "the run did not finish within 60 s";
  EXPECT_GT(reloads, 20) << "the reloads landed during the run";
  EXPECT_EQ(engine.deletions(), kImages) << "every planned image deleted once, whatever the reloads";
  const auto p = status_of(model, "p");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->runs_apply, 1u);
  EXPECT_EQ(p->deleted_objects, std::uint64_t(kImages));
  EXPECT_EQ(p->failures, 0u);
  const auto q = status_of(model, "q");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->runs_apply, 0u) << "q never ran";
  std::filesystem::remove_all(lock_dir);
}

// The host lock that cannot be taken (another prune holds it, or the directory cannot be
// opened) and a suspension are failures that count, never a silent skip.
TEST(PruneScheduler, ARunThatCannotTakeTheHostLockIsAFailure) {
  SlowEngine engine(0ms);
  const auto lock_dir = std::filesystem::temp_directory_path() / ("cw-scheduler-lock-" + std::to_string(::getpid()));
  std::string why;
  auto held = prune::HostLock::try_take(lock_dir.string(), why);  // `composewatch prune` running
  ASSERT_TRUE(held) << why;
  boost::asio::io_context ioc;
  state::StateModel model;
  model.set_compose(std::make_shared<const compose::ComposeState>());
  model.publish();
  jobs::PruneScheduler scheduler(ioc.get_executor(), engine::parse_endpoint(engine.docker_host()), model,
                                  {policy("p")},
                                  {.lock_path = lock_dir.string(), .df_timeout = 10s, .random = [] { return 0ull; }});
  boost::asio::co_spawn(ioc, scheduler.run(), boost::asio::detached);
  boost::asio::steady_timer poll(ioc);
  std::function<void(boost::system::error_code)> check = [&](boost::system::error_code) {
    if (const auto s = status_of(model, "p"); s && s->failures > 0) return ioc.stop();
    poll.expires_after(20ms);
    poll.async_wait(check);
  };
  check({});
  boost::asio::steady_timer deadline(ioc, 30s);
  deadline.async_wait([&](auto) { ioc.stop(); });
  ioc.run();
  const auto s = status_of(model, "p");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->failures, 1u);
  EXPECT_EQ(s->runs_apply, 0u);
  EXPECT_EQ(engine.deletions(), 0);
  std::filesystem::remove_all(lock_dir);
}
