// The image checker job against a fake engine: a running service's image is inspected and
// checked, a new image of the same service is seen to grow, and an engine that stops
// answering keeps the last findings and marks the report failed. The fake is used only for
// what the real engine cannot do on demand: give a running container a new image at a
// chosen moment, and hang up on every call.

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "composewatch/jobs/image_checker.h"
#include "container_events.h"
#include "fake_engine.h"

namespace composewatch {
namespace {

using namespace std::chrono_literals;
using test_support::Exchange;
using test_support::FakeEngine;

std::vector<std::string> checks_of(const images::ImageReport& r, const std::string& service) {
  std::vector<std::string> out;
  for (const auto& s : r.services)
    if (s.service == service)
      for (const auto& f : s.findings) out.push_back(f.check);
  return out;
}

TEST(ImageCheckerJob, InspectsRunningImagesSeesGrowthAndKeepsFindingsWhenTheEngineFails) {
  std::atomic<int> version{1};
  std::atomic<int> image_reads{0};
  auto image = [&] { return "sha256:img" + std::to_string(version.load()); };
  auto size = [&] { return std::string(version == 1 ? "10485760" : "104857600"); };
  FakeEngine fake;
  fake.on("/v1.41/containers/c1/json", [&](Exchange& x) {
        x.json(200, R"({"Id":"c1","Image":")" + image() + R"(","Config":{"User":""},"State":{"Status":"running"}})");
      })
      .on("/v1.41/images/*", [&](Exchange& x) {
        if (x.target() == "/v1.41/images/" + image() + "/json") {
          ++image_reads;
          return x.json(200, R"({"Id":")" + image() + R"(","Size":)" + size() +
                                 R"(,"Config":{"User":"","Env":["PATH=/bin","DB_PASSWORD=x"]}})");
        }
        if (x.target() == "/v1.41/images/" + image() + "/history")
          return x.json(200, R"([{"Id":"<missing>","Created":1,"CreatedBy":"/bin/sh -c dd","Size":)" + size() + "}]");
        x.json(404, R"({"message":"no such object"})");
      });

  boost::asio::io_context ioc;
  state::StateModel model;
  const test_support::Attributes labels = {{"com.docker.compose.project", "shop"},
                                           {"com.docker.compose.service", "api"}};
  model.apply(test_support::container_event("create", "c1", "shop_api_1", 1, "shop/api:1", labels));
  model.apply(test_support::container_event("start", "c1", "shop_api_1", 2, "shop/api:1", labels));
  model.publish();
  jobs::ImageChecker job(ioc.get_executor(), engine::parse_endpoint(fake.docker_host()), model, {.timeout = 2s});
  auto check = [&] {
    auto fut = boost::asio::co_spawn(ioc, job.check_once(), boost::asio::use_future);
    ioc.run();
    ioc.restart();
    fut.get();
    return model.snapshot()->images;
  };

  auto r = check();
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->last_ok);
  EXPECT_EQ(checks_of(*r, "api"), (std::vector<std::string>{"image-runs-as-root", "image-secret-env"}));
  ASSERT_EQ(r->services.size(), 1u);
  ASSERT_TRUE(r->services[0].image);
  EXPECT_EQ(r->services[0].image->config.size, 10485760);
  ASSERT_EQ(r->services[0].image->largest_layers.size(), 1u);
  EXPECT_EQ(r->services[0].image->largest_layers[0].created_by, "RUN dd");

  check();  // the same image: read once
  EXPECT_EQ(image_reads, 1);

  version = 2;  // a new, larger image for the same service
  r = check();
  EXPECT_EQ(checks_of(*r, "api"), (std::vector<std::string>{"image-runs-as-root", "image-secret-env", "image-grew"}));

  fake.hang_up(true);  // every connection closed unanswered
  r = check();
  EXPECT_FALSE(r->last_ok);
  EXPECT_FALSE(r->last_error.empty());
  EXPECT_EQ(checks_of(*r, "api"), (std::vector<std::string>{"image-runs-as-root", "image-secret-env", "image-grew"}))
      << "the last findings stay";
}

}  // namespace
}  // namespace composewatch
