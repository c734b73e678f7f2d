// The status page at `/`: one server-rendered HTML document per request, from the same
// snapshot the collectors read. Markup is written by Html::raw() from literals only; every
// value goes through Html::text(), which is html_escape().

#include "composewatch/web/status_page.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <set>

#include "composewatch/compose/discovery.h"
#include "composewatch/compose/drift.h"
#include "composewatch/config/config.h"
#include "composewatch/images/report.h"
#include "composewatch/prune/plan.h"
#include "composewatch/prune/status.h"
#include "composewatch/version.h"

namespace composewatch::web {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// The length of the valid UTF-8 sequence that starts at s[i] (a byte >= 0x80), or 0.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  const std::size_t n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((b(i + k) & 0xC0) != 0x80) return 0;
  // Overlong forms, surrogates, code points above U+10FFFF.
  if ((c == 0xE0 && b(i + 1) < 0xA0) || (c == 0xED && b(i + 1) >= 0xA0) || (c == 0xF0 && b(i + 1) < 0x90) ||
      (c == 0xF4 && b(i + 1) >= 0x90))
    return 0;
  // C1 controls (U+0080..U+009F).
  if (c == 0xC2 && b(i + 1) < 0xA0) return 0;
  return n;
}

void append_escaped(std::string& out, std::string_view s) {
  std::size_t plain = 0;  // start of the run of bytes copied as they are
  auto flush = [&](std::size_t i) { out.append(s.data() + plain, i - plain); };
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    std::string_view ref;
    std::size_t len = 1;
    if (c >= 0x80) {
      len = utf8_sequence(s, i);
      if (len == 0) {
        ref = kReplacement;
        len = 1;
      }
    } else if (c == '&') {
      ref = "&amp;";
    } else if (c == '<') {
      ref = "&lt;";
    } else if (c == '>') {
      ref = "&gt;";
    } else if (c == '"') {
      ref = "&quot;";
    } else if (c == '\'') {
      ref = "&#39;";
    } else if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
      ref = kReplacement;
    }
    if (!ref.empty()) {
      flush(i);
      out += ref;
      plain = i + len;
    }
    i += len;
  }
  flush(s.size());
}

