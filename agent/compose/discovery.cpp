#include "composewatch/compose/discovery.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include <unistd.h>

#include "composewatch/compose/loader.h"

namespace composewatch::compose {

namespace fs = std::filesystem;

std::vector<ProjectSource> configured_sources(const std::vector<config::ComposeProjectConfig>& projects) {
  std::vector<ProjectSource> out;
  for (const auto& p : projects) {
    ProjectSource s;
    s.name = p.name;
    s.files = p.files;
    s.env_file = p.env_file;
    s.profiles = p.profiles;
    s.production = p.production;
    s.configured = true;
    out.push_back(std::move(s));
  }
  return out;
}

namespace {

constexpr const char* kLabelEnvironmentFile = "com.docker.compose.project.environment_file";

std::vector<std::string> split_files(const std::string& joined, const std::string& working_dir) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= joined.size()) {
    std::size_t comma = joined.find(',', start);
    if (comma == std::string::npos) comma = joined.size();
    std::string f = joined.substr(start, comma - start);
    if (!f.empty()) {
      fs::path p(f);
      if (p.is_relative() && !working_dir.empty()) p = fs::path(working_dir) / p;
      out.push_back(p.lexically_normal().string());
    }
    start = comma + 1;
  }
  return out;
}

constexpr const char* kLabelReplace = "com.docker.compose.replace";

// "<12 lowercase hex>_rest" -> rest; empty when the name has no such prefix.
std::string_view temporary_name_rest(std::string_view name) {
  constexpr std::size_t kShortId = 12;
  if (name.size() <= kShortId + 1 || name[kShortId] != '_') return {};
  for (std::size_t i = 0; i < kShortId; ++i) {
    const char ch = name[i];
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) return {};
  }
  return name.substr(kShortId + 1);
}

}  // namespace

bool recreate_in_flight(const docker::LiveContainer& c, const std::vector<docker::LiveContainer>& containers) {
  const std::string_view rest = temporary_name_rest(c.name);
  if (rest.empty() || c.project().empty()) return false;
  if (c.spec.labels.contains(kLabelReplace)) return true;
  return std::any_of(containers.begin(), containers.end(), [&](const docker::LiveContainer& other) {
    return &other != &c && other.project() == c.project() && other.name == rest;
  });
}

std::vector<ProjectSource> discovered_sources(const std::vector<docker::LiveContainer>& containers) {
  // The container whose labels describe each project: running first, then by name.
  std::map<std::string, const docker::LiveContainer*> chosen;
  for (const auto& c : containers) {
    if (c.project().empty() || c.spec.compose.oneoff) continue;
    auto [it, inserted] = chosen.try_emplace(c.project(), &c);
    if (inserted) continue;
    const docker::LiveContainer* cur = it->second;
    const bool c_running = c.state == "running", cur_running = cur->state == "running";
    const bool c_labelled = !c.spec.compose.config_files.empty();
    const bool cur_labelled = !cur->spec.compose.config_files.empty();
    if (std::tie(c_labelled, c_running) > std::tie(cur_labelled, cur_running) ||
        (c_labelled == cur_labelled && c_running == cur_running && c.name < cur->name))
      it->second = &c;
  }
  std::vector<ProjectSource> out;
  for (const auto& [name, c] : chosen) {
    ProjectSource s;
    s.name = name;
    s.files = split_files(c->spec.compose.config_files, c->spec.compose.working_dir);
    if (!c->spec.compose.working_dir.empty())
      s.project_directory = fs::path(c->spec.compose.working_dir).lexically_normal().string();
    if (auto it = c->spec.labels.find(kLabelEnvironmentFile); it != c->spec.labels.end())
      s.label_env_files = split_files(it->second, c->spec.compose.working_dir);
    if (s.files.empty())
      s.problem = "container " + c->name + " carries no com.docker.compose.project.config_files label";
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<ProjectSource> merge_sources(const std::vector<ProjectSource>& configured,
                                         const std::vector<ProjectSource>& discovered) {
  std::vector<ProjectSource> out = configured;
  std::set<std::string> names;
  for (const auto& s : configured) names.insert(s.name);
  for (const auto& s : discovered)
    if (names.insert(s.name).second) out.push_back(s);
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

ProjectState load_source(const ProjectSource& source, const ProjectState* previous,
                         const std::map<std::string, std::string>& environment) {
  ProjectState st;
  st.source = source;
  st.name = source.name;
  if (previous) {
    st.model = previous->model;
    st.findings = previous->findings;
  }
  if (!source.problem.empty()) {
    st.error = source.problem;
    return st;
  }
  try {
    LoadOptions opts;
    opts.files = source.files;
    opts.project_name = source.name;
    opts.env_file = source.env_file;
    opts.project_directory = source.project_directory;
    opts.profiles = source.profiles;
    opts.environment = environment;
    opts.interpolation = source.user_environment ? Environment::user : Environment::agent;
    std::vector<std::string> warnings;
    for (const std::string& f : source.label_env_files) {
      std::error_code ec;
      if (fs::is_regular_file(f, ec) && ::access(f.c_str(), R_OK) == 0) {
        opts.env_files.push_back(f);
      } else {
        warnings.push_back(f + ": env file recorded on the project's containers cannot be read by the agent; "
                               "the variables it sets are unknown");
      }
    }
    // Compose read these files instead of .env: reading .env would be a guess.
    if (!source.label_env_files.empty()) opts.dot_env = false;
    if (!source.configured) {
      // Interpolation as Compose saw it when it started the project: the process's own
      // COMPOSE_* settings are not that project's.
      opts.environment.erase("COMPOSE_PROJECT_NAME");
      opts.environment.erase("COMPOSE_PROFILES");
    }
    auto model = std::make_shared<Project>(load_project(opts));
    model->warnings.insert(model->warnings.begin(), warnings.begin(), warnings.end());
    if (st.name.empty()) st.name = model->name;
    st.findings = lint_project(*model, {.production = source.production});
    st.model = std::move(model);
    st.valid = true;
  } catch (const std::exception& e) {
    st.error = e.what();
    if (st.error.empty()) st.error = "could not load the compose files";
  }
  return st;
}

}  // namespace composewatch::compose
