// The prune executor against a fake engine: used only for answers the real engine does not
// give on demand (a 500 on one deletion, a label that appears between plan and deletion at
// a chosen moment). The real engine's deletions are in tests/integration/prune_test.cpp.

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "composewatch/prune/executor.h"
#include "fake_engine.h"

using namespace composewatch;
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
  FakeEngine fake([](int fd, const std::string& target) {
    auto json = [&](int status, const std::string& body) { FakeEngine::write_all(fd, FakeEngine::json_response(status, body)); };
    if (target == "/_ping") return FakeEngine::write_all(fd, test_support::ping("1.41"));
    if (target == "/v1.41/containers/json?all=1") return json(200, "[]");
    if (target == "/v1.41/images/sha256:gone/json") return json(404, R"({"message":"No such image"})");
    for (const char* id : {"sha256:busy", "sha256:broken", "sha256:ok", "sha256:late"}) {
      if (target == std::string("/v1.41/images/") + id + "/json")
        return json(200, image_json(id, "[]", std::string(id) == "sha256:late" ? R"({"composewatch.keep":"true"})" : "null"));
    }
    // DELETE answers (the fake does not tell methods apart; inspects were answered above).
    if (target == "/v1.41/images/sha256:busy")
      return json(409, R"({"message":"conflict: unable to delete (must be forced) - image is being used"})");
    if (target == "/v1.41/images/sha256:broken") return json(500, R"({"message":"driver failed"})");
    if (target == "/v1.41/images/sha256:ok") return json(200, R"([{"Deleted":"sha256:ok"}])");
    json(404, "{}");
  });
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

TEST(PruneExecutor, AnImageWithSeveralTagsIsUntaggedOneByOne) {
  FakeEngine fake([](int fd, const std::string& target) {
    auto json = [&](int status, const std::string& body) { FakeEngine::write_all(fd, FakeEngine::json_response(status, body)); };
    if (target == "/_ping") return FakeEngine::write_all(fd, test_support::ping("1.41"));
    if (target == "/v1.41/containers/json?all=1") return json(200, "[]");
    if (target == "/v1.41/images/sha256:multi/json") return json(200, image_json("sha256:multi", R"(["a/b:1","a/b:2"])"));
    json(200, R"([{"Untagged":"x"}])");
  });
  prune::PrunePlan plan;
  plan.kind = prune::Kind::images;
  plan.candidates = {image_entry("sha256:multi", {"a/b:1", "a/b:2"})};
  const auto r = execute(fake, plan);
  ASSERT_EQ(r.outcomes.size(), 1u);
  EXPECT_EQ(r.outcomes[0].result, Result::deleted);
  const auto reqs = fake.requests();
  EXPECT_NE(std::find(reqs.begin(), reqs.end(), "DELETE /v1.41/images/a/b:1"), reqs.end());
  EXPECT_NE(std::find(reqs.begin(), reqs.end(), "DELETE /v1.41/images/a/b:2"), reqs.end());
  EXPECT_EQ(std::find(reqs.begin(), reqs.end(), "DELETE /v1.41/images/sha256:multi"), reqs.end());
}

TEST(PruneExecutor, BuildCacheIsPrunedByIdOneRecordAtATime) {
  FakeEngine fake([](int fd, const std::string& target) {
    auto json = [&](int status, const std::string& body) { FakeEngine::write_all(fd, FakeEngine::json_response(status, body)); };
    if (target == "/_ping") return FakeEngine::write_all(fd, test_support::ping("1.41"));
    if (target == "/v1.41/containers/json?all=1") return json(200, "[]");
    if (target.find("/v1.41/build/prune?filters=") == 0) {
      if (target.find("rec1") != std::string::npos)
        return json(200, R"({"CachesDeleted":["rec1"],"SpaceReclaimed":4096})");
      return json(200, R"({"CachesDeleted":null,"SpaceReclaimed":0})");
    }
    json(404, "{}");
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