// Markup from literals with raw(), values with text(): the one place values are escaped.
class Html {
 public:
  Html() { out_.reserve(64 * 1024); }
  Html& raw(std::string_view markup) {
    out_ += markup;
    return *this;
  }
  Html& text(std::string_view value) {
    append_escaped(out_, value);
    return *this;
  }
  Html& text(std::uint64_t n) { return text(std::to_string(n)); }
  // ` name="value"`, the value escaped.
  Html& attr(std::string_view name, std::string_view value) {
    raw(" ").raw(name).raw("=\"").text(value).raw("\"");
    return *this;
  }
  Html& attr(std::string_view name, std::uint64_t n) { return attr(name, std::to_string(n)); }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

double epoch_seconds(state::Clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

std::string utc(double epoch, const char* format = "%Y-%m-%d %H:%M:%S UTC") {
  const std::time_t t = static_cast<std::time_t>(std::floor(epoch));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

std::string size(std::uint64_t bytes) { return config::format_size(static_cast<std::int64_t>(bytes)); }

std::string percent(double p) {
  char buf[16];
  std::snprintf(buf, sizeof buf, p < 10 ? "%.1f%%" : "%.0f%%", p);
  return buf;
}

// A class for a state or health value: fixed strings only, never the value itself.
std::string_view state_tone(std::string_view state, bool present) {
  if (!present) return "mute";
  if (state == "running") return "ok";
  if (state == "paused" || state == "created" || state == "removing") return "warn";
  if (state == "restarting" || state == "dead") return "bad";
  return "mute";  // exited
}
std::string_view health_tone(std::string_view health) {
  if (health == "healthy") return "ok";
  if (health == "starting") return "warn";
  if (health == "unhealthy") return "bad";
  return "mute";
}

// A usage bar; `fraction` in [0, 1].
void bar(Html& h, double fraction) {
  fraction = std::clamp(fraction, 0.0, 1.0);
  char width[16];
  std::snprintf(width, sizeof width, "%.1f%%", fraction * 100);
  h.raw("<span class=\"bar").raw(fraction >= 0.9 ? " hot" : "").raw("\" aria-hidden=\"true\"><span style=\"width:");
  h.text(width).raw("\"></span></span>");
}

constexpr std::string_view kStyle = R"css(
:root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--mute:#59636e;--line:#d1d9e0;--card:#f6f8fa;
--ok:#1a7f37;--okbg:#dafbe1;--warn:#8a5a00;--warnbg:#fff8c5;--bad:#c4141f;--badbg:#ffebe9;--bar:#0969da}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--mute:#9198a1;--line:#3d444d;--card:#151b23;
--ok:#3fb950;--okbg:#12261e;--warn:#d29922;--warnbg:#272115;--bad:#ff7b72;--badbg:#301416;--bar:#4493f8}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;padding:1rem;background:var(--bg);color:var(--fg);
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;overflow-wrap:anywhere}
main{max-width:1200px;margin:0 auto}
h1{font-size:1.35rem;margin:0 0 .4rem}h1 small{font-weight:400;color:var(--mute)}
h2{font-size:1.15rem;margin:1.6rem 0 .5rem;padding-bottom:.25rem;border-bottom:1px solid var(--line)}
h3{font-size:1rem;margin:1.2rem 0 .3rem}
a{color:var(--bar)}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.92em}
.facts{display:flex;flex-wrap:wrap;gap:.3rem 1.4rem;margin:.3rem 0;padding:0;list-style:none}
.facts b{font-weight:600;color:var(--mute);margin-right:.3rem}
.mute,.sub{color:var(--mute)}.sub{font-size:.85em}
.b{display:inline-block;padding:0 .5em;border-radius:1em;font-size:.85em;white-space:nowrap;border:1px solid var(--line);background:var(--card)}
.b.ok{color:var(--ok);background:var(--okbg);border-color:transparent}
.b.warn{color:var(--warn);background:var(--warnbg);border-color:transparent}
.b.bad{color:var(--bad);background:var(--badbg);border-color:transparent}
.b.mute{color:var(--mute)}
.hot{color:var(--bad);font-weight:600}
.banner{padding:.6rem .8rem;border-radius:.4rem;margin:.8rem 0;border:1px solid;font-weight:500}
.banner.bad{color:var(--bad);background:var(--badbg)}.banner.warn{color:var(--warn);background:var(--warnbg)}
.note{margin:.3rem 0}.err{color:var(--bad)}
.scroll{overflow-x:auto}
table{width:100%;border-collapse:collapse;margin:.3rem 0}
th,td{padding:.35rem .5rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
thead th{font-size:.85em;color:var(--mute);font-weight:600;white-space:nowrap}
.n{text-align:right;font-variant-numeric:tabular-nums}
tr.svc th{background:var(--card);font-weight:400;border-top:1px solid var(--line)}
tr.svc th>strong{font-size:1.02em;margin-right:.5rem}
tr.gone td{opacity:.65}
.chips{display:inline-flex;flex-wrap:wrap;gap:.25rem;vertical-align:middle}
details{display:inline-block;margin-left:.3rem}details[open]{display:block}
summary{cursor:pointer;color:var(--mute)}details ul{margin:.2rem 0 .2rem 1.2rem;padding:0}
.bar{display:inline-block;width:4.5rem;height:.5rem;margin-right:.35rem;background:var(--line);border-radius:.25rem;overflow:hidden;vertical-align:middle}
.bar>span{display:block;height:100%;background:var(--bar)}.bar.hot>span{background:var(--bad)}
footer{margin-top:2rem;color:var(--mute);font-size:.9em}
footer ul{display:flex;flex-wrap:wrap;gap:1rem;list-style:none;padding:0;margin:.3rem 0}
@media (max-width:700px){
body{padding:.6rem}
table.flow,table.flow tbody,table.flow tr,table.flow td,table.flow th{display:block;width:100%}
table.flow thead{display:none}
table.flow tr{border-bottom:1px solid var(--line);padding:.25rem 0}
table.flow td{border:0;padding:.1rem .3rem .1rem 8rem;text-align:left;position:relative;min-height:1.6em}
table.flow td::before{content:attr(data-label);position:absolute;left:.3rem;width:7.4rem;color:var(--mute);font-size:.85em;line-height:1.7}
table.flow td[colspan]{padding-left:.3rem}
table.flow tr.svc th{border-bottom:0}
}
)css";

// ------------------------------------------------------------------------- gathering

struct ServiceView {
  std::string name;
  const compose::ServiceDrift* drift = nullptr;  // null: not declared, or no model
  std::vector<const state::ContainerRecord*> containers;
  std::vector<const compose::LintFinding*> findings;
  bool orphan = false;  // has containers, the loaded file does not declare it
};

struct ProjectView {
  std::string name;
  const compose::ProjectState* state = nullptr;  // null: known only from container labels
  std::optional<compose::ProjectDrift> drift;
  std::vector<const state::ContainerRecord*> containers;
};

std::map<std::string, ProjectView> group_projects(const state::Snapshot& s) {
  std::map<std::string, ProjectView> projects;
  if (s.compose) {
    const auto live = state::live_containers(s.containers);
    for (const auto& p : s.compose->projects) {
      ProjectView& v = projects[p.name];
      v.name = p.name;
      v.state = &p;
      // As the compose collector computes it, so the page says what the metrics say.
      if (p.model)
        v.drift = compose::compare_project(
            *p.model, live,
            {.profiles_known = p.source.configured, .current_images = s.images ? &s.images->current_images : nullptr});
    }
  }
  for (const auto& r : s.containers) {
    ProjectView& v = projects[r.project()];
    v.name = r.project();
    v.containers.push_back(&r);
  }
  return projects;
}

std::vector<ServiceView> group_services(const ProjectView& p) {
  std::map<std::string, ServiceView> by_name;
  if (p.drift)
    for (const auto& d : p.drift->services) {
      by_name[d.service].name = d.service;
      by_name[d.service].drift = &d;
    }
  std::set<std::string> orphans;
  if (p.drift)
    for (const auto& o : p.drift->orphans) orphans.insert(o.service);
  for (const auto* r : p.containers) {
    ServiceView& v = by_name[r->service()];
    v.name = r->service();
    v.containers.push_back(r);
    if (orphans.count(r->service())) v.orphan = true;
  }
  if (p.state)
    for (const auto& f : p.state->findings)
      if (!f.service.empty() && by_name.count(f.service)) by_name[f.service].findings.push_back(&f);
  std::vector<ServiceView> out;
  for (auto& [name, v] : by_name) out.push_back(std::move(v));
  return out;
}

// One series per (service, check), as composewatch_compose_lint_finding counts them.
std::size_t distinct_checks(const std::vector<const compose::LintFinding*>& findings) {
  std::set<std::string> checks;
  for (const auto* f : findings) checks.insert(f->check);
  return checks.size();
}

std::optional<docker::ResourceStats> resources_of(const state::Snapshot& s, const state::ContainerRecord& r,
                                                  const StatusPageOptions& o) {
  // The containers the resource collector reports.
  if (!r.present || (r.state != "running" && r.state != "paused")) return std::nullopt;
  if (o.resources) return o.resources(r);
  if (!s.api_stats) return std::nullopt;
  const auto it = s.api_stats->by_id.find(r.id);
  if (it == s.api_stats->by_id.end()) return std::nullopt;
  docker::ResourceStats st = it->second;
  // As the collector does: the API's limit is the host's memory when unlimited.
  if (r.spec.memory_limit > 0) st.memory_limit_bytes = std::uint64_t(r.spec.memory_limit);
  return st;
}

// -------------------------------------------------------------------------- rendering

class Page {
 public:
  Page(const state::Snapshot& s, const StatusPageOptions& o, state::Clock::time_point now)
      : s_(s), o_(o), now_(epoch_seconds(now)) {}

