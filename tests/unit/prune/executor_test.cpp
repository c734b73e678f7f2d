// The prune executor against a fake engine: used only for answers the real engine does not
// give on demand (a 500 on one deletion, a label that appears between plan and deletion at
// a chosen moment). The real engine's deletions are in tests/integration/prune_test.cpp.

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <atomic>
#include <boost/asio/post.hpp>
#include <mutex>
#include <thread>

#include "composewatch/prune/executor.h"
#include "fake_engine.h"

using namespace composewatch;
using test_support::Exchange;
using test_support::FakeEngine;
using Result = prune::Outcome::Result;

namespace {

prune::Entry image_entry(std::string id, std::vector<std::string> tags = {}) {
  prune::Entry e;
  e.kind = prune::Kind::images;
  e.id = std::move(id);
  e.name = tags.empty() ? "<none>" : tags.front();
  e.tags = std::move(tags);
  e.size = 1000;
  e.reason = "dangling image";
  return e;
}

std::string image_json(const std::string& id, const std::string& tags = "[]", const std::string& labels = "null") {
  return R"({"Id":")" + id + R"(","RepoTags":)" + tags + R"(,"RepoDigests":[],"Created":"2026-01-01T00:00:00Z","Size":1000,"Config":{"Labels":)" +
         labels + "}}";
}

prune::RunResult execute(FakeEngine& fake, const prune::PrunePlan& plan) {
  boost::asio::io_context ioc;
  config::PrunePolicyConfig policy;
  policy.name = "p";
  policy.target = "images";
  prune::Inventory inv;
  prune::ComposeKnowledge compose;
  auto fut = boost::asio::co_spawn(
      ioc,
      [&]() -> boost::asio::awaitable<prune::RunResult> {
        engine::Client client(co_await boost::asio::this_coro::executor, engine::parse_endpoint(fake.docker_host()));
        co_await client.negotiate();
        co_return co_await prune::execute(client, policy, plan, inv, compose);
      },
      boost::asio::use_future);
  ioc.run();
  return fut.get();
}

}  // namespace

TEST(PruneExecutor, OneFailureStopsNothingAndGoneOrRefusedAreSkips) {
  FakeEngine fake;
  fake.on("/v1.41/containers/json?all=1", 200, "[]")
      .on("GET /v1.41/images/sha256:gone/json", 404, R"({"message":"No such image"})")
      .on("DELETE /v1.41/images/sha256:busy", 409,
          R"({"message":"conflict: unable to delete (must be forced) - image is being used"})")
      .on("DELETE /v1.41/images/sha256:broken", 500, R"({"message":"driver failed"})")
      .on("DELETE /v1.41/images/sha256:ok", 200, R"([{"Deleted":"sha256:ok"}])");
  for (const char* id : {"sha256:busy", "sha256:broken", "sha256:ok", "sha256:late"})
    fake.on(std::string("GET /v1.41/images/") + id + "/json", 200,
            image_json(id, "[]", std::string(id) == "sha256:late" ? R"({"composewatch.keep":"true"})" : "null"));
  prune::PrunePlan plan;
  plan.kind = prune::Kind::images;
  plan.candidates = {image_entry("sha256:gone"), image_entry("sha256:busy"), image_entry("sha256:broken"),
                     image_entry("sha256:late"), image_entry("sha256:ok")};
  const auto r = execute(fake, plan);
  ASSERT_EQ(r.outcomes.size(), 5u);
  EXPECT_EQ(r.outcomes[0].result, Result::skipped);
  EXPECT_EQ(r.outcomes[0].detail, "already gone");
  EXPECT_EQ(r.outcomes[1].result, Result::skipped);
  EXPECT_NE(r.outcomes[1].detail.find("the engine refused"), std::string::npos) << r.outcomes[1].detail;
  EXPECT_EQ(r.outcomes[2].result, Result::failed);
  EXPECT_NE(r.outcomes[2].detail.find("driver failed"), std::string::npos);
  EXPECT_EQ(r.outcomes[3].result, Result::skipped);
  EXPECT_NE(r.outcomes[3].detail.find("protected since the plan: labelled composewatch.keep=true"), std::string::npos)
      << r.outcomes[3].detail;
  EXPECT_EQ(r.outcomes[4].result, Result::deleted) << "the failure before it stopped nothing";
  EXPECT_EQ(r.reclaimed_bytes(), 1000);

  const auto reqs = fake.requests();
  EXPECT_EQ(std::count(reqs.begin(), reqs.end(), "DELETE /v1.41/images/sha256:late"), 0)
      << "a label added since the plan is seen at the re-inspect";
  EXPECT_EQ(std::count(reqs.begin(), reqs.end(), "DELETE /v1.41/images/sha256:ok"), 1);
  EXPECT_EQ(std::count(reqs.begin(), reqs.end(), "GET /v1.41/containers/json?all=1"), 1)
      << "the containers are listed again before anything is deleted";
  for (const auto& r : reqs) EXPECT_EQ(r.find("prune"), std::string::npos) << "no bulk prune endpoint: " << r;
}

