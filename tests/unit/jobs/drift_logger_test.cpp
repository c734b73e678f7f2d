// Which compose states the drift logger logs, and when again: pure, on constructed drift.

#include <gtest/gtest.h>

#include "composewatch/jobs/drift_logger.h"

using namespace composewatch;
using compose::Completion;
using compose::DriftField;
using jobs::DriftNotice;

namespace {

compose::ProjectDrift stale(const std::string& current) {
  compose::ProjectDrift d;
  compose::ServiceDrift s;
  s.service = "api";
  s.stale_images.push_back({"shop_api_1", "app:1", "sha256:old", current});
  s.details.push_back(s.stale_images.back().drift());
  s.details.push_back({DriftField::memory_limit, "shop_api_1", "declared 32 MiB"});
  d.services.push_back(s);
  return d;
}

}  // namespace

TEST(DriftNotices, AStaleTagIsLoggedOnceWithBothIdsAndAgainForAnotherImage) {
  jobs::DriftNotices n;
  auto first = n.update("shop", stale("sha256:new"));
  ASSERT_EQ(first.size(), 1u);  // the memory limit is not this job's to log
  EXPECT_EQ(first[0].kind, DriftNotice::Kind::image_stale);
  EXPECT_EQ(first[0].container, "shop_api_1");
  EXPECT_EQ(first[0].image, "app:1");
  EXPECT_EQ(first[0].running_image_id, "sha256:old");
  EXPECT_EQ(first[0].current_image_id, "sha256:new");
  EXPECT_TRUE(n.update("shop", stale("sha256:new")).empty());
  EXPECT_EQ(n.update("shop", stale("sha256:newer")).size(), 1u);
  // Applied, then stale again: logged again.
  EXPECT_TRUE(n.update("shop", {}).empty());
  EXPECT_EQ(n.update("shop", stale("sha256:newer")).size(), 1u);
}

TEST(DriftNotices, GiveUpAndCompletionAreLoggedOncePerOccurrence) {
  jobs::DriftNotices n;
  compose::ProjectDrift d;
  compose::ServiceDrift seed;
  seed.service = "seed";
  seed.completion = Completion::gave_up;
  seed.completion_detail = "given up by the engine: container shop_seed_1 exited 1 after 2 restarts";
  compose::ServiceDrift migrate;
  migrate.service = "migrate";
  migrate.completion = Completion::completed;
  migrate.completion_detail = "ran to completion: container shop_migrate_1 exited 0";
  d.services = {migrate, seed};
  auto out = n.update("shop", d);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].kind, DriftNotice::Kind::completed);
  EXPECT_EQ(out[1].kind, DriftNotice::Kind::gave_up);
  EXPECT_EQ(out[1].service, "seed");
  EXPECT_TRUE(n.update("shop", d).empty());
  // Another project's services are another key; a project gone is forgotten.
  EXPECT_EQ(n.update("blog", d).size(), 2u);
  n.keep_only({"shop"});
  EXPECT_EQ(n.update("blog", d).size(), 2u);
  EXPECT_TRUE(n.update("shop", d).empty());
}