  std::string render() {
    head();
    h_.raw("<body><main>\n");
    header();
    projects();
    disk();
    prune();
    autoheal();
    footer();
    h_.raw("</main></body></html>\n");
    return h_.take();
  }

 private:
  std::string ago(double then) const { return prune::format_age(now_ - then) + " ago"; }

  void head() {
    h_.raw("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
           "<meta name=\"color-scheme\" content=\"light dark\">\n"
           "<meta http-equiv=\"refresh\" content=\"30\">\n<title>");
    if (!o_.host_name.empty()) h_.text(o_.host_name).raw(" · ");
    h_.raw("composewatch</title>\n<style>").raw(kStyle).raw("</style></head>\n");
  }

  void header() {
    const auto& e = s_.engine;
    h_.raw("<header><h1>composewatch");
    if (!o_.host_name.empty()) h_.raw(" <small>on ").text(o_.host_name).raw("</small>");
    h_.raw("</h1>\n<ul class=\"facts\">");
    h_.raw("<li><b>Engine</b>");
    if (!e.version.empty())
      h_.raw("Docker ").text(e.version).raw(" <span class=\"mute\">(API ").text(e.api_version).raw(")</span> ");
    h_.raw(e.up ? "<span class=\"b ok\" id=\"engine-up\">up</span>" : "<span class=\"b bad\" id=\"engine-up\">down</span>");
    h_.raw(" ").raw(e.ready ? "<span class=\"b ok\" id=\"engine-ready\">ready</span>"
                            : "<span class=\"b warn\" id=\"engine-ready\">not ready</span>");
    h_.raw("</li><li><b>Agent</b>composewatch ").text(kVersion).raw(" <span class=\"mute\">(").text(kRevision);
    h_.raw(")</span></li><li><b>Snapshot</b>");
    if (s_.taken_at == state::Clock::time_point{}) {
      h_.raw("none yet");
    } else {
      const double t = epoch_seconds(s_.taken_at);
      h_.raw("<time id=\"taken-at\"").attr("datetime", utc(t, "%Y-%m-%dT%H:%M:%SZ")).raw(">").text(utc(t)).raw("</time> <span class=\"mute\">(");
      h_.text(ago(t)).raw(")</span>");
    }
    h_.raw("</li></ul>\n");
    summary();
    h_.raw("</header>\n");

    if (!e.up) {
      h_.raw("<div class=\"banner bad\" role=\"alert\" id=\"engine-down\">The Docker engine is not answering");
      if (!e.error.empty()) h_.raw(": ").text(e.error);
      h_.raw(". What follows is what the agent knew last.</div>\n");
    } else if (!e.ready) {
      h_.raw("<div class=\"banner warn\" role=\"status\" id=\"not-ready\">Not ready: the engine answered, "
             "the first inventory is not loaded yet.</div>\n");
    }
  }

