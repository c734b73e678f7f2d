#include "composewatch/commands/check.h"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <filesystem>
#include <ostream>
#include <set>

#include "composewatch/commands/compose.h"
#include "composewatch/commands/host.h"
#include "composewatch/commands/image_report.h"
#include "composewatch/compose/discovery.h"
#include "composewatch/config/cli.h"
#include "composewatch/disk/findings.h"
#include "composewatch/prune/plan.h"

namespace composewatch::commands {

namespace json = boost::json;

CheckOptions check_options(const config::CommandLine& cl) {
  return CheckOptions{.files = cl.option_list("file"),
                      .project_name = cl.option("project-name", ""),
                      .env_file = cl.option("env-file", ""),
                      .format = cl.option("format", "text"),
                      .project_directory = cl.option("project-directory", "")};
}

namespace {

std::vector<compose::ProjectState> load_projects(const config::AgentConfig& cfg, const CheckOptions& o,
                                                 const std::vector<docker::LiveContainer>& live) {
  if (o.files.empty() && o.project_directory.empty()) return known_projects(cfg, live);
  const auto env = process_environment();
  const auto configured = compose::configured_sources(cfg.compose_projects);
  std::vector<compose::ProjectState> out;
  {
    compose::ProjectSource src;
    for (const auto& f : o.files) src.files.push_back(std::filesystem::absolute(f).lexically_normal().string());
    src.name = o.project_name;
    src.env_file = o.env_file;
    src.project_directory = o.project_directory;
    src.configured = true;  // the profiles are the ones given (COMPOSE_PROFILES), as for Compose
    src.user_environment = true;
    compose::ProjectState st = compose::load_source(src, nullptr, env);
    // The same project in the config file may be marked production.
    for (const auto& c : configured)
      if (c.name == st.name && c.production && st.model) {
        st.source.production = true;
        st.findings = compose::lint_project(*st.model, {.production = true});
      }
    out.push_back(std::move(st));
  }
  return out;
}

// A project named only by labels that do not say where its files are (not made by
// Compose, or by a tool that omits config_files): nothing to check it against.
bool skipped(const compose::ProjectState& p) { return !p.source.configured && !p.source.problem.empty(); }

struct Report {
  const compose::ProjectState* project;
  compose::ProjectDrift drift;
  std::vector<disk::VolumeFinding> volumes;
  std::string unknown_fix;  // how to give the agent the variables of unknown fields; empty when none is
  std::vector<const images::ServiceReport*> images;  // the image and build checklist
  std::size_t findings() const {
    std::size_t n = project->findings.size() + drift.orphans.size() + volumes.size();
    for (const auto* i : images) n += i->findings.size();
    for (const auto& s : drift.services) n += s.details.size() + (s.completion == compose::Completion::gave_up ? 1 : 0);
    return n;
  }
};

std::string files_of(const compose::ProjectState& p) {
  std::string s;
  for (std::size_t i = 0; i < p.source.files.size(); ++i) s += (i ? ", " : "") + p.source.files[i];
  return s;
}

std::string context_size_text(const images::ContextSize& c) {
  if (!c.error.empty()) return "size unknown (" + c.error + ")";
  return std::string(c.complete ? "" : "at least ") + images::human_bytes(c.bytes) + " in " + std::to_string(c.files) +
         " files" + (c.complete ? "" : " (counting stopped at the walk's limit)");
}

std::string image_text(const images::ServiceImage& i) {
  std::string s = (i.image.empty() ? std::string("?") : i.image) + " (" +
                  docker::short_id(i.config.id) + "), " +
                  images::human_bytes(std::uint64_t(std::max<std::int64_t>(0, i.config.size)));
  const std::string user = i.has_container_user ? i.container_user : i.config.user;
  s += ", runs as " + (user.empty() ? std::string("root (no user set)") : user);
  return s;
}

void print_image_reports(std::ostream& out, const std::vector<const images::ServiceReport*>& reports) {
  for (const auto* r : reports) {
    if (r->build)
      out << "  build " << r->service << ": context " << r->build->context << " sends "
          << context_size_text(r->build->context_size)
          << (r->build->dockerfile.empty() ? std::string() : ", Dockerfile " + r->build->dockerfile) << "\n";
    if (r->image) {
      out << "  image " << r->service << ": " << image_text(*r->image) << "\n";
      for (const auto& l : r->image->largest_layers)
        out << "      layer " << images::human_bytes(std::uint64_t(l.size)) << ": " << l.created_by << "\n";
    } else if (!r->image_error.empty()) {
      out << "  image " << r->service << ": not read: " << r->image_error << "\n";
    }
    for (const auto& f : r->findings) {
      const auto& check = images::checks().at(f.check);
      out << "  " << (f.location.empty() ? r->service : f.location) << ": " << f.check << ": service " << r->service
          << ": " << f.message << "\n      why: " << check.why << "\n      fix: " << check.fix << "\n";
    }
  }
}

json::array image_reports_json(const std::vector<const images::ServiceReport*>& reports) {
  json::array out;
  for (const auto* r : reports) {
    json::object o{{"service", r->service}};
    if (r->build) {
      const auto& c = r->build->context_size;
      o["build"] = json::object{{"context", r->build->context},
                                {"dockerfile", r->build->dockerfile},
                                {"context_bytes", c.error.empty() ? json::value(c.bytes) : json::value(nullptr)},
                                {"context_files", c.error.empty() ? json::value(c.files) : json::value(nullptr)},
                                {"context_complete", c.complete}};
    } else {
      o["build"] = nullptr;
    }
    if (r->image) {
      const auto& i = *r->image;
      json::array layers;
      for (const auto& l : i.largest_layers)
        layers.push_back(json::object{{"size_bytes", l.size}, {"created_by", l.created_by}});
      o["image"] = json::object{{"container", i.container},
                                {"image", i.image},
                                {"id", i.config.id},
                                {"size_bytes", i.config.size},
                                {"user", i.has_container_user ? i.container_user : i.config.user},
                                {"largest_layers", std::move(layers)}};
    } else {
      o["image"] = nullptr;
    }
    o["image_error"] = r->image_error.empty() ? json::value(nullptr) : json::value(r->image_error);
    json::array findings;
    for (const auto& f : r->findings) {
      const auto& check = images::checks().at(f.check);
      findings.push_back(json::object{{"check", f.check},
                                      {"location", f.location},
                                      {"message", f.message},
                                      {"why", check.why},
                                      {"fix", check.fix}});
    }
    o["findings"] = std::move(findings);
    out.push_back(std::move(o));
  }
  return out;
}

constexpr const char* kDriftFix = "run 'docker-compose up -d' (or 'docker compose up -d') to apply the file, "
                                  "or change the file to what runs";
// How to give the agent the variables of a project whose fields are unknown.
std::string unknown_fix(const compose::ProjectState& p, const std::vector<std::string>& variables,
                        const std::string& config_file) {
  std::string names;
  for (std::size_t i = 0; i < variables.size(); ++i) names += (i ? ", " : "") + variables[i];
  const bool one = variables.size() == 1;
  if (p.source.user_environment)
    return names + (one ? " is" : " are") + " not set: export " + (one ? "it" : "them") + " or give --env-file";
  return names + (one ? " is" : " are") + " not set in the agent's environment: set compose.projects[].env_file in " +
         config_file + ", or Environment=/EnvironmentFile= in a systemd drop-in (systemctl edit composewatch)";
}

// Every variable the project's unknown fields depend on, sorted.
std::vector<std::string> unknown_variables(const compose::ProjectDrift& d) {
  std::set<std::string> vars;
  for (const auto& s : d.services)
    for (const auto& u : s.unknown) vars.insert(u.variables.begin(), u.variables.end());
  return {vars.begin(), vars.end()};
}

constexpr const char* kGaveUpFix =
    "read the container's log (docker logs) for why it failed, fix it, then 'docker-compose up -d' starts it again";

constexpr const char* kOrphanFix = "remove it with 'docker-compose up -d --remove-orphans', or declare the service again";

// Why the checklist treats the project as production (empty: it does not).
std::string production_of(const compose::ProjectState& p) {
  return p.model ? compose::production_reason(*p.model, p.source.production) : "";
}

constexpr const char* kPruneBlockedFix =
    "make the compose files readable by the agent (or list the project under compose.projects with files it can "
    "read), and give it the variables its images need (compose.projects[].env_file)";

void print_prune_blocked(std::ostream& out, const std::vector<std::string>& blocked) {
  if (blocked.empty()) return;
  out << "prune: policies on images and containers do not run while what the compose projects need is unknown:\n";
  for (const auto& why : blocked) out << "  " << why << "\n";
  out << "      fix: " << kPruneBlockedFix << "\n";
}

void print_text(std::ostream& out, const std::vector<Report>& reports) {
  for (const auto& r : reports) {
    const auto& p = *r.project;
    out << "project " << p.name << " (" << (p.source.files.empty() ? "no files" : files_of(p)) << ")"
        << (p.source.configured ? "" : ", found from container labels") << "\n";
    if (!p.valid) {
      out << "  " << (skipped(p) ? "skipped: " : "error: could not load: ") << p.error << "\n";
      continue;
    }
    if (const std::string why = production_of(p); !why.empty())
      out << "  production checks apply: " << why << "\n";
    for (const auto& s : r.drift.services)
      for (const auto& d : s.details) {
        out << "  " << s.location.str() << ": drift " << compose::field_name(d.field) << ": service " << s.service;
        if (!d.container.empty()) out << ", container " << d.container;
        out << ": " << d.detail << "\n";
      }
    if (std::any_of(r.drift.services.begin(), r.drift.services.end(), [](const auto& s) { return !s.details.empty(); }))
      out << "      fix: " << kDriftFix << "\n";
    for (const auto& s : r.drift.services) {
      if (s.completion == compose::Completion::gave_up)
        out << "  " << s.location.str() << ": gave up: service " << s.service << ": " << s.completion_detail
            << "\n      fix: " << kGaveUpFix << "\n";
      else if (s.completion == compose::Completion::completed)
        out << "  " << s.location.str() << ": completed: service " << s.service << ": " << s.completion_detail << "\n";
    }
    std::size_t unknown = 0;
    for (const auto& s : r.drift.services)
      for (const auto& u : s.unknown) {
        ++unknown;
        out << "  " << s.location.str() << ": unknown " << compose::field_name(u.field) << ": service " << s.service
            << ": not compared, the file's value depends on ";
        for (std::size_t i = 0; i < u.variables.size(); ++i) out << (i ? ", " : "") << u.variables[i];
        out << "\n";
      }
    if (unknown > 0) out << "      fix: " << r.unknown_fix << "\n";
    for (const auto& o : r.drift.orphans)
      out << "  orphan: container " << o.container << " of service " << o.service
          << " is not in the compose file\n      fix: " << kOrphanFix << "\n";
    for (const auto& f : p.findings) {
      const auto& check = compose::lint_checks().at(f.check);
      out << "  " << (f.location.str().empty() ? p.name : f.location.str()) << ": " << f.check << ": " << f.message
          << "\n      why: " << check.why << "\n      fix: " << check.fix << "\n";
    }
    for (const auto& v : r.volumes)
      out << "  volume " << v.volume << ": " << v.check << ": " << v.detail << "\n      why: " << v.why
          << "\n      fix: " << v.fix << "\n";
    print_image_reports(out, r.images);
    const std::size_t n = r.findings();
    out << "  " << (n == 0 ? std::string("clean") : std::to_string(n) + (n == 1 ? " finding" : " findings"));
    if (unknown > 0) out << "; " << unknown << (unknown == 1 ? " field" : " fields") << " unknown";
    out << "\n";
  }
  if (reports.empty()) out << "no compose projects: none configured in compose.projects and no Compose containers\n";
}

void print_json(std::ostream& out, const std::vector<Report>& reports, int exit_code, bool from_flags,
                const std::string& volumes_error, const std::string& images_error,
                const std::vector<std::string>& prune_blocked) {
  json::array projects;
  std::size_t total = 0;
  for (const auto& r : reports) {
    const auto& p = *r.project;
    json::object o;
    o["project"] = p.name;
    json::array files;
    for (const auto& f : p.source.files) files.emplace_back(f);
    o["files"] = std::move(files);
    o["source"] = from_flags ? "flags" : p.source.configured ? "config" : "labels";
    o["valid"] = p.valid;
    const std::string production = production_of(p);
    o["production"] = production.empty() ? json::value(nullptr) : json::value(production);
    o["error"] = p.valid ? json::value(nullptr) : json::value(p.error);
    json::array drift, orphans, lint;
    for (const auto& s : r.drift.services)
      for (const auto& d : s.details) {
        json::object x{{"service", s.service},
                       {"field", compose::field_name(d.field)},
                       {"container", d.container.empty() ? json::value(nullptr) : json::value(d.container)},
                       {"location", s.location.str()},
                       {"detail", d.detail},
                       {"fix", kDriftFix}};
        if (d.field == compose::DriftField::image_stale)
          for (const auto& st : s.stale_images)
            if (st.container == d.container) {
              x["running_image_id"] = st.running_image_id;
              x["current_image_id"] = st.current_image_id;
            }
        drift.push_back(std::move(x));
      }
    for (const auto& x : r.drift.orphans)
      orphans.push_back(json::object{{"service", x.service}, {"container", x.container}, {"fix", kOrphanFix}});
    for (const auto& f : p.findings) {
      const auto& check = compose::lint_checks().at(f.check);
      lint.push_back(json::object{{"service", f.service},
                                  {"check", f.check},
                                  {"location", f.location.str()},
                                  {"message", f.message},
                                  {"why", check.why},
                                  {"fix", check.fix}});
    }
    json::array unknown;
    for (const auto& s : r.drift.services)
      for (const auto& u : s.unknown) {
        json::array vars;
        for (const auto& v : u.variables) vars.emplace_back(v);
        unknown.push_back(json::object{{"service", s.service},
                                       {"field", compose::field_name(u.field)},
                                       {"location", s.location.str()},
                                       {"variables", std::move(vars)},
                                       {"fix", r.unknown_fix}});
      }
    json::array completed, gave_up;
    for (const auto& s : r.drift.services) {
      if (s.completion == compose::Completion::none) continue;
      json::object x{{"service", s.service}, {"location", s.location.str()}, {"detail", s.completion_detail}};
      if (s.completion == compose::Completion::gave_up) {
        x["fix"] = kGaveUpFix;
        gave_up.push_back(std::move(x));
      } else {
        completed.push_back(std::move(x));
      }
    }
    o["drift"] = std::move(drift);
    o["completed"] = std::move(completed);
    o["gave_up"] = std::move(gave_up);
    o["unknown"] = std::move(unknown);
    o["orphans"] = std::move(orphans);
    o["lint"] = std::move(lint);
    json::array volumes;
    for (const auto& v : r.volumes)
      volumes.push_back(json::object{
          {"volume", v.volume}, {"check", v.check}, {"detail", v.detail}, {"why", v.why}, {"fix", v.fix}});
    o["volumes"] = std::move(volumes);
    o["images"] = image_reports_json(r.images);
    total += p.valid ? r.findings() : 0;
    projects.push_back(std::move(o));
  }
  json::object doc{{"projects", std::move(projects)}, {"findings", total}, {"exit_code", exit_code}};
  doc["volumes_error"] = volumes_error.empty() ? json::value(nullptr) : json::value(volumes_error);
  doc["images_error"] = images_error.empty() ? json::value(nullptr) : json::value(images_error);
  json::array blocked;
  for (const auto& why : prune_blocked) blocked.emplace_back(why);
  doc["prune_blocked"] = json::object{{"reasons", std::move(blocked)}, {"fix", prune_blocked.empty() ? json::value(nullptr) : json::value(kPruneBlockedFix)}};
  out << json::serialize(doc) << "\n";
}

}  // namespace

int run_check(const config::AgentConfig& cfg, const CheckOptions& options, std::ostream& out, std::ostream& err) {
  std::vector<docker::ContainerInfo> infos;
  try {
    infos = inspect_containers(cfg);
  } catch (const std::exception& e) {
    err << "composewatch: could not check: the engine at " << cfg.docker_host << " did not answer: " << e.what()
        << "\n";
    return 2;
  }
  const auto live = live_containers(infos);
  const auto projects = load_projects(cfg, options, live);
  // Volume findings need /system/df, which walks every volume: slow on big hosts, and
  // not worth failing the whole check for.
  std::vector<disk::VolumeFinding> volume_findings;
  std::string volumes_error;
  try {
    std::map<std::string, double> started;
    for (const auto& c : infos)
      if (c.state == "running" && c.started_at) started[c.id] = *c.started_at;
    const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    volume_findings = disk::volume_findings(system_df(cfg), started, projects, now);
  } catch (const std::exception& e) {
    volumes_error = e.what();
  }
  // The build checks of every loaded project; the image checks of what runs.
  const HostImageReport image_checks = host_image_report(cfg, projects, infos);
  std::vector<Report> reports;
  bool could_not = false;
  std::size_t findings = 0;
  for (const auto& p : projects) {
    Report r{&p, {}, {}, {}, {}};
    for (const auto& v : volume_findings)
      if (v.project == p.name) r.volumes.push_back(v);
    if (p.valid) r.images = images::services_of(image_checks.services, p.name);
    if (p.valid && p.model) {
      // image_stale only where the engine resolved the tags.
      r.drift = compose::compare_project(
          *p.model, live,
          {.profiles_known = p.source.configured,
           .current_images = image_checks.error.empty() ? &image_checks.current_images : nullptr});
      if (const auto vars = unknown_variables(r.drift); !vars.empty())
        r.unknown_fix = unknown_fix(p, vars, cfg.config_file.empty() ? cfg.default_config_file : cfg.config_file);
      findings += r.findings();
    } else if (!skipped(p)) {
      could_not = true;
    }
    reports.push_back(std::move(r));
  }
  const int code = could_not ? 2 : findings > 0 ? 1 : 0;
  // What keeps the config file's image and container policies from running (not for a
  // project given with -f: the agent's prune does not see that one).
  const bool from_flags = !options.files.empty() || !options.project_directory.empty();
  std::vector<std::string> prune_blocked;
  if (!from_flags && std::any_of(cfg.prune_policies.begin(), cfg.prune_policies.end(), [](const auto& p) {
        return p.target == "images" || p.target == "containers";
      }))
    prune_blocked = prune::ComposeKnowledge::from(projects).blockers;
  if (options.format == "json") {
    print_json(out, reports, code, from_flags, volumes_error, image_checks.error, prune_blocked);
  } else {
    print_text(out, reports);
    print_prune_blocked(out, prune_blocked);
  }
  if (!volumes_error.empty()) err << "composewatch: volume findings not checked: " << volumes_error << "\n";
  if (!image_checks.error.empty()) err << "composewatch: running images not checked: " << image_checks.error << "\n";
  for (const auto& p : projects)
    if (!p.valid && !skipped(p)) err << "composewatch: could not check project " << p.name << ": " << p.error << "\n";
  return code;
}

std::map<std::string, ContainerDrift> drift_by_container(const config::AgentConfig& cfg,
                                                         const std::vector<docker::ContainerInfo>& containers) {
  std::map<std::string, ContainerDrift> out;
  try {
    const auto live = live_containers(containers);
    const compose::CurrentImages current = current_images(cfg, live);
    for (const auto& p : known_projects(cfg, live)) {
      if (!p.valid || !p.model) continue;
      for (const auto& c : live) {
        if (c.project() != p.name || c.spec.compose.oneoff) continue;
        auto& fields = out[c.name].fields;
        const compose::Service* s = nullptr;
        if (auto it = p.model->services.find(c.service()); it != p.model->services.end()) s = &it->second;
        else if (auto in = p.model->inactive_services.find(c.service()); in != p.model->inactive_services.end())
          s = &in->second;
        if (!s) {
          fields.push_back("orphan");
          continue;
        }
        for (const auto& d : compose::container_drift(p.name, *s, c))
          fields.emplace_back(compose::field_name(d.field));
        if (compose::image_stale_drift(c, current))
          fields.emplace_back(compose::field_name(compose::DriftField::image_stale));
      }
      // How each service ended, on each of its containers.
      const auto d = compose::compare_project(*p.model, live, {.profiles_known = p.source.configured});
      for (const auto& s : d.services) {
        if (s.completion == compose::Completion::none) continue;
        for (const auto& c : live)
          if (c.project() == p.name && c.service() == s.service && !c.spec.compose.oneoff)
            out[c.name].end = s.completion == compose::Completion::completed ? "completed" : "gave up";
      }
    }
  } catch (const std::exception&) {
    // status shows "-" for what it could not compare
  }
  return out;
}

}  // namespace composewatch::commands
