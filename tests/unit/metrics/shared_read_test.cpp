// SharedRead: concurrent scrapes of the same snapshot share one read of the cgroups; a
// read that throws costs that container's series and the collector's success, never the
// process. With a fake reader that counts its calls and can be held mid-read.

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "composewatch/metrics/collector.h"
#include "composewatch/metrics/shared_read.h"

using namespace composewatch;
using namespace std::chrono_literals;

namespace {

state::ContainerRecord running(std::string name, std::string id) {
  state::ContainerRecord r;
  r.name = std::move(name);
  r.id = std::move(id);
  r.state = "running";
  r.pid = 100;
  return r;
}

state::Snapshot snapshot_of(std::size_t containers, std::uint64_t sequence) {
  state::Snapshot s;
  for (std::size_t i = 0; i < containers; ++i)
    s.containers.push_back(running("c" + std::to_string(i), std::string(63, '0') + char('a' + i % 6) + std::to_string(i)));
  s.sequence = sequence;
  return s;
}

// Counts reads; while `hold` is set, every read waits until it is released, so that
// scrapes started meanwhile find the read in flight.
struct FakeReader {
  std::atomic<int> reads{0};
  std::mutex mu;
  std::condition_variable cv;
  bool hold = false;
  std::string throw_for;  // the container name whose read throws

  std::optional<docker::ResourceStats> operator()(const state::ContainerRecord& r) {
    ++reads;
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return !hold; });
    }
    if (r.name == throw_for) throw std::runtime_error("read failed");
    docker::ResourceStats st;
    st.memory_usage_bytes = 1000;
    st.pids = 3;
    return st;
  }
  void release() {
    {
      std::lock_guard lock(mu);
      hold = false;
    }
    cv.notify_all();
  }
};

}  // namespace

TEST(SharedRead, ConcurrentScrapesOfOneSnapshotShareOneRead) {
  FakeReader fake;
  fake.hold = true;
  metrics::SharedRead shared([&](const state::ContainerRecord& r) { return fake(r); });
  const auto snap = snapshot_of(10, 7);

  constexpr int kScrapes = 8;
  std::vector<std::shared_ptr<const metrics::ResourceReadings>> results(kScrapes);
  std::vector<std::thread> scrapes;
  for (int i = 0; i < kScrapes; ++i) scrapes.emplace_back([&, i] { results[i] = shared.get(snap); });
  // All eight are in get(): one started the read, the others joined it; each holds a
  // container it claimed.
  while (fake.reads.load() < 1) std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(50ms);
  fake.release();
  for (auto& t : scrapes) t.join();

  EXPECT_EQ(fake.reads.load(), 10) << "one pass over the 10 containers, not one per scrape";
  for (const auto& r : results) {
    ASSERT_TRUE(r);
    EXPECT_EQ(r, results[0]) << "every scrape got the same result";
    EXPECT_EQ(r->by_id.size(), 10u);
  }
}

TEST(SharedRead, AHelperThreadTakesPartOfALargeRead) {
  std::mutex mu;
  std::set<std::thread::id> readers;
  std::vector<std::thread> helpers;
  metrics::SharedRead shared(
      [&](const state::ContainerRecord&) -> std::optional<docker::ResourceStats> {
        {
          std::lock_guard lock(mu);
          readers.insert(std::this_thread::get_id());
        }
        std::this_thread::sleep_for(1ms);  // slow enough for the helper to join
        return docker::ResourceStats{};
      },
      {.max_age = 1s, .helper = [&](std::function<void()> task) { helpers.emplace_back(std::move(task)); },
       .help_from = 64});
  const auto r = shared.get(snapshot_of(100, 4));
  for (auto& t : helpers) t.join();
  EXPECT_EQ(r->by_id.size(), 100u);
  EXPECT_EQ(helpers.size(), 1u);
  EXPECT_EQ(readers.size(), 2u) << "the caller and the helper both read";
}

TEST(SharedRead, AHelperThatNeverRunsOrRunsLateCostsNothing) {
  std::vector<std::function<void()>> parked;
  FakeReader fake;
  metrics::SharedRead shared([&](const state::ContainerRecord& r) { return fake(r); },
                             {.max_age = 1s, .helper = [&](std::function<void()> t) { parked.push_back(std::move(t)); },
                              .help_from = 4});
  {
    const auto snap = snapshot_of(10, 5);
    EXPECT_EQ(shared.get(snap)->by_id.size(), 10u) << "the caller read everything alone";
  }  // the snapshot is gone
  ASSERT_EQ(parked.size(), 1u);
  parked[0]();  // runs late: nothing left to claim, nothing touched
  EXPECT_EQ(fake.reads.load(), 10);
}

TEST(SharedRead, ANewSnapshotOrAnOldResultIsReadAgain) {
  FakeReader fake;
  metrics::SharedRead shared([&](const state::ContainerRecord& r) { return fake(r); }, {.max_age = 30ms});
  const auto a = snapshot_of(4, 1);
  shared.get(a);
  shared.get(a);  // within max_age: shared
  EXPECT_EQ(fake.reads.load(), 4);
  shared.get(snapshot_of(4, 2));  // a new snapshot: read
  EXPECT_EQ(fake.reads.load(), 8);
  std::this_thread::sleep_for(40ms);
  shared.get(snapshot_of(4, 2));  // the same snapshot later: the figures are live, read again
  EXPECT_EQ(fake.reads.load(), 12);
  shared.get(snapshot_of(4, 0));  // unpublished (hand-built): never shared
  shared.get(snapshot_of(4, 0));
  EXPECT_EQ(fake.reads.load(), 20);
}

TEST(SharedRead, AThrowingReadLeavesOutThatContainerOnly) {
  FakeReader fake;
  fake.throw_for = "c2";
  metrics::SharedRead shared([&](const state::ContainerRecord& r) { return fake(r); });
  const auto r = shared.get(snapshot_of(5, 3));
  EXPECT_EQ(r->failed, 1u);
  EXPECT_NE(r->first_error.find("c2: read failed"), std::string::npos) << r->first_error;
  EXPECT_EQ(r->by_id.size(), 4u);
}

TEST(SharedRead, AThrowingReadUnderConcurrentScrapesIsASeriesMissingAndSuccessZero) {
  FakeReader fake;
  fake.throw_for = "c1";
  auto shared = std::make_shared<const metrics::SharedRead>([&](const state::ContainerRecord& r) { return fake(r); });
  std::vector<std::unique_ptr<metrics::Collector>> cs;
  cs.push_back(metrics::make_resource_collector(shared));
  const metrics::Exposition exposition(std::move(cs));
  const auto snap = snapshot_of(100, 9);  // as many as took the old collector onto a second thread

  std::vector<std::string> texts(4);
  std::vector<std::thread> scrapes;
  for (int i = 0; i < 4; ++i) scrapes.emplace_back([&, i] { texts[i] = exposition.render(snap); });
  for (auto& t : scrapes) t.join();
  for (const auto& text : texts) {
    EXPECT_NE(text.find("composewatch_collector_success{collector=\"resources\"} 0\n"), std::string::npos) << text;
    EXPECT_NE(text.find("composewatch_container_pids{project=\"\",service=\"\",container=\"c0\"} 3\n"),
              std::string::npos);
    EXPECT_EQ(text.find("container=\"c1\"}"), std::string::npos) << "the failed container has no series";
  }
}