  void summary() {
    std::size_t present = 0, running = 0, unhealthy = 0, restarting = 0;
    std::uint64_t ooms = 0;
    for (const auto& r : s_.containers) {
      ooms += r.counters.oom_kills;
      if (!r.present) continue;
      ++present;
      running += r.state == "running";
      restarting += r.state == "restarting";
      unhealthy += r.health == "unhealthy";
    }
    std::size_t invalid = 0;
    if (s_.compose)
      for (const auto& p : s_.compose->projects) invalid += !p.valid && (p.source.configured || p.source.problem.empty());
    h_.raw("<ul class=\"facts\" id=\"summary\"><li><b>Containers</b>").text(running).raw(" running of ").text(present);
    h_.raw("</li>");
    if (unhealthy) h_.raw("<li class=\"hot\">").text(unhealthy).raw(" unhealthy</li>");
    if (restarting) h_.raw("<li class=\"hot\">").text(restarting).raw(" restarting</li>");
    if (ooms) h_.raw("<li class=\"hot\">").text(ooms).raw(ooms == 1 ? " OOM kill</li>" : " OOM kills</li>");
    if (invalid)
      h_.raw("<li class=\"hot\">").text(invalid).raw(invalid == 1 ? " compose project invalid</li>"
                                                                  : " compose projects invalid</li>");
    h_.raw("</ul>\n");
  }

  // ------------------------------------------------------------------- projects

  void projects() {
    auto views = group_projects(s_);
    h_.raw("<section id=\"projects\"><h2>Containers by Compose project</h2>\n");
    if (!s_.compose) h_.raw("<p class=\"note mute\">Compose files not read yet.</p>\n");
    bool any = false;
    for (const auto& [name, p] : views) {
      if (name.empty()) continue;
      project(p);
      any = true;
    }
    if (!any) h_.raw("<p class=\"note mute\">No Compose projects on this host.</p>\n");
    if (auto it = views.find(""); it != views.end() && !it->second.containers.empty()) {
      h_.raw("<section class=\"project\" id=\"no-project\" data-project=\"\">");
      h_.raw("<h3>Containers outside Compose</h3>\n");
      table_open();
      h_.raw("<tbody>");
      for (const auto* r : it->second.containers) container_row(*r);
      h_.raw("</tbody>");
      table_close();
      h_.raw("</section>\n");
    } else if (s_.containers.empty()) {
      h_.raw("<p class=\"note mute\" id=\"no-containers\">No containers.</p>\n");
    }
    h_.raw("</section>\n");
  }

  void project(const ProjectView& p) {
    const compose::ProjectState* ps = p.state;
    h_.raw("<section class=\"project\"").attr("data-project", p.name);
    if (ps) h_.attr("data-valid", ps->valid ? "1" : "0");
    h_.raw("><h3>").text(p.name).raw(" ");
    if (!ps)
      h_.raw("<span class=\"b mute\">files not loaded</span>");
    else if (!ps->source.configured && !ps->source.problem.empty())
      h_.raw("<span class=\"b mute\">files unknown</span>");
    else if (ps->valid)
      h_.raw("<span class=\"b ok\">valid</span>");
    else
      h_.raw("<span class=\"b bad\">invalid</span>");
    if (ps && ps->source.configured) h_.raw(" <span class=\"b mute\">configured</span>");
    h_.raw("</h3>\n");

    if (ps) {
      if (!ps->source.files.empty()) {
        h_.raw("<div class=\"note sub\">");
        for (std::size_t i = 0; i < ps->source.files.size(); ++i)
          h_.raw(i ? ", <code>" : "<code>").text(ps->source.files[i]).raw("</code>");
        h_.raw("</div>\n");
      }
      if (!ps->source.problem.empty())
        h_.raw("<div class=\"note mute\">").text(ps->source.problem).raw("</div>\n");
      if (!ps->valid && !ps->error.empty()) {
        h_.raw("<div class=\"note err\" role=\"alert\">Load error: <code class=\"load-error\">").text(ps->error);
        h_.raw("</code>");
        if (ps->model) h_.raw(" <span class=\"mute\">(drift is against the last good model)</span>");
        h_.raw("</div>\n");
      }
      std::vector<const compose::LintFinding*> project_level;
      for (const auto& f : ps->findings)
        if (f.service.empty()) project_level.push_back(&f);
      if (!project_level.empty()) {
        h_.raw("<div class=\"note\">Project: ");
        lint(project_level);
        h_.raw("</div>\n");
      }
    }

    const auto services = group_services(p);
    if (services.empty()) {
      h_.raw(ps && !ps->model ? "<p class=\"note mute\">Never loaded: its services are not known.</p></section>\n"
                              : "<p class=\"note mute\">No services.</p></section>\n");
      return;
    }
    table_open();
    for (const auto& svc : services) service(p, svc);
    table_close();
    h_.raw("</section>\n");
  }

