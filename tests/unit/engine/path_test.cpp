// The request paths engine ids and names go into: what is refused never reaches a request
// (the callers' use of them is tested with the prune executor's fake engine and, for the
// real engine, by every integration suite that inspects, stops or prunes).

#include <gtest/gtest.h>

#include <string>

#include "composewatch/engine/client.h"

namespace engine = composewatch::engine;

namespace {

const std::string kId = "4f1e3c0d2b9a8877665544332211ffeeddccbbaa99887766554433221100abcd";

TEST(EnginePath, BuildsThePathsOfIdsNamesAndReferences) {
  EXPECT_EQ(engine::container_path(kId, "/json"), "/containers/" + kId + "/json");
  EXPECT_EQ(engine::container_path("shop-api-1"), "/containers/shop-api-1");
  EXPECT_EQ(engine::container_path("shop_api.1", "/stats?stream=false"), "/containers/shop_api.1/stats?stream=false");
  EXPECT_EQ(engine::image_path("sha256:" + kId, "/json"), "/images/sha256:" + kId + "/json");
  EXPECT_EQ(engine::image_path("registry.example:5000/shop/api:1.2"), "/images/registry.example:5000/shop/api:1.2");
  EXPECT_EQ(engine::image_path("alpine@sha256:" + kId, "/history"), "/images/alpine@sha256:" + kId + "/history");
  EXPECT_EQ(engine::volume_path("shop_data"), "/volumes/shop_data");
  EXPECT_EQ(engine::network_path("shop_default"), "/networks/shop_default");
  EXPECT_EQ(engine::path_segment(kId), kId);
}

TEST(EnginePath, RefusesWhatWouldChangeTheRequest) {
  const std::string control(1, '\x01');
  for (const std::string& bad :
       {std::string(), std::string("a/b"), std::string("/"), std::string("a?force=1"), std::string("a#b"),
        std::string("a%2Fb"), std::string(".."), std::string("a..b"), std::string("../../containers/c"),
        std::string("a b"), std::string("a\nb"), std::string("a\rb"), std::string("a\tb"), "a" + control,
        std::string("a\x7f"), std::string("a\0b", 3), std::string(513, 'a'), std::string("caf\xc3\xa9")}) {
    EXPECT_FALSE(engine::path_safe(bad)) << bad;
    EXPECT_THROW(engine::path_segment(bad), engine::UnsafePathError) << bad;
    EXPECT_THROW(engine::container_path(bad, "/json"), engine::UnsafePathError) << bad;
    EXPECT_THROW(engine::volume_path(bad), engine::UnsafePathError) << bad;
    EXPECT_THROW(engine::network_path(bad), engine::UnsafePathError) << bad;
    if (bad.find('/') == std::string::npos) EXPECT_THROW(engine::image_path(bad), engine::UnsafePathError) << bad;
  }
  // An image reference keeps its '/' between components, never an empty or ".." one.
  for (const std::string& bad : {"/etc", "shop/", "shop//api", "../images/x", "shop/../x", "a/b?c"})
    EXPECT_THROW(engine::image_path(bad), engine::UnsafePathError) << bad;
  // An EngineError like any other refusal of the engine's: callers that handle those
  // handle this one, and it names the object.
  try {
    engine::container_path("x?force=1");
    FAIL() << "not refused";
  } catch (const engine::EngineError& e) {
    EXPECT_EQ(e.kind, engine::EngineError::Kind::protocol);
    EXPECT_NE(std::string(e.what()).find("x?force=1"), std::string::npos) << e.what();
  }
}

}  // namespace