// An engine that keeps one image with several tags, as the real one does: deleting a tag
// by name removes it, deleting the image by id refuses (409) while more than one tag is
// left, and a tag put back with POST /images/{id}/tag is there again. What the real
// engine cannot do on demand: move a tag to another image at a chosen moment (a pull or
// build racing the prune), or refuse the final deletion.
class TaggedImageEngine {
 public:
  explicit TaggedImageEngine(std::vector<std::string> tags) : tags_(std::move(tags)) {}
  std::string moved_tag;  // this tag names another image (sha256:new) from the first inspect of it
  bool refuse_delete_by_id = false;
  std::function<void(const std::string&)> on_delete_by_id;  // called before it answers

  void respond(Exchange& x) {
    const std::string& target = x.target();
    auto json = [&](int status, const std::string& body) { x.json(status, body); };
    std::lock_guard lock(mu_);
    if (target == "/v1.41/containers/json?all=1") return json(200, "[]");
    const std::string images = "/v1.41/images/";
    if (target == images + "sha256:multi/json") return json(200, image_json("sha256:multi", tags_json()));
    if (target == images + "sha256:multi") {
      if (on_delete_by_id) on_delete_by_id(target);
      if (refuse_delete_by_id || tags_.size() > 1)
        return json(409, R"({"message":"conflict: unable to delete sha256:multi (must be forced) - image is referenced in multiple repositories"})");
      tags_.clear();
      return json(200, R"([{"Deleted":"sha256:multi"}])");
    }
    if (target.starts_with(images + "sha256:multi/tag?")) {  // repo=R&tag=T
      const auto repo = target.find("repo="), tag = target.find("&tag=");
      tags_.push_back(unescape(target.substr(repo + 5, tag - repo - 5)) + ":" + unescape(target.substr(tag + 5)));
      return json(201, "");
    }
    for (const auto& t : all_tags_seen()) {
      if (target == images + t + "/json") {
        if (t == moved_tag) return json(200, image_json("sha256:new", "[\"" + t + "\"]"));
        if (std::find(tags_.begin(), tags_.end(), t) == tags_.end()) return json(404, R"({"message":"No such image"})");
        return json(200, image_json("sha256:multi", tags_json()));
      }
      if (target == images + t) {
        std::erase(tags_, t);
        return json(200, R"([{"Untagged":"x"}])");
      }
    }
    json(404, R"({"message":"fake: not here"})");
  }
  std::vector<std::string> tags() {
    std::lock_guard lock(mu_);
    return tags_;
  }

 private:
  static std::string unescape(const std::string& q) {
    std::string out;
    for (std::size_t i = 0; i < q.size(); ++i) {
      if (q[i] == '%' && i + 2 < q.size()) {
        out += char(std::stoi(q.substr(i + 1, 2), nullptr, 16));
        i += 2;
      } else {
        out += q[i];
      }
    }
    return out;
  }
  std::string tags_json() const {
    std::string s = "[";
    for (std::size_t i = 0; i < tags_.size(); ++i) s += (i ? ",\"" : "\"") + tags_[i] + "\"";
    return s + "]";
  }
  std::vector<std::string> all_tags_seen() {
    for (const auto& t : tags_)
      if (std::find(seen_.begin(), seen_.end(), t) == seen_.end()) seen_.push_back(t);
    return seen_;
  }
  std::mutex mu_;
  std::vector<std::string> tags_, seen_;
};

std::size_t index_of(const std::vector<std::string>& v, const std::string& s) {
  return std::size_t(std::find(v.begin(), v.end(), s) - v.begin());
}