  void service(const ProjectView& p, const ServiceView& v) {
    h_.raw("<tbody><tr class=\"svc\"").attr("data-service", v.name);
    std::string drifted;
    if (v.drift) {
      h_.attr("data-replicas-running", std::uint64_t(std::max(0, v.drift->running)));
      h_.attr("data-replicas-desired", std::uint64_t(std::max(0, v.drift->desired)));
      for (const auto& [field, differs] : v.drift->fields)
        if (differs) drifted += (drifted.empty() ? "" : " ") + std::string(compose::field_name(field));
      h_.attr("data-drift", drifted);
      if (v.drift->completion != compose::Completion::none)
        h_.attr("data-ended", v.drift->completion == compose::Completion::completed ? "completed" : "gave_up");
    }
    if (p.state) h_.attr("data-lint", distinct_checks(v.findings));
    h_.raw("><th colspan=\"7\"><strong>").text(v.name.empty() ? "(no service label)" : v.name).raw("</strong>");
    h_.raw("<span class=\"chips\">");
    if (v.drift) {
      const auto& d = *v.drift;
      const bool completed = d.completion == compose::Completion::completed;
      const bool short_of = d.running < d.desired && !completed;
      h_.raw("<span class=\"b ").raw(short_of ? "bad" : d.running == d.desired || completed ? "ok" : "warn").raw("\">");
      h_.text(std::uint64_t(std::max(0, d.running))).raw("/").text(std::uint64_t(std::max(0, d.desired)));
      h_.raw(" running</span>");
      // A one-shot that ran to completion is done, not missing; one the engine gave up on is down for good.
      if (completed)
        h_.raw("<span class=\"b ok completed\" title=\"").text(d.completion_detail).raw("\">completed</span>");
      else if (d.completion == compose::Completion::gave_up)
        h_.raw("<span class=\"b bad gave-up\" title=\"").text(d.completion_detail).raw("\">given up by the engine</span>");
      if (d.memory_limit_bytes)
        h_.raw("<span class=\"b mute\">declared limit ").text(size(std::uint64_t(*d.memory_limit_bytes))).raw("</span>");
      if (drifted.empty())
        h_.raw("<span class=\"b ok\">no drift</span>");
      else
        h_.raw("<span class=\"b bad drift\">drift: ").text(drifted).raw("</span>");
    } else if (v.orphan) {
      h_.raw("<span class=\"b bad\">orphan: not in the compose file</span>");
    }
    if (p.state && !v.findings.empty()) {
      const std::size_t n = distinct_checks(v.findings);
      h_.raw("<span class=\"b warn\">lint: ").text(n).raw(n == 1 ? " finding" : " findings").raw("</span>");
    }
    h_.raw("</span>");
    if (v.drift && (!v.drift->details.empty() || v.drift->completion == compose::Completion::gave_up)) {
      h_.raw("<details><summary>what differs</summary><ul>");
      for (const auto& d : v.drift->details) {
        h_.raw("<li><code>").text(compose::field_name(d.field)).raw("</code> ");
        if (!d.container.empty()) h_.text(d.container).raw(": ");
        h_.text(d.detail).raw("</li>");
      }
      if (v.drift->completion == compose::Completion::gave_up)
        h_.raw("<li><code>gave_up</code> ").text(v.drift->completion_detail).raw("</li>");
      h_.raw("</ul></details>");
    }
    if (!v.findings.empty()) {
      h_.raw("<details><summary>lint</summary><ul>");
      for (const auto* f : v.findings) finding(*f);
      h_.raw("</ul></details>");
    }
    h_.raw("</th></tr>\n");
    if (v.containers.empty())
      h_.raw("<tr><td colspan=\"7\" class=\"mute\">No container.</td></tr>\n");
    for (const auto* r : v.containers) container_row(*r);
    h_.raw("</tbody>\n");
  }

  void lint(const std::vector<const compose::LintFinding*>& findings) {
    const std::size_t n = distinct_checks(findings);
    h_.raw("<span class=\"b warn\">lint: ").text(n).raw(n == 1 ? " finding" : " findings");
    h_.raw("</span><details><summary>lint</summary><ul>");
    for (const auto* f : findings) finding(*f);
    h_.raw("</ul></details>");
  }

