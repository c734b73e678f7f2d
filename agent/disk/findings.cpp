#include "composewatch/disk/findings.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "composewatch/compose/drift.h"

namespace composewatch::disk {

namespace {

std::string label(const std::map<std::string, std::string>& labels, std::string_view key) {
  auto it = labels.find(std::string(key));
  return it == labels.end() ? std::string() : it->second;
}

const compose::ProjectState* project_named(const std::vector<compose::ProjectState>& projects,
                                           const std::string& name) {
  for (const auto& p : projects)
    if (p.name == name) return &p;
  return nullptr;
}

std::string hours(double seconds) {
  const long h = static_cast<long>(seconds / 3600);
  return h >= 48 ? std::to_string(h / 24) + " days" : std::to_string(h) + (h == 1 ? " hour" : " hours");
}

}  // namespace

const std::vector<VolumeCheck>& volume_checks() {
  static const std::vector<VolumeCheck> checks = {
      {"dead-volume",
       "the volume has stayed empty while a running container mounts it: the image writes its data somewhere "
       "else (a wrong mount target), so that data lives in the container and is lost when it is re-created",
       "find where the image keeps its data (docker exec CONTAINER df -h, or the image's documentation) and "
       "mount the volume there; then remove the empty volume"},
      {"orphan-volume",
       "the volume was created for a compose project whose files no longer declare it: removing a volume from "
       "the file does not delete it, and it keeps its disk space",
       "if its data is no longer needed, back it up and remove it with 'docker volume rm VOLUME'; if it is, "
       "declare it in the compose file again"},
  };
  return checks;
}

std::vector<VolumeFinding> volume_findings(const docker::SystemDf& df, const std::map<std::string, double>& started_at,
                                           const std::vector<compose::ProjectState>& projects, double now,
                                           VolumeFindingOptions options) {
  const auto& checks = volume_checks();
  std::vector<VolumeFinding> out;
  for (const auto& v : df.volumes) {
    const std::string project = label(v.labels, docker::kLabelProject);
    if (project.empty()) continue;

    if (v.size == 0) {
      // The longest-mounted running container that has it.
      const docker::ContainerSummary* longest = nullptr;
      double since = now;
      for (const auto& c : df.containers) {
        if (c.state != "running") continue;
        auto st = started_at.find(c.id);
        if (st == started_at.end()) continue;
        for (const auto& m : c.mounts)
          if (m.type == "volume" && m.name == v.name && st->second < since) {
            since = st->second;
            longest = &c;
          }
      }
      if (longest && now - since >= static_cast<double>(options.dead_after.count())) {
        std::string target;
        for (const auto& m : longest->mounts)
          if (m.name == v.name) target = m.destination;
        out.push_back({project, v.name, checks[0].id,
                       "0 bytes after " + hours(now - since) + " mounted at " + target + " of running container " +
                           longest->name,
                       checks[0].why, checks[0].fix});
      }
    }

    const std::string key = label(v.labels, docker::kLabelComposeVolume);
    const compose::ProjectState* p = project_named(projects, project);
    if (!key.empty() && p && p->model && !p->model->volumes.count(key)) {
      std::string files;
      for (const auto& f : p->model->files) files += (files.empty() ? "" : ", ") + f;
      out.push_back({project, v.name, checks[1].id,
                     "volume '" + key + "' of project " + project + " is not declared in " + files, checks[1].why,
                     checks[1].fix});
    }
  }
  std::sort(out.begin(), out.end(), [](const VolumeFinding& a, const VolumeFinding& b) {
    return std::tie(a.project, a.volume, a.check) < std::tie(b.project, b.volume, b.check);
  });
  return out;
}

std::vector<ServiceImage> service_images(const docker::SystemDf& df,
                                         const std::vector<compose::ProjectState>& projects) {
  std::map<std::string, const docker::ImageSummary*> by_id;
  std::map<std::string, const docker::ImageSummary*> by_ref;  // normalised tags and digests
  for (const auto& img : df.images) {
    by_id[img.id] = &img;
    for (const auto& t : img.repo_tags) by_ref[compose::normalize_image_ref(t)] = &img;
    for (const auto& d : img.repo_digests) by_ref[compose::normalize_image_ref(d)] = &img;
  }
  std::map<std::pair<std::string, std::string>, ServiceImage> out;
  // What runs (or ran) first: the containers say exactly which image.
  for (const auto& c : df.containers) {
    const std::string project = label(c.labels, docker::kLabelProject);
    const std::string service = label(c.labels, docker::kLabelService);
    if (project.empty() || service.empty() || label(c.labels, docker::kLabelOneoff) == "True") continue;
    auto img = by_id.find(c.image_id);
    if (img == by_id.end()) continue;
    out.try_emplace({project, service}, ServiceImage{project, service, c.image, img->second->size});
  }
  for (const auto& p : projects) {
    if (!p.model) continue;
    for (const auto& [name, svc] : p.model->services) {
      if (out.count({p.name, name})) continue;
      for (const auto& ref : compose::service_image_refs(p.name, svc)) {
        // name:tag@sha256:… is pulled by its digest alone: the image has name@sha256:…
        // among its RepoDigests and maybe no tag at all.
        const compose::ImageRef parsed = compose::parse_image_ref(ref);
        auto img = by_ref.find(parsed.digest.empty() ? ref : parsed.repository + "@" + parsed.digest);
        if (img == by_ref.end()) continue;
        out.emplace(std::pair{p.name, name},
                    ServiceImage{p.name, name, svc.image.empty() ? ref : svc.image, img->second->size});
        break;
      }
    }
  }
  std::vector<ServiceImage> v;
  v.reserve(out.size());
  for (auto& [key, si] : out) v.push_back(std::move(si));
  return v;
}

}  // namespace composewatch::disk