TEST(PruneExecutor, AnImageWithSeveralTagsIsUntaggedByNameEachCheckedRightBeforeThenDeletedById) {
  TaggedImageEngine engine({"a/b:1", "a/b:2", "c/d:1"});
  FakeEngine fake;
  fake.otherwise([&](Exchange& x) { engine.respond(x); });
  prune::PrunePlan plan;
  plan.kind = prune::Kind::images;
  plan.candidates = {image_entry("sha256:multi", {"a/b:1", "a/b:2", "c/d:1"})};
  const auto r = execute(fake, plan);
  ASSERT_EQ(r.outcomes.size(), 1u);
  EXPECT_EQ(r.outcomes[0].result, Result::deleted) << r.outcomes[0].detail;
  EXPECT_TRUE(engine.tags().empty());
  const auto reqs = fake.requests();
  for (const char* t : {"a/b:1", "a/b:2"}) {
    const std::string check = std::string("GET /v1.41/images/") + t + "/json", untag = std::string("DELETE /v1.41/images/") + t;
    ASSERT_LT(index_of(reqs, untag), reqs.size()) << t;
    EXPECT_LT(index_of(reqs, check), index_of(reqs, untag)) << "checked right before it is untagged: " << t;
  }
  EXPECT_EQ(index_of(reqs, "DELETE /v1.41/images/c/d:1"), reqs.size())
      << "the last tag goes with the deletion by id, which cannot take a tag that moved";
  EXPECT_EQ(reqs.back(), "DELETE /v1.41/images/sha256:multi");
}

TEST(PruneExecutor, ATagMovedToANewImageSinceThePlanIsNotTakenFromItAndNothingIsLeftHalfUntagged) {
  TaggedImageEngine engine({"app:1", "app:latest", "app:stable"});
  engine.moved_tag = "app:latest";  // `docker pull app:latest` brought a new image meanwhile
  FakeEngine fake;
  fake.otherwise([&](Exchange& x) { engine.respond(x); });
  prune::PrunePlan plan;
  plan.kind = prune::Kind::images;
  plan.candidates = {image_entry("sha256:multi", {"app:1", "app:latest", "app:stable"})};
  const auto r = execute(fake, plan);
  ASSERT_EQ(r.outcomes.size(), 1u);
  EXPECT_EQ(r.outcomes[0].result, Result::skipped);
  EXPECT_NE(r.outcomes[0].detail.find("tag app:latest now names another image (sha256:new)"), std::string::npos)
      << r.outcomes[0].detail;
  const auto reqs = fake.requests();
  EXPECT_EQ(index_of(reqs, "DELETE /v1.41/images/app:latest"), reqs.size()) << "the new image keeps its tag";
  EXPECT_EQ(index_of(reqs, "DELETE /v1.41/images/sha256:multi"), reqs.size());
  // app:1 was untagged before the move was seen: it is put back on the planned image.
  EXPECT_LT(index_of(reqs, "POST /v1.41/images/sha256:multi/tag?repo=app&tag=1"), reqs.size());
  auto tags = engine.tags();
  std::sort(tags.begin(), tags.end());
  EXPECT_EQ(tags, (std::vector<std::string>{"app:1", "app:latest", "app:stable"}));
}

TEST(PruneExecutor, AFinalDeletionRefusedPutsTheRemovedTagsBack) {
  TaggedImageEngine engine({"x/one:1", "y/two:1"});
  engine.refuse_delete_by_id = true;  // a tag in a third repository appeared after the last check
  FakeEngine fake;
  fake.otherwise([&](Exchange& x) { engine.respond(x); });
  prune::PrunePlan plan;
  plan.kind = prune::Kind::images;
  plan.candidates = {image_entry("sha256:multi", {"x/one:1", "y/two:1"})};
  const auto r = execute(fake, plan);
  ASSERT_EQ(r.outcomes.size(), 1u);
  EXPECT_EQ(r.outcomes[0].result, Result::skipped);
  EXPECT_NE(r.outcomes[0].detail.find("the engine refused"), std::string::npos) << r.outcomes[0].detail;
  auto tags = engine.tags();
  std::sort(tags.begin(), tags.end());
  EXPECT_EQ(tags, (std::vector<std::string>{"x/one:1", "y/two:1"}));
}