  void finding(const compose::LintFinding& f) {
    h_.raw("<li><code>").text(f.check).raw("</code> ").text(f.message);
    if (!f.location.file.empty()) h_.raw(" <span class=\"sub\">").text(f.location.str()).raw("</span>");
    h_.raw("</li>");
  }

  void table_open() {
    h_.raw("<div class=\"scroll\"><table class=\"flow\"><thead><tr><th>Container</th><th>State</th><th>Health</th>"
           "<th>Memory used / limit</th><th class=\"n\">OOM kills</th><th class=\"n\">Restarts</th>"
           "<th>Exit codes</th></tr></thead>\n");
  }
  void table_close() { h_.raw("</table></div>\n"); }

  void container_row(const state::ContainerRecord& r) {
    const auto stats = resources_of(s_, r, o_);
    const std::string state = r.present ? r.state : "removed";
    h_.raw("<tr class=\"ctr").raw(r.present ? "" : " gone").raw("\"").attr("data-container", r.name);
    h_.attr("data-state", state).attr("data-health", r.health);
    h_.attr("data-oom-kills", r.counters.oom_kills).attr("data-restarts", r.counters.restarts);
    if (stats && stats->memory_limit_bytes) h_.attr("data-memory-limit-bytes", *stats->memory_limit_bytes);
    if (stats && stats->memory_working_set_bytes) h_.attr("data-memory-used-bytes", *stats->memory_working_set_bytes);
    h_.raw(">");

    h_.raw("<td data-label=\"Container\"><strong>").text(r.name).raw("</strong>");
    if (r.spec.compose.oneoff) h_.raw(" <span class=\"b mute\">one-off</span>");
    h_.raw("<div class=\"sub\"><span class=\"mono\">").text(docker::short_id(r.id)).raw("</span> ");
    h_.text(r.spec.image).raw("</div></td>");

    h_.raw("<td data-label=\"State\"><span class=\"b ").raw(state_tone(r.state, r.present)).raw("\">").text(state);
    h_.raw("</span>");
    if (r.present && r.state == "running" && r.started_at)
      h_.raw("<div class=\"sub\">for ").text(prune::format_age(now_ - *r.started_at)).raw("</div>");
    h_.raw("</td>");

    h_.raw("<td data-label=\"Health\">");
    if (!r.present || r.health == "none") {
      h_.raw("<span class=\"mute\">").text(r.present ? "no healthcheck" : "—").raw("</span>");
    } else {
      h_.raw("<span class=\"b ").raw(health_tone(r.health)).raw("\">").text(r.health).raw("</span>");
      if (r.failing_streak > 0)
        h_.raw("<div class=\"sub\">").text(std::uint64_t(r.failing_streak)).raw(" failing in a row</div>");
    }
    h_.raw("</td>");

    h_.raw("<td data-label=\"Memory\">");
    memory(r, stats);
    h_.raw("</td>");

    h_.raw("<td data-label=\"OOM kills\" class=\"n").raw(r.counters.oom_kills ? " hot" : "").raw("\">");
    h_.text(r.counters.oom_kills).raw("</td>");
    h_.raw("<td data-label=\"Restarts\" class=\"n").raw(r.counters.restarts ? " hot" : "").raw("\">");
    h_.text(r.counters.restarts).raw("</td>");

    h_.raw("<td data-label=\"Exit codes\">");
    if (r.counters.exits.empty()) h_.raw("<span class=\"mute\">—</span>");
    bool first = true;
    for (const auto& [code, n] : r.counters.exits_by_code()) {
      h_.raw(first ? "" : ", ").raw("<span class=\"exit").raw(code != 0 ? " hot" : "").raw("\"");
      h_.attr("data-code", std::to_string(code)).raw(">").text(std::to_string(code)).raw("</span>");
      if (n > 1) h_.raw(" ×").text(n);
      first = false;
    }
    h_.raw("</td></tr>\n");
  }

  void memory(const state::ContainerRecord& r, const std::optional<docker::ResourceStats>& stats) {
    const bool live = r.present && (r.state == "running" || r.state == "paused");
    if (!live || !stats || !stats->memory_working_set_bytes) {
      h_.raw("<span class=\"mute\">").raw(live ? "not read" : "—").raw("</span>");
      if (r.present && r.spec.memory_limit > 0)
        h_.raw("<div class=\"sub\">limit ").text(size(std::uint64_t(r.spec.memory_limit))).raw("</div>");
      else if (r.present)
        h_.raw("<div class=\"sub\">no limit</div>");
      return;
    }
    const std::uint64_t used = *stats->memory_working_set_bytes;
    if (stats->memory_limit_bytes && *stats->memory_limit_bytes > 0) {
      const double fraction = double(used) / double(*stats->memory_limit_bytes);
      bar(h_, fraction);
      h_.text(size(used)).raw(" / ").text(size(*stats->memory_limit_bytes));
      h_.raw(" <span class=\"").raw(fraction >= 0.9 ? "hot" : "mute").raw("\">").text(percent(fraction * 100));
      h_.raw("</span>");
    } else {
      h_.text(size(used)).raw(" <span class=\"b warn\">no limit</span>");
    }
  }

