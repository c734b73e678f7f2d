#include "composewatch/jobs/drift_logger.h"

#include <algorithm>

#include "composewatch/compose/discovery.h"
#include "composewatch/images/report.h"
#include "composewatch/jobs/repeat.h"
#include "composewatch/log/log.h"

namespace composewatch::jobs {

namespace asio = boost::asio;

namespace {
constexpr char kSep = '\x1f';  // between the parts of a key: in no name nor detail
}  // namespace

std::vector<DriftNotice> DriftNotices::update(const std::string& project, const compose::ProjectDrift& drift) {
  std::vector<DriftNotice> out;
  std::set<std::string> now;
  auto note = [&](std::string key, DriftNotice n) {
    key = project + kSep + key;
    now.insert(key);
    if (!seen_.contains(key)) out.push_back(std::move(n));
  };
  for (const auto& s : drift.services) {
    for (const auto& st : s.stale_images)
      note(std::string("stale") + kSep + st.container + kSep + st.current_image_id,
           {DriftNotice::Kind::image_stale, project, s.service, st.container, st.image, st.running_image_id,
            st.current_image_id, st.drift().detail});
    if (s.completion == compose::Completion::gave_up)
      note(std::string("gave_up") + kSep + s.service + kSep + s.completion_detail,
           {DriftNotice::Kind::gave_up, project, s.service, "", "", "", "", s.completion_detail});
    else if (s.completion == compose::Completion::completed)
      note(std::string("completed") + kSep + s.service + kSep + s.completion_detail,
           {DriftNotice::Kind::completed, project, s.service, "", "", "", "", s.completion_detail});
  }
  // What no longer holds in this project is forgotten, so its return is logged again.
  std::erase_if(seen_, [&](const std::string& k) { return k.starts_with(project + kSep) && !now.contains(k); });
  seen_.insert(now.begin(), now.end());
  return out;
}

void DriftNotices::keep_only(const std::set<std::string>& projects) {
  std::erase_if(seen_, [&](const std::string& k) { return !projects.contains(k.substr(0, k.find(kSep))); });
}

DriftLogger::DriftLogger(state::StateModel& model, std::chrono::milliseconds poll) : model_(model), poll_(poll) {}

void DriftLogger::pass() {
  const auto snap = model_.snapshot();
  if (snap->sequence == last_sequence_) return;  // nothing published since the last pass
  last_sequence_ = snap->sequence;
  if (!snap->compose) return;
  // Each project is compared with its own containers only (compare_project reads no
  // other), not with a copy of every container's spec.
  std::vector<std::string_view> compared;
  for (const auto& p : snap->compose->projects)
    if (p.model) compared.push_back(p.model->name);
  const auto live = state::live_containers_by_project(snap->containers, compared);
  std::set<std::string> projects;
  for (const auto& p : snap->compose->projects) {
    if (!p.model) continue;
    projects.insert(p.name);
    const auto d = compose::compare_project(
        *p.model, live.find(p.model->name)->second,
        {.profiles_known = p.source.configured, .current_images = snap->images ? &snap->images->current_images : nullptr});
    for (const auto& n : notices_.update(p.name, d)) {
      switch (n.kind) {
        case DriftNotice::Kind::image_stale:
          log::warn("image tag moved: the container runs the image it was created from; up re-creates it",
                    {{"project", n.project}, {"service", n.service}, {"container", n.container}, {"image", n.image},
                     {"running_image_id", n.running_image_id}, {"current_image_id", n.current_image_id}});
          break;
        case DriftNotice::Kind::gave_up:
          log::error("the engine gave up restarting the service: on-failure retries used up",
                     {{"project", n.project}, {"service", n.service}, {"detail", n.detail}});
          break;
        case DriftNotice::Kind::completed:
          log::info("one-shot service ran to completion", {{"project", n.project}, {"service", n.service},
                                                           {"detail", n.detail}});
          break;
      }
    }
  }
  notices_.keep_only(projects);
}

asio::awaitable<void> DriftLogger::run() {
  return repeat([this]() -> asio::awaitable<std::chrono::milliseconds> {
    pass();
    co_return poll_;
  });
}

}  // namespace composewatch::jobs
