#pragma once
// The disk collector job: GET /info once for the Docker root dir, then GET /system/df
// every `interval` with its own deadline, one call at a time. Each answer replaces the
// DiskReport the state model publishes; a slow or failing call keeps the last figures and
// marks the report not ok (composewatch_collector_success{collector="disk"} 0). Scrapes
// read the report; they never wait for df.
//
// One long-lived job on the writer's executor, beside the tracker; started and supervised
// by jobs::Supervisor.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>

#include "composewatch/disk/report.h"
#include "composewatch/engine/client.h"
#include "composewatch/engine/endpoint.h"
#include "composewatch/state/model.h"

namespace composewatch::jobs {

struct DiskCollectorOptions {
  std::chrono::seconds interval{300};  // disk.interval: from the start of one call to the next
  std::chrono::seconds timeout{60};    // disk.timeout: per call, connect included
  // Until the first df has answered, try again this soon instead of after `interval`.
  std::chrono::seconds first_retry{30};
};

class DiskCollector {
 public:
  DiskCollector(boost::asio::any_io_executor ex, engine::Endpoint endpoint, state::StateModel& model,
                DiskCollectorOptions options, engine::ClientOptions client = {});

  // Collects forever; engine failures are logged and kept in the report, never thrown.
  boost::asio::awaitable<void> run();

  // One collection: /info when the root dir is not known yet, then /system/df. Publishes
  // the new report. Writer only.
  boost::asio::awaitable<void> collect_once();

 private:
  boost::asio::any_io_executor ex_;
  engine::Endpoint endpoint_;
  state::StateModel& model_;
  DiskCollectorOptions options_;
  engine::ClientOptions client_;
  std::shared_ptr<const disk::DiskReport> report_;
};

}  // namespace composewatch::jobs