  // ----------------------------------------------------------------------- disk

  void disk() {
    h_.raw("<section id=\"disk\"><h2>Disk</h2>\n");
    if (!s_.disk) {
      h_.raw("<p class=\"note mute\">Not collected yet.</p></section>\n");
      return;
    }
    const disk::DiskReport& d = *s_.disk;
    if (!d.last_ok && !d.last_error.empty()) {
      h_.raw("<div class=\"banner warn\" role=\"status\">The last disk collection failed: ").text(d.last_error);
      h_.raw(d.df ? ". The figures below are older.</div>\n" : ".</div>\n");
    }
    if (!d.docker_root_dir.empty() && o_.statfs) {
      if (auto fs = o_.statfs(d.docker_root_dir)) {
        h_.raw("<p class=\"note\" id=\"filesystem\"").attr("data-avail-bytes", fs->avail_bytes);
        h_.attr("data-size-bytes", fs->size_bytes).raw(">");
        if (fs->size_bytes) bar(h_, 1.0 - double(fs->avail_bytes) / double(fs->size_bytes));
        h_.raw("Docker root dir <code>").text(d.docker_root_dir).raw("</code>: <strong>").text(size(fs->avail_bytes));
        h_.raw(" free</strong> of ").text(size(fs->size_bytes)).raw(" <span class=\"");
        h_.raw(fs->free_percent() < 10 ? "hot" : "mute").raw("\">(").text(percent(fs->free_percent()));
        h_.raw(" free)</span></p>\n");
      }
    }
    if (!d.df) {
      h_.raw("<p class=\"note mute\">No answer from <code>/system/df</code> yet.</p></section>\n");
      return;
    }
    h_.raw("<div class=\"scroll\"><table class=\"flow\" id=\"disk-usage\"><thead><tr><th>Kind</th>"
           "<th class=\"n\">Size</th><th class=\"n\">Reclaimable</th><th class=\"n\">Objects</th>"
           "<th class=\"n\">In use</th></tr></thead><tbody>\n");
    for (const auto& [kind, u] : {std::pair{"images", &d.summary.images}, std::pair{"containers", &d.summary.containers},
                                  std::pair{"volumes", &d.summary.volumes},
                                  std::pair{"build_cache", &d.summary.build_cache}}) {
      const auto total = std::uint64_t(std::max<std::int64_t>(0, u->total_bytes));
      const auto reclaimable = std::uint64_t(std::max<std::int64_t>(0, u->reclaimable_bytes));
      h_.raw("<tr").attr("data-kind", kind).attr("data-bytes", total).attr("data-reclaimable-bytes", reclaimable);
      h_.attr("data-objects", u->objects).raw("><td data-label=\"Kind\">").text(kind).raw("</td>");
      h_.raw("<td data-label=\"Size\" class=\"n\">").text(size(total)).raw("</td>");
      h_.raw("<td data-label=\"Reclaimable\" class=\"n\">").text(size(reclaimable));
      if (total) h_.raw(" <span class=\"mute\">(").text(percent(100.0 * double(reclaimable) / double(total))).raw(")</span>");
      h_.raw("</td><td data-label=\"Objects\" class=\"n\">").text(u->objects).raw("</td>");
      h_.raw("<td data-label=\"In use\" class=\"n\">").text(u->active).raw("</td></tr>\n");
    }
    h_.raw("</tbody></table></div>\n<p class=\"note sub\">As <code>docker system df</code> counts it, ");
    h_.text(utc(d.df_taken_at)).raw(" (").text(ago(d.df_taken_at)).raw(").</p></section>\n");
  }

  // ---------------------------------------------------------------------- prune

