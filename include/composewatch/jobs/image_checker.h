#pragma once
// The image checker job (the steps `check` and `diagnose` share with it: images/service_image.h).
//
// The job looks at the published snapshot every `poll`: when the Compose projects' builds
// or the running services' containers changed (a re-created container is how a new image
// shows), and in any case every `interval`, it checks again:
//   - the build checks of every service with a `build:` context on the host (files are
//     read and walked on a thread of its own, bounded, never on the writer's thread);
//   - the image checks of every running service: its container and image inspected and the
//     image's history read, each call under `timeout`. An image is immutable, so its
//     config and history are read once per image id.
//   - the tags the running Compose containers were created from, resolved on the engine
//     (GET /images/{tag}/json, never a registry): image_stale drift compares them with the
//     images the containers run. An image event on one of those tags (a pull, a build, a
//     `docker tag`) is a change too, so a moved tag is seen within `poll`.
// It keeps each service's previous image (id and size) for image-grew, in memory: an agent
// restart forgets it. The result replaces the ImageReport the state model publishes;
// scrapes read it (composewatch_image_finding) and never call the engine.
//
// One long-lived job on the writer's executor; started and supervised by jobs::Supervisor.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "composewatch/compose/discovery.h"
#include "composewatch/engine/client.h"
#include "composewatch/images/report.h"
#include "composewatch/images/service_image.h"
#include "composewatch/state/model.h"

namespace boost::asio {
class thread_pool;
}

namespace composewatch::jobs {

struct ImageCheckerOptions {
  std::chrono::seconds interval{3600};  // the slow schedule: everything again, changed or not
  std::chrono::seconds poll{10};        // how often the snapshot is compared with the last check
  std::chrono::seconds timeout{30};     // per engine call, connect included
  std::size_t layers = 3;               // largest layers kept per image
  images::BuildOptions build;
  images::GrowthRule growth;
};

class ImageChecker {
 public:
  ImageChecker(boost::asio::any_io_executor ex, engine::Endpoint endpoint, state::StateModel& model,
               ImageCheckerOptions options = {}, engine::ClientOptions client = {});
  ~ImageChecker();

  // Checks forever; engine failures are logged and kept in the report, never thrown.
  boost::asio::awaitable<void> run();
  // One check of everything; publishes the new report. Writer only.
  boost::asio::awaitable<void> check_once();

 private:
  // What a check depends on: the projects' builds and the running containers.
  std::string fingerprint(const state::Snapshot& s) const;

  boost::asio::any_io_executor ex_;
  engine::Endpoint endpoint_;
  state::StateModel& model_;
  ImageCheckerOptions options_;
  engine::ClientOptions client_;
  std::unique_ptr<boost::asio::thread_pool> files_;  // the build checks' file reading
  images::ImageCache cache_;
  std::map<std::pair<std::string, std::string>, images::PreviousImage> current_, previous_;
  std::vector<images::ServiceReport> last_images_;  // of the last check the engine answered
  std::map<std::string, std::string> last_current_images_;  // the tags' images, same check
  std::string last_error_;
};

}  // namespace composewatch::jobs