// SIGTERM mid-run: the object in flight is finished (every untag and the deletion of
// that image), the rest is not attempted.
TEST(PruneExecutor, AStopRequestFinishesTheImageInFlightAndAttemptsNoMore) {
  TaggedImageEngine engine({"a:1", "a:2"});
  boost::asio::io_context ioc;
  prune::StopRequest stop;
  std::atomic<bool> stop_seen{false};
  // The stop arrives while the image is half untagged: set on the run's own thread, and
  // seen there before the engine answers the deletion by id.
  engine.on_delete_by_id = [&](const std::string&) {
    boost::asio::post(ioc, [&] {
      stop.requested = true;
      stop_seen = true;
    });
    for (int i = 0; i < 500 && !stop_seen; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  };
  FakeEngine fake;
  fake.on("/v1.41/images/sha256:other/json", 200, image_json("sha256:other"))
      .otherwise([&](Exchange& x) { engine.respond(x); });
  prune::PrunePlan plan;
  plan.kind = prune::Kind::images;
  plan.candidates = {image_entry("sha256:multi", {"a:1", "a:2"}), image_entry("sha256:other"), image_entry("sha256:other")};
  config::PrunePolicyConfig policy;
  policy.name = "p";
  prune::Inventory inv;
  prune::ComposeKnowledge compose;
  auto fut = boost::asio::co_spawn(
      ioc,
      [&]() -> boost::asio::awaitable<prune::RunResult> {
        engine::Client client(co_await boost::asio::this_coro::executor, engine::parse_endpoint(fake.docker_host()));
        co_await client.negotiate();
        co_return co_await prune::execute(client, policy, plan, inv, compose, &stop);
      },
      boost::asio::use_future);
  ioc.run();
  const auto r = fut.get();
  ASSERT_TRUE(stop_seen);
  ASSERT_EQ(r.outcomes.size(), 1u);
  EXPECT_EQ(r.outcomes[0].result, Result::deleted) << "the image in flight is finished: " << r.outcomes[0].detail;
  EXPECT_TRUE(engine.tags().empty());
  EXPECT_EQ(r.not_attempted, 2u);
  const auto reqs = fake.requests();
  EXPECT_EQ(index_of(reqs, "GET /v1.41/images/sha256:other/json"), reqs.size()) << "nothing after the stop";
}

// Ids come from the engine's answers: one that is not made like an id never reaches a
// request path, where "?force=1" or "../" would change what is deleted.
TEST(PruneExecutor, AnIdOrTagThatIsNotOneIsNeverPutInARequest) {
  FakeEngine fake;
  fake.on("/v1.41/containers/json?all=1", 200, "[]")
      .on("/v1.41/images/sha256:t/json", 200, image_json("sha256:t", R"(["a:1","../../containers/c?force=1"])"))
      .otherwise([](Exchange& x) { x.json(200, "[]"); });
  prune::PrunePlan plan;
  plan.kind = prune::Kind::images;
  plan.candidates = {image_entry("sha256:x?force=1"), image_entry("sha256:t", {"a:1"})};
  prune::Entry cache;
  cache.kind = prune::Kind::build_cache;
  cache.id = R"(r1"],"all":["1)";
  plan.candidates.push_back(cache);
  const auto r = execute(fake, plan);
  ASSERT_EQ(r.outcomes.size(), 3u);
  for (const auto& o : r.outcomes) {
    EXPECT_EQ(o.result, Result::failed) << o.entry.id;
    EXPECT_NE(o.detail.find("which is not an id or a name"), std::string::npos) << o.detail;
  }
  for (const auto& req : fake.requests()) {
    EXPECT_EQ(req.find("force"), std::string::npos) << req;
    EXPECT_EQ(req.find("DELETE"), std::string::npos) << req;
    EXPECT_EQ(req.find("build/prune"), std::string::npos) << req;
  }
}

TEST(PruneExecutor, BuildCacheIsPrunedByIdOneRecordAtATime) {
  FakeEngine fake;
  fake.on("/v1.41/containers/json?all=1", 200, "[]").on("POST /v1.41/build/prune?filters=*", [](Exchange& x) {
    if (x.target().find("rec1") != std::string::npos)
      return x.json(200, R"({"CachesDeleted":["rec1"],"SpaceReclaimed":4096})");
    x.json(200, R"({"CachesDeleted":null,"SpaceReclaimed":0})");
  });
  prune::PrunePlan plan;
  plan.kind = prune::Kind::build_cache;
  for (const char* id : {"rec1", "rec2"}) {
    prune::Entry e;
    e.kind = prune::Kind::build_cache;
    e.id = id;
    e.size = 4000;
    plan.candidates.push_back(e);
  }
  const auto r = execute(fake, plan);
  ASSERT_EQ(r.outcomes.size(), 2u);
  EXPECT_EQ(r.outcomes[0].result, Result::deleted);
  EXPECT_EQ(r.outcomes[0].reclaimed, 4096) << "what the engine says it freed";
  EXPECT_EQ(r.outcomes[1].result, Result::skipped);
  const auto reqs = fake.requests();
  EXPECT_NE(std::find(reqs.begin(), reqs.end(),
                      "POST /v1.41/build/prune?filters=" + prune::query_escape(R"({"id":["rec1"]})")),
            reqs.end());
  EXPECT_EQ(prune::query_escape(R"({"id":["a b"]})"), "%7B%22id%22%3A%5B%22a%20b%22%5D%7D");
}