  void prune() {
    if (!s_.prune || s_.prune->policies.empty()) return;
    const prune::PruneStatus& p = *s_.prune;
    h_.raw("<section id=\"prune\"><h2>Prune policies</h2>\n");
    if (!p.suspended.empty())
      h_.raw("<div class=\"banner bad\" role=\"alert\">Every policy is suspended: ").text(p.suspended).raw("</div>\n");
    h_.raw("<div class=\"scroll\"><table class=\"flow\"><thead><tr><th>Policy</th><th>Target</th>"
           "<th class=\"n\">Runs</th><th class=\"n\">Failures</th><th class=\"n\">Reclaimed</th>"
           "<th>Last success</th><th>Would delete now</th><th>Next run</th></tr></thead><tbody>\n");
    for (const auto& s : p.policies) {
      h_.raw("<tr").attr("data-policy", s.policy).attr("data-failures", s.failures);
      if (s.planned) h_.attr("data-candidates", s.candidates);
      h_.raw("><td data-label=\"Policy\"><strong>").text(s.policy).raw("</strong></td>");
      h_.raw("<td data-label=\"Target\">").text(prune::kind_name(s.kind)).raw("</td>");
      h_.raw("<td data-label=\"Runs\" class=\"n\">").text(s.runs_apply).raw(" applied, ").text(s.runs_dry_run);
      h_.raw(" dry run</td><td data-label=\"Failures\" class=\"n").raw(s.failures ? " hot" : "").raw("\">");
      h_.text(s.failures).raw("</td><td data-label=\"Reclaimed\" class=\"n\">").text(size(s.reclaimed_bytes));
      h_.raw(" <span class=\"mute\">(").text(s.deleted_objects).raw(s.deleted_objects == 1 ? " object)" : " objects)");
      h_.raw("</span></td><td data-label=\"Last success\">");
      if (s.last_success)
        h_.text(utc(*s.last_success)).raw(" <span class=\"mute\">(").text(ago(*s.last_success)).raw(")</span>");
      else
        h_.raw("<span class=\"mute\">never</span>");
      h_.raw("</td><td data-label=\"Would delete now\">");
      if (s.planned)
        h_.text(s.candidates).raw(s.candidates == 1 ? " object, " : " objects, ")
            .text(size(std::uint64_t(std::max<std::int64_t>(0, s.candidate_bytes))));
      else
        h_.raw("<span class=\"mute\">not planned yet</span>");
      h_.raw("</td><td data-label=\"Next run\">");
      if (s.next_run)
        h_.text(utc(*s.next_run));
      else
        h_.raw("<span class=\"mute\">—</span>");
      h_.raw("</td></tr>\n");
    }
    h_.raw("</tbody></table></div></section>\n");
  }

  // ------------------------------------------------------------------- auto-heal

  void autoheal() {
    if (!s_.autoheal || s_.autoheal->empty()) return;
    h_.raw("<section id=\"autoheal\"><h2>Auto-heal</h2>\n");
    for (const auto& r : *s_.autoheal)
      if (r.history.given_up)
        h_.raw("<div class=\"banner bad\" role=\"alert\">Gave up on <strong>").text(r.name)
            .raw("</strong>: max_attempts restarts in the window did not make it healthy.</div>\n");
    h_.raw("<div class=\"scroll\"><table class=\"flow\"><thead><tr><th>Container</th><th>Project / service</th>"
           "<th class=\"n\">Actions</th><th class=\"n\">Suppressed</th><th>Unhealthy since</th></tr></thead><tbody>\n");
    for (const auto& r : *s_.autoheal) {
      std::uint64_t acted = 0, held = 0;
      for (const auto& [k, n] : r.actions) acted += n;
      for (const auto& [k, n] : r.suppressed) held += n;
      h_.raw("<tr").attr("data-container", r.name).attr("data-given-up", std::uint64_t(r.history.given_up ? 1 : 0)).attr("data-actions", acted);
      h_.raw("><td data-label=\"Container\"><strong>").text(r.name).raw("</strong></td>");
      h_.raw("<td data-label=\"Project / service\">").text(r.project.empty() ? "-" : r.project + " / " + r.service);
      h_.raw("</td><td data-label=\"Actions\" class=\"n\">").text(acted);
      h_.raw("</td><td data-label=\"Suppressed\" class=\"n\">").text(held);
      h_.raw("</td><td data-label=\"Unhealthy since\">");
      if (r.history.unhealthy_since) {
        const double since = std::chrono::duration<double>(r.history.unhealthy_since->time_since_epoch()).count();
        h_.text(utc(since)).raw(" <span class=\"mute\">(").text(ago(since)).raw(")</span>");
      }
      else
        h_.raw("<span class=\"mute\">—</span>");
      h_.raw("</td></tr>\n");
    }
    h_.raw("</tbody></table></div></section>\n");
  }

  void footer() {
    h_.raw("<footer><ul><li><a").attr("href", o_.telemetry_path).raw(">Metrics</a></li>");
    h_.raw("<li><a href=\"/healthz\">Health</a></li><li><a href=\"/readyz\">Readiness</a></li></ul>");
    h_.raw("<p>composewatch ").text(kVersion).raw(". Rendered ").text(utc(now_));
    h_.raw("; reloads every 30 s.</p></footer>\n");
  }

  const state::Snapshot& s_;
  const StatusPageOptions& o_;
  double now_;
  Html h_;
};

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  append_escaped(out, text);
  return out;
}

std::string render_status_page(const state::Snapshot& snapshot, const StatusPageOptions& options,
                               state::Clock::time_point now) {
  return Page(snapshot, options, now).render();
}

}  // namespace composewatch::web
