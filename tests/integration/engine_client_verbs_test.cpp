// Client::del and Client::post against the real engine: a volume deleted and a container
// started through the API, then the engine's 404 and 409 as EngineError with the status
// and the engine's message.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "composewatch/engine/client.h"
#include "harness.h"

namespace itest {
namespace {

namespace asio = boost::asio;
namespace engine = composewatch::engine;

template <class T>
T run_sync(asio::io_context& ioc, asio::awaitable<T> aw) {
  auto fut = asio::co_spawn(ioc, std::move(aw), asio::use_future);
  ioc.run();
  ioc.restart();
  return fut.get();
}

// The EngineError a request throws; fails the test when it succeeds.
std::optional<engine::EngineError> engine_error(asio::io_context& ioc, asio::awaitable<std::string> aw) {
  try {
    run_sync(ioc, std::move(aw));
  } catch (const engine::EngineError& e) {
    return e;
  }
  ADD_FAILURE() << "the request succeeded";
  return std::nullopt;
}

// "cwobj-cwit-<pid>-<what>-<n>": ours, and unique per process and call.
std::string object_name(std::string_view what) { return "cwobj-" + unique_name(what); }

void volume_cleanup(Cleanup& cleanup, const std::string& name) {
  cleanup.add([name] { sh("docker volume rm -f " + quote(name) + " >/dev/null 2>&1"); });
}

bool volume_exists(const std::string& name) { return sh("docker volume inspect " + quote(name)).code == 0; }

TEST(EngineClientVerbs, DeleteRemovesAVolumeAndASecondDeleteIs404) {
  Cleanup cleanup;
  const std::string vol = object_name("verbs");
  volume_cleanup(cleanup, vol);
  must("docker volume create " + quote(vol));

  asio::io_context ioc;
  engine::Client client(ioc.get_executor(), engine::parse_endpoint("unix:///var/run/docker.sock"));
  EXPECT_EQ(run_sync(ioc, client.del("/volumes/" + vol)), "");  // 204 No Content
  EXPECT_FALSE(volume_exists(vol));

  auto again = engine_error(ioc, client.del("/volumes/" + vol));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->kind, engine::EngineError::Kind::http_status);
  EXPECT_EQ(again->http_status, 404u);
  const std::string what = again->what();
  EXPECT_EQ(what.rfind("DELETE /v" + client.api_version() + "/volumes/" + vol + ": engine answered 404: ", 0), 0u)
      << what;
  EXPECT_NE(what.find("no such volume"), std::string::npos) << what;
}

TEST(EngineClientVerbs, DeletingAVolumeInUseIs409WithTheEnginesMessage) {
  Cleanup cleanup;
  const std::string vol = object_name("inuse");
  volume_cleanup(cleanup, vol);  // registered first: runs after the container is gone
  must("docker volume create " + quote(vol));
  create_container(cleanup, {.name = object_name("holder"), .options = "-v " + vol + ":/data"});

  asio::io_context ioc;
  engine::Client client(ioc.get_executor(), engine::parse_endpoint("unix:///var/run/docker.sock"));
  auto in_use = engine_error(ioc, client.del("/volumes/" + vol));
  ASSERT_TRUE(in_use);
  EXPECT_EQ(in_use->kind, engine::EngineError::Kind::http_status);
  EXPECT_EQ(in_use->http_status, 409u);
  const std::string what = in_use->what();
  EXPECT_NE(what.find("DELETE /v"), std::string::npos) << what;
  EXPECT_NE(what.find("engine answered 409: "), std::string::npos) << what;
  EXPECT_NE(what.find("volume is in use"), std::string::npos) << what;
  EXPECT_TRUE(volume_exists(vol));
}

TEST(EngineClientVerbs, PostStartsAContainerAndNamesTheVerbOnFailure) {
  Cleanup cleanup;
  const std::string name = object_name("started");
  create_container(cleanup, {.name = name});

  asio::io_context ioc;
  engine::Client client(ioc.get_executor(), engine::parse_endpoint("unix:///var/run/docker.sock"));
  EXPECT_EQ(run_sync(ioc, client.post("/containers/" + name + "/start")), "");  // 204, empty body sent
  EXPECT_TRUE(inspect_eventually(name, "{{.State.Status}}", "running"));

  auto missing = engine_error(ioc, client.post("/containers/" + object_name("absent") + "/start"));
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->kind, engine::EngineError::Kind::http_status);
  EXPECT_EQ(missing->http_status, 404u);
  EXPECT_EQ(std::string(missing->what()).rfind("POST /v", 0), 0u) << missing->what();
}

}  // namespace
}  // namespace itest
