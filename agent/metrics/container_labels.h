#pragma once
// The labels every container series starts with, private to the metrics component.

#include "composewatch/metrics/text_writer.h"
#include "composewatch/state/model.h"

namespace composewatch::metrics {

// project, service, container: views into the record, valid while the snapshot is.
inline Labels container_labels(const state::ContainerRecord& r) {
  return {{"project", r.project()}, {"service", r.service()}, {"container", r.name}};
}

}  // namespace composewatch::metrics
