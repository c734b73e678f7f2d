// The status page at `/` (web/status_page.h) on hand-built snapshots: every section, the
// escaping of what users name, an empty host, an engine that is down, and the figures the
// page shows against what /metrics says for the same snapshot.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <set>
#include <sstream>

#include "composewatch/compose/discovery.h"
#include "composewatch/disk/report.h"
#include "composewatch/metrics/collector.h"
#include "composewatch/prune/status.h"
#include "busy_host.h"
#include "composewatch/version.h"
#include "composewatch/web/status_page.h"

using namespace composewatch;
using testing::HasSubstr;
using testing::Not;

namespace {

constexpr std::int64_t MiB = 1024 * 1024;
const state::Clock::time_point kTaken = state::Clock::time_point(std::chrono::seconds(1'790'000'000));
const state::Clock::time_point kNow = kTaken + std::chrono::seconds(5);
constexpr const char* kImage = "composewatch-test/busybox:1";

state::ContainerRecord container(const std::string& name, const std::string& project = "",
                                 const std::string& service = "", const std::string& st = "running") {
  state::ContainerRecord r;
  r.name = name;
  r.id = std::string(64, 'a');
  r.id.replace(0, std::min<std::size_t>(name.size(), 12), name.substr(0, 12));
  r.spec.image = kImage;
  r.spec.compose.project = project;
  r.spec.compose.service = service;
  r.spec.restart_policy = {"unless-stopped", 0};
  r.state = st;
  r.pid = st == "running" ? 100 : 0;
  return r;
}

compose::Service service(const std::string& name, std::optional<std::int64_t> mem = std::nullopt, int replicas = 1) {
  compose::Service s;
  s.name = name;
  s.image = kImage;
  s.memory_limit_bytes = mem;
  s.replicas = replicas;
  s.restart = "unless-stopped";
  s.location = {"/srv/shop/docker-compose.yml", 3};
  return s;
}

std::shared_ptr<compose::ComposeState> compose_state(std::vector<compose::ProjectState> projects) {
  auto cs = std::make_shared<compose::ComposeState>();
  cs->projects = std::move(projects);
  std::sort(cs->projects.begin(), cs->projects.end(), [](auto& a, auto& b) { return a.name < b.name; });
  return cs;
}

compose::ProjectState loaded(const std::string& name, std::vector<compose::Service> services,
                             bool configured = true) {
  auto model = std::make_shared<compose::Project>();
  model->name = name;
  model->files = {"/srv/" + name + "/docker-compose.yml"};
  for (auto& s : services) model->services[s.name] = s;
  compose::ProjectState ps;
  ps.name = name;
  ps.source.name = name;
  ps.source.files = model->files;
  ps.source.configured = configured;
  ps.model = model;
  ps.valid = true;
  ps.findings = compose::lint_project(*model);
  return ps;
}

// Memory figures as a fixture cgroup reader gives them, by container name.
struct FakeCgroups {
  std::map<std::string, docker::ResourceStats> by_name;
  std::function<std::optional<docker::ResourceStats>(const state::ContainerRecord&)> reader() const {
    return [this](const state::ContainerRecord& r) -> std::optional<docker::ResourceStats> {
      auto it = by_name.find(r.name);
      if (it == by_name.end()) return std::nullopt;
      return it->second;
    };
  }
};

docker::ResourceStats memory(std::uint64_t used, std::optional<std::uint64_t> limit) {
  docker::ResourceStats s;
  s.memory_usage_bytes = used + 1 * MiB;
  s.memory_working_set_bytes = used;
  s.memory_limit_bytes = limit;
  return s;
}

state::Snapshot base_snapshot() {
  state::Snapshot s;
  s.engine.up = true;
  s.engine.ready = true;
  s.engine.version = "20.10.24";
  s.engine.api_version = "1.41";
  s.taken_at = kTaken;
  return s;
}

std::string render(const state::Snapshot& s, const web::StatusPageOptions& o = {}) {
  return web::render_status_page(s, o, kNow);
}

// The <tr> of one container, from its start tag to its end tag.
std::string row(const std::string& html, const std::string& container) {
  const auto start = html.find("<tr class=\"ctr");
  for (auto pos = start; pos != std::string::npos; pos = html.find("<tr class=\"ctr", pos + 1)) {
    const auto tag_end = html.find('>', pos);
    if (html.substr(pos, tag_end - pos).find("data-container=\"" + container + "\"") == std::string::npos) continue;
    return html.substr(pos, html.find("</tr>", pos) + 5 - pos);
  }
  return {};
}

// The service head row of one service in one project section.
std::string service_row(const std::string& html, const std::string& project, const std::string& svc) {
  const auto sec = html.find("data-project=\"" + project + "\"");
  if (sec == std::string::npos) return {};
  const auto end = html.find("</section>", sec);
  const auto pos = html.find("<tr class=\"svc\" data-service=\"" + svc + "\"", sec);
  if (pos == std::string::npos || pos > end) return {};
  return html.substr(pos, html.find("</tr>", pos) + 5 - pos);
}

// The value of attribute `name` in the first start tag of `fragment`.
std::optional<std::string> attribute(const std::string& fragment, const std::string& name) {
  const auto tag = fragment.substr(0, fragment.find('>'));
  const auto pos = tag.find(" " + name + "=\"");
  if (pos == std::string::npos) return std::nullopt;
  const auto start = pos + name.size() + 3;
  return tag.substr(start, tag.find('"', start) - start);
}

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

// ------------------------------------------------------------------------- escaping

TEST(StatusPageEscape, MarkupCharactersBecomeReferences) {
  EXPECT_EQ(web::html_escape("<script>alert('x')</script>"), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
  EXPECT_EQ(web::html_escape("a & b \"q\""), "a &amp; b &quot;q&quot;");
  EXPECT_EQ(web::html_escape("&amp;"), "&amp;amp;");
  EXPECT_EQ(web::html_escape("\" onmouseover=\"x"), "&quot; onmouseover=&quot;x");
  EXPECT_EQ(web::html_escape(""), "");
  EXPECT_EQ(web::html_escape("plain-name_1.2"), "plain-name_1.2");
}

TEST(StatusPageEscape, ValidUtf8StaysInvalidBytesBecomeReplacementCharacters) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(web::html_escape("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"), "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  EXPECT_EQ(web::html_escape("a\xFFz"), "a" + fffd + "z");
  EXPECT_EQ(web::html_escape("\xC0\xBC"), fffd + fffd);              // overlong '<'
  EXPECT_EQ(web::html_escape("\xE0\x80\xBC"), fffd + fffd + fffd);   // overlong '<', 3 bytes
  EXPECT_EQ(web::html_escape("\xED\xA0\x80"), fffd + fffd + fffd);   // a surrogate
  EXPECT_EQ(web::html_escape("\xF4\x90\x80\x80"), fffd + fffd + fffd + fffd);  // above U+10FFFF
  EXPECT_EQ(web::html_escape("x\xE2\x82"), "x" + fffd + fffd);       // truncated at the end
  EXPECT_EQ(web::html_escape("\xE2<"), fffd + "&lt;");                // truncated before markup
  EXPECT_EQ(web::html_escape("\x80"), fffd);                          // a lone continuation byte
  EXPECT_TRUE(valid_utf8(web::html_escape("\xFE\xFF\xC3\x28\xA0\xA1\xF0\x28\x8C\xBC")));
}

TEST(StatusPageEscape, ControlCharactersBecomeReplacementCharactersButWhitespaceStays) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(web::html_escape(std::string("a\0b", 3)), "a" + fffd + "b");
  EXPECT_EQ(web::html_escape("\x1B[31mred"), fffd + "[31mred");
  EXPECT_EQ(web::html_escape("\x7F"), fffd);
  EXPECT_EQ(web::html_escape("\xC2\x85"), fffd + fffd);  // C1 NEL
  EXPECT_EQ(web::html_escape("\xC2\xA0"), "\xC2\xA0");   // NBSP is text
  EXPECT_EQ(web::html_escape("a\tb\nc\r"), "a\tb\nc\r");
}

// Every interpolated value of a snapshot carries markup, quotes and invalid UTF-8: the page
// has only its own elements and attributes, and is valid UTF-8.
TEST(StatusPage, EscapesEveryValueUsersControl) {
  const std::string evil = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>&\xFF";
  state::Snapshot s = base_snapshot();
  s.engine.up = false;
  s.engine.ready = false;
  s.engine.version = evil;
  s.engine.api_version = evil;
  s.engine.error = evil;
  auto c1 = container(evil, evil, evil);
  c1.spec.image = evil;
  c1.id = evil;
  c1.health = evil;
  c1.state = evil;
  c1.counters.exits[{-1, state::ExitReason::error}] = 2;
  auto c2 = container("plain", "", "", evil);
  s.containers = {c1, c2};

  auto svc = service(evil);
  svc.image = evil;
  auto ps = loaded(evil, {svc});
  ps.valid = false;
  ps.error = evil;
  ps.source.files = {evil};
  ps.source.problem = evil;
  ps.findings.push_back({evil, evil, {evil, 1}, evil});
  ps.findings.push_back({evil, "", {evil, 2}, evil});
  s.compose = compose_state({ps});

  auto d = std::make_shared<disk::DiskReport>();
  d->docker_root_dir = evil;
  d->last_ok = false;
  d->last_error = evil;
  s.disk = d;
  auto p = std::make_shared<prune::PruneStatus>();
  p->suspended = evil;
  prune::PolicyStatus pol;
  pol.policy = evil;
  p->policies = {pol};
  s.prune = p;

  web::StatusPageOptions o;
  o.host_name = evil;
  o.telemetry_path = evil;
  o.statfs = [](const std::string&) { return disk::FilesystemUsage{100, 50}; };
  const std::string html = render(s, o);

  EXPECT_TRUE(valid_utf8(html));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<img")));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&gt;&lt;img src=x onerror=alert(2)&gt;&amp;"));
  // Only the page's own elements and attributes: values never open a tag or an attribute.
  static const std::set<std::string> kElements = {
      "html", "head", "meta", "title", "style", "body", "main", "header", "h1", "h2", "h3", "small", "ul", "li",
      "b", "span", "time", "div", "section", "p", "code", "table", "thead", "tbody", "tr", "th", "td", "strong",
      "details", "summary", "footer", "a"};
  static const std::set<std::string> kAttributes = {"lang", "charset", "name", "content", "http-equiv", "class",
                                                    "id", "datetime", "style", "aria-hidden", "role", "colspan",
                                                    "href"};
  const auto body_start = html.find("</style>");
  ASSERT_NE(body_start, std::string::npos);
  std::size_t tags = 0;
  for (std::size_t i = html.find('<'); i != std::string::npos; i = html.find('<', i + 1)) {
    if (i < body_start && i > html.find("<style>")) continue;  // the stylesheet is a literal
    std::size_t k = i + 1;
    if (html[k] == '/') ++k;
    if (html[k] == '!') continue;  // <!DOCTYPE html>
    const std::size_t name_end = html.find_first_of(" >", k);
    const std::string element = html.substr(k, name_end - k);
    EXPECT_TRUE(kElements.count(element)) << "unexpected element <" << element << ">";
    ++tags;
    // Attributes: name="value" pairs up to the tag's end.
    k = name_end;
    while (k < html.size() && html[k] == ' ') {
      const std::size_t eq = html.find_first_of("=> ", k + 1);
      const std::string attr = html.substr(k + 1, eq - k - 1);
      EXPECT_TRUE(kAttributes.count(attr) || attr.rfind("data-", 0) == 0) << "unexpected attribute " << attr;
      if (html[eq] != '=') {
        k = eq;
        continue;
      }
      ASSERT_EQ(html[eq + 1], '"') << html.substr(i, 80);
      const std::size_t close = html.find('"', eq + 2);
      const std::string value = html.substr(eq + 2, close - eq - 2);
      EXPECT_EQ(value.find_first_of("<>'"), std::string::npos) << attr << "=" << value;
      if (attr == "style") EXPECT_TRUE(std::regex_match(value, std::regex("width:[0-9.]+%"))) << value;
      if (attr == "href") EXPECT_EQ(value.find(':'), std::string::npos) << value;
      k = close + 1;
    }
    EXPECT_EQ(html[k], '>') << html.substr(i, 80);
  }
  EXPECT_GT(tags, 100u);
}

// --------------------------------------------------------------------------- header

TEST(StatusPage, IsOneSelfContainedDocument) {
  const std::string html = render(base_snapshot());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>\n<html lang=\"en\">", 0), 0u);
  EXPECT_THAT(html, HasSubstr("<meta charset=\"utf-8\">"));
  EXPECT_THAT(html, HasSubstr("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"));
  EXPECT_THAT(html, HasSubstr("<meta http-equiv=\"refresh\" content=\"30\">"));
  EXPECT_THAT(html, HasSubstr("@media (prefers-color-scheme:dark)"));
  EXPECT_THAT(html, HasSubstr("@media (max-width:700px)"));
  // No script, no external asset, no web font.
  for (const char* absent : {"<script", "<link", "src=", "@import", "url(", "@font-face", "http://", "https://"})
    EXPECT_THAT(html, Not(HasSubstr(absent))) << absent;
  EXPECT_EQ(html.substr(html.size() - 15), "</body></html>\n");
}

TEST(StatusPage, HeaderSaysEngineAgentAndWhenTheSnapshotWasTaken) {
  web::StatusPageOptions o;
  o.host_name = "vps-1";
  const std::string html = render(base_snapshot(), o);
  EXPECT_THAT(html, HasSubstr("<title>vps-1 · composewatch</title>"));
  EXPECT_THAT(html, HasSubstr("<small>on vps-1</small>"));
  EXPECT_THAT(html, HasSubstr("Docker 20.10.24 <span class=\"mute\">(API 1.41)</span>"));
  EXPECT_THAT(html, HasSubstr("<span class=\"b ok\" id=\"engine-up\">up</span>"));
  EXPECT_THAT(html, HasSubstr("<span class=\"b ok\" id=\"engine-ready\">ready</span>"));
  EXPECT_THAT(html, HasSubstr("composewatch " + std::string(kVersion) + " <span class=\"mute\">(" + kRevision));
  // 1790000000 = 2026-09-21 14:13:20 UTC
  EXPECT_THAT(html, HasSubstr("<time id=\"taken-at\" datetime=\"2026-09-21T14:13:20Z\">2026-09-21 14:13:20 UTC</time>"));
  EXPECT_THAT(html, HasSubstr("(5 seconds ago)"));
  EXPECT_THAT(html, Not(HasSubstr("role=\"alert\"")));
  EXPECT_THAT(html, Not(HasSubstr("id=\"not-ready\"")));
}

TEST(StatusPage, EngineDownShowsABannerWithTheReason) {
  state::Snapshot s = base_snapshot();
  s.engine.up = false;
  s.engine.ready = false;
  s.engine.error = "connect unix:///var/run/docker.sock: No such file or directory";
  s.containers = {container("web-1")};
  const std::string html = render(s);
  EXPECT_THAT(html, HasSubstr("<span class=\"b bad\" id=\"engine-up\">down</span>"));
  EXPECT_THAT(html, HasSubstr("<span class=\"b warn\" id=\"engine-ready\">not ready</span>"));
  EXPECT_THAT(html, HasSubstr("<div class=\"banner bad\" role=\"alert\" id=\"engine-down\">The Docker engine is not "
                              "answering: connect unix:///var/run/docker.sock: No such file or directory. What "
                              "follows is what the agent knew last.</div>"));
  EXPECT_THAT(html, Not(HasSubstr("id=\"not-ready\"")));
  EXPECT_FALSE(row(html, "web-1").empty()) << "the last known containers are still shown";
}

TEST(StatusPage, EngineUpButNotReadyShowsWhatItWaitsFor) {
  state::Snapshot s = base_snapshot();
  s.engine.ready = false;
  const std::string html = render(s);
  EXPECT_THAT(html, HasSubstr("id=\"not-ready\">Not ready: the engine answered, the first inventory is not loaded"));
  EXPECT_THAT(html, Not(HasSubstr("id=\"engine-down\"")));
}

TEST(StatusPage, EmptyHostSaysSoAndKeepsTheLinks) {
  state::Snapshot s;  // nothing known yet: no engine, no compose, no disk, no prune
  web::StatusPageOptions o;
  o.telemetry_path = "/custom/metrics";
  const std::string html = render(s, o);
  EXPECT_THAT(html, HasSubstr("<li><b>Snapshot</b>none yet</li>"));
  EXPECT_THAT(html, HasSubstr("<b>Containers</b>0 running of 0"));
  EXPECT_THAT(html, HasSubstr("Compose files not read yet."));
  EXPECT_THAT(html, HasSubstr("No Compose projects on this host."));
  EXPECT_THAT(html, HasSubstr("id=\"no-containers\">No containers."));
  EXPECT_THAT(html, HasSubstr("<section id=\"disk\"><h2>Disk</h2>\n<p class=\"note mute\">Not collected yet.</p>"));
  EXPECT_THAT(html, Not(HasSubstr("id=\"prune\"")));
  EXPECT_THAT(html, Not(HasSubstr("<table")));
  EXPECT_THAT(html, HasSubstr("<a href=\"/custom/metrics\">Metrics</a>"));
  EXPECT_THAT(html, HasSubstr("<a href=\"/healthz\">Health</a>"));
  EXPECT_THAT(html, HasSubstr("<a href=\"/readyz\">Readiness</a>"));
}

// ------------------------------------------------------------------------- projects

// shop: api (2 replicas declared, one running, memory limit drift), db (healthcheck,
// OOM-killed and exited), an orphan container; blog: invalid with a load error; legacy:
// known only from labels. Plus one container outside Compose and one removed.
state::Snapshot host_snapshot() {
  state::Snapshot s = base_snapshot();
  auto api1 = container("shop_api_1", "shop", "api");
  api1.spec.memory_limit = 48 * MiB;  // declared 32 MiB
  api1.health = "healthy";
  api1.started_at = std::chrono::duration<double>(kNow.time_since_epoch()).count() - 7200;
  api1.counters.restarts = 2;
  api1.counters.exits = {{{0, state::ExitReason::completed}, 1}, {{143, state::ExitReason::stopped}, 1}};
  auto db1 = container("shop_db_1", "shop", "db", "exited");
  db1.spec.memory_limit = 16 * MiB;
  db1.health = "unhealthy";
  db1.failing_streak = 3;
  db1.counters.oom_kills = 1;
  db1.counters.exits = {{{137, state::ExitReason::oom}, 1}};
  auto old1 = container("shop_old_1", "shop", "old");
  auto blog = container("blog_web_1", "blog", "web");
  auto legacy = container("legacy_app_1", "legacy", "app");
  auto solo = container("solo");
  auto gone = container("gone", "", "", "exited");
  gone.present = false;
  gone.counters.oom_kills = 4;
  s.containers = {api1, blog, db1, gone, legacy, old1, solo};

  auto db = service("db", 16 * MiB);
  db.image = "postgres:16";  // stateful without a healthcheck: a lint finding
  auto shop = loaded("shop", {service("api", 32 * MiB, 2), db});
  s.containers[2].spec.image = "postgres:16";  // db1
  shop.model = [&] {
    auto m = std::make_shared<compose::Project>(*shop.model);
    m->has_version_key = true;  // a project-level finding
    m->version_location = {"/srv/shop/docker-compose.yml", 1};
    return m;
  }();
  shop.findings = compose::lint_project(*shop.model);

  auto blog_state = loaded("blog", {service("web")});
  blog_state.valid = false;
  blog_state.error = "/srv/blog/docker-compose.yml:7: services.web.mem_limit: invalid size \"lots\"";

  compose::ProjectState legacy_state;
  legacy_state.name = "legacy";
  legacy_state.source.name = "legacy";
  legacy_state.source.problem = "its containers carry no com.docker.compose.project.config_files label";
  s.compose = compose_state({shop, blog_state, legacy_state});

  return s;
}

FakeCgroups host_cgroups() {
  FakeCgroups f;
  f.by_name["shop_api_1"] = memory(12 * MiB, 48 * MiB);
  f.by_name["blog_web_1"] = memory(47 * MiB, 48 * MiB);
  f.by_name["solo"] = memory(3 * MiB, std::nullopt);
  // legacy_app_1: no figures (its cgroup is gone)
  return f;
}

TEST(StatusPage, ContainersShowStateHealthMemoryAndCounters) {
  const FakeCgroups cg = host_cgroups();
  web::StatusPageOptions o;
  o.resources = cg.reader();
  const std::string html = render(host_snapshot(), o);

  const std::string api = row(html, "shop_api_1");
  ASSERT_FALSE(api.empty()) << html;
  EXPECT_EQ(attribute(api, "data-state"), "running");
  EXPECT_EQ(attribute(api, "data-health"), "healthy");
  EXPECT_EQ(attribute(api, "data-oom-kills"), "0");
  EXPECT_EQ(attribute(api, "data-restarts"), "2");
  EXPECT_EQ(attribute(api, "data-memory-limit-bytes"), std::to_string(48 * MiB));
  EXPECT_EQ(attribute(api, "data-memory-used-bytes"), std::to_string(12 * MiB));
  EXPECT_THAT(api, HasSubstr("<span class=\"b ok\">running</span><div class=\"sub\">for 2 hours</div>"));
  EXPECT_THAT(api, HasSubstr("<span class=\"b ok\">healthy</span>"));
  EXPECT_THAT(api, HasSubstr("<span style=\"width:25.0%\"></span></span>12MiB / 48MiB <span class=\"mute\">25%</span>"));
  EXPECT_THAT(api, HasSubstr("<td data-label=\"Restarts\" class=\"n hot\">2</td>"));
  EXPECT_THAT(api, HasSubstr("<td data-label=\"OOM kills\" class=\"n\">0</td>"));
  EXPECT_THAT(api, HasSubstr("<span class=\"exit\" data-code=\"0\">0</span>, <span class=\"exit hot\" "
                             "data-code=\"143\">143</span>"));
  EXPECT_THAT(api, HasSubstr("shop_api_1aa</span> composewatch-test/busybox:1"));  // short id and image

  const std::string db = row(html, "shop_db_1");
  EXPECT_EQ(attribute(db, "data-state"), "exited");
  EXPECT_EQ(attribute(db, "data-oom-kills"), "1");
  EXPECT_EQ(attribute(db, "data-memory-limit-bytes"), std::nullopt) << "not running: no cgroup read";
  EXPECT_THAT(db, HasSubstr("<span class=\"b mute\">exited</span>"));
  EXPECT_THAT(db, HasSubstr("<span class=\"b bad\">unhealthy</span><div class=\"sub\">3 failing in a row</div>"));
  EXPECT_THAT(db, HasSubstr("<span class=\"mute\">—</span><div class=\"sub\">limit 16MiB</div>"));
  EXPECT_THAT(db, HasSubstr("<td data-label=\"OOM kills\" class=\"n hot\">1</td>"));
  EXPECT_THAT(db, HasSubstr("data-code=\"137\">137</span></td>"));

  const std::string blog = row(html, "blog_web_1");
  EXPECT_THAT(blog, HasSubstr("<span class=\"bar hot\""));  // 98% of its limit
  EXPECT_THAT(blog, HasSubstr("47MiB / 48MiB <span class=\"hot\">98%</span>"));

  const std::string solo = row(html, "solo");
  EXPECT_EQ(attribute(solo, "data-memory-limit-bytes"), std::nullopt);
  EXPECT_THAT(solo, HasSubstr("3MiB <span class=\"b warn\">no limit</span>"));
  EXPECT_THAT(solo, HasSubstr("no healthcheck"));
  EXPECT_THAT(solo, HasSubstr("<span class=\"mute\">—</span></td></tr>"));  // no exits

  EXPECT_THAT(row(html, "legacy_app_1"), HasSubstr("<span class=\"mute\">not read</span><div class=\"sub\">no limit"));

  // A removed container's counters outlive it, as the metrics keep them.
  const std::string gone = row(html, "gone");
  EXPECT_THAT(gone, HasSubstr("<tr class=\"ctr gone\""));
  EXPECT_EQ(attribute(gone, "data-state"), "removed");
  EXPECT_EQ(attribute(gone, "data-oom-kills"), "4");

  EXPECT_THAT(html, HasSubstr("<b>Containers</b>5 running of 6</li><li class=\"hot\">1 unhealthy</li>"
                              "<li class=\"hot\">5 OOM kills</li><li class=\"hot\">1 compose project invalid</li>"));
}

TEST(StatusPage, ProjectsShowServicesReplicasDriftLintValidityAndErrors) {
  const std::string html = render(host_snapshot());

  // Projects in name order, the containers outside Compose last.
  const auto blog = html.find("data-project=\"blog\""), legacy = html.find("data-project=\"legacy\""),
             shop = html.find("data-project=\"shop\""), none = html.find("id=\"no-project\"");
  ASSERT_NE(none, std::string::npos);
  EXPECT_LT(blog, legacy);
  EXPECT_LT(legacy, shop);
  EXPECT_LT(shop, none);

  EXPECT_THAT(html, HasSubstr("<section class=\"project\" data-project=\"shop\" data-valid=\"1\"><h3>shop "
                              "<span class=\"b ok\">valid</span> <span class=\"b mute\">configured</span></h3>"));
  EXPECT_THAT(html, HasSubstr("<code>/srv/shop/docker-compose.yml</code>"));

  const std::string api = service_row(html, "shop", "api");
  EXPECT_EQ(attribute(api, "data-replicas-running"), "1");
  EXPECT_EQ(attribute(api, "data-replicas-desired"), "2");
  EXPECT_EQ(attribute(api, "data-drift"), "memory_limit replicas");
  EXPECT_EQ(attribute(api, "data-lint"), "0");
  EXPECT_THAT(api, HasSubstr("<span class=\"b bad\">1/2 running</span>"));
  EXPECT_THAT(api, HasSubstr("<span class=\"b mute\">declared limit 32MiB</span>"));
  EXPECT_THAT(api, HasSubstr("<span class=\"b bad drift\">drift: memory_limit replicas</span>"));
  EXPECT_THAT(api, HasSubstr("<li><code>memory_limit</code> shop_api_1: "));

  const std::string db = service_row(html, "shop", "db");
  EXPECT_EQ(attribute(db, "data-replicas-running"), "0");
  EXPECT_EQ(attribute(db, "data-drift"), "replicas");
  EXPECT_EQ(attribute(db, "data-lint"), "1");
  EXPECT_THAT(db, HasSubstr("<span class=\"b warn\">lint: 1 finding</span>"));
  EXPECT_THAT(db, HasSubstr("<li><code>stateful-without-healthcheck</code> "));

  const std::string old = service_row(html, "shop", "old");
  EXPECT_THAT(old, HasSubstr("<span class=\"b bad\">orphan: not in the compose file</span>"));
  EXPECT_FALSE(row(html, "shop_old_1").empty());

  // The project-level finding (obsolete version key) is shown on the project.
  EXPECT_THAT(html, HasSubstr("<div class=\"note\">Project: <span class=\"b warn\">lint: 1 finding</span>"));
  EXPECT_THAT(html, HasSubstr("<code>obsolete-version</code>"));

  EXPECT_THAT(html, HasSubstr("<section class=\"project\" data-project=\"blog\" data-valid=\"0\"><h3>blog "
                              "<span class=\"b bad\">invalid</span>"));
  EXPECT_THAT(html, HasSubstr("Load error: <code class=\"load-error\">/srv/blog/docker-compose.yml:7: "
                              "services.web.mem_limit: invalid size &quot;lots&quot;</code> <span class=\"mute\">"
                              "(drift is against the last good model)</span>"));

  EXPECT_THAT(html, HasSubstr("<h3>legacy <span class=\"b mute\">files unknown</span></h3>"));
  EXPECT_THAT(html, HasSubstr("its containers carry no com.docker.compose.project.config_files label"));
  EXPECT_FALSE(row(html, "legacy_app_1").empty());

  EXPECT_THAT(html.substr(none), HasSubstr("<h3>Containers outside Compose</h3>"));
  EXPECT_FALSE(row(html.substr(none), "solo").empty());
  EXPECT_FALSE(row(html.substr(none), "gone").empty());
}

TEST(StatusPage, ADeclaredServiceWithoutContainersSaysSo) {
  state::Snapshot s = base_snapshot();
  s.compose = compose_state({loaded("shop", {service("api")})});
  const std::string html = render(s);
  const std::string api = service_row(html, "shop", "api");
  EXPECT_THAT(api, HasSubstr("<span class=\"b bad\">0/1 running</span>"));
  EXPECT_THAT(html, HasSubstr("<tr><td colspan=\"7\" class=\"mute\">No container.</td></tr>"));
}

TEST(StatusPage, ProjectWithoutComposeStateIsShownFromItsLabels) {
  state::Snapshot s = base_snapshot();
  s.containers = {container("x_web_1", "x", "web")};
  const std::string html = render(s);  // compose not read yet
  EXPECT_THAT(html, HasSubstr("Compose files not read yet."));
  EXPECT_THAT(html, HasSubstr("<section class=\"project\" data-project=\"x\"><h3>x <span class=\"b mute\">files "
                              "not loaded</span></h3>"));
  EXPECT_FALSE(row(html, "x_web_1").empty());
}

// With --stats.source=api the memory figures are those the snapshot carries, with the
// limit from HostConfig.Memory, as the resource collector does.
TEST(StatusPage, MemoryFromTheEngineApiWhenCgroupsAreNotRead) {
  state::Snapshot s = base_snapshot();
  auto limited = container("limited");
  limited.spec.memory_limit = 64 * MiB;
  auto unlimited = container("unlimited");
  s.containers = {limited, unlimited};
  auto api = std::make_shared<state::ApiStats>();
  api->by_id[limited.id] = memory(8 * MiB, 4096 * MiB);  // the API says the host's memory
  s.api_stats = api;
  const std::string html = render(s);
  EXPECT_EQ(attribute(row(html, "limited"), "data-memory-limit-bytes"), std::to_string(64 * MiB));
  EXPECT_THAT(row(html, "limited"), HasSubstr("8MiB / 64MiB"));
  EXPECT_THAT(row(html, "unlimited"), HasSubstr("not read"));  // not polled yet
}

// ----------------------------------------------------------------------------- disk

std::shared_ptr<disk::DiskReport> disk_report() {
  auto d = std::make_shared<disk::DiskReport>();
  d->docker_root_dir = "/var/lib/docker";
  d->df = std::make_shared<const docker::SystemDf>();
  d->summary.images = {3 * 1024 * MiB, 1024 * MiB, 12, 5};
  d->summary.containers = {20 * MiB, 5 * MiB, 7, 6};
  d->summary.volumes = {512 * MiB, 0, 4, 4};
  d->summary.build_cache = {0, 0, 0, 0};
  d->df_taken_at = std::chrono::duration<double>(kTaken.time_since_epoch()).count() - 60;
  d->last_ok = true;
  return d;
}

TEST(StatusPage, DiskByKindAndTheDockerFilesystem) {
  state::Snapshot s = base_snapshot();
  s.disk = disk_report();
  web::StatusPageOptions o;
  o.statfs = [](const std::string& path) -> std::optional<disk::FilesystemUsage> {
    if (path != "/var/lib/docker") return std::nullopt;
    return disk::FilesystemUsage{40ull * 1024 * MiB, 4ull * 1024 * MiB};
  };
  const std::string html = render(s, o);
  EXPECT_THAT(html, HasSubstr("<p class=\"note\" id=\"filesystem\" data-avail-bytes=\"4294967296\" "
                              "data-size-bytes=\"42949672960\"><span class=\"bar hot\" aria-hidden=\"true\"><span "
                              "style=\"width:90.0%\"></span></span>Docker root dir <code>/var/lib/docker</code>: "
                              "<strong>4GiB free</strong> of 40GiB <span class=\"mute\">(10% free)</span></p>"));
  EXPECT_THAT(html, HasSubstr("<tr data-kind=\"images\" data-bytes=\"3221225472\" data-reclaimable-bytes=\"1073741824\" "
                              "data-objects=\"12\"><td data-label=\"Kind\">images</td><td data-label=\"Size\" "
                              "class=\"n\">3GiB</td><td data-label=\"Reclaimable\" class=\"n\">1GiB <span "
                              "class=\"mute\">(33%)</span></td><td data-label=\"Objects\" class=\"n\">12</td><td "
                              "data-label=\"In use\" class=\"n\">5</td></tr>"));
  EXPECT_THAT(html, HasSubstr("<tr data-kind=\"containers\" data-bytes=\"20971520\""));
  EXPECT_THAT(html, HasSubstr("<tr data-kind=\"volumes\" data-bytes=\"536870912\" data-reclaimable-bytes=\"0\""));
  EXPECT_THAT(html, HasSubstr("<tr data-kind=\"build_cache\" data-bytes=\"0\""));
  EXPECT_THAT(html, HasSubstr("(65 seconds ago)"));
  EXPECT_THAT(html, Not(HasSubstr("The last disk collection failed")));
}

TEST(StatusPage, DiskCollectionThatFailedKeepsTheLastFiguresAndSaysWhy) {
  state::Snapshot s = base_snapshot();
  auto d = disk_report();
  d->last_ok = false;
  d->last_error = "GET /system/df: timed out after 60s";
  s.disk = d;
  const std::string html = render(s);  // no statfs: no filesystem line
  EXPECT_THAT(html, HasSubstr("The last disk collection failed: GET /system/df: timed out after 60s. The figures "
                              "below are older."));
  EXPECT_THAT(html, HasSubstr("data-kind=\"images\""));
  EXPECT_THAT(html, Not(HasSubstr("id=\"filesystem\"")));

  d->df = nullptr;
  const std::string never = render(s);
  EXPECT_THAT(never, HasSubstr("No answer from <code>/system/df</code> yet."));
  EXPECT_THAT(never, Not(HasSubstr("data-kind=")));
}

// ---------------------------------------------------------------------------- prune

TEST(StatusPage, PrunePoliciesWithTheirLastResultsAndCandidates) {
  state::Snapshot s = base_snapshot();
  auto p = std::make_shared<prune::PruneStatus>();
  prune::PolicyStatus images;
  images.policy = "unused-images";
  images.kind = prune::Kind::images;
  images.runs_apply = 3;
  images.runs_dry_run = 1;
  images.failures = 1;
  images.reclaimed_bytes = 2 * 1024 * MiB;
  images.deleted_objects = 9;
  images.last_success = std::chrono::duration<double>(kTaken.time_since_epoch()).count() - 3 * 3600;
  images.planned = true;
  images.candidates = 2;
  images.candidate_bytes = 300 * MiB;
  images.next_run = std::chrono::duration<double>(kTaken.time_since_epoch()).count() + 3600;
  prune::PolicyStatus cache;
  cache.policy = "nightly-build-cache";
  cache.kind = prune::Kind::build_cache;
  p->policies = {images, cache};
  s.prune = p;
  const std::string html = render(s);

  EXPECT_THAT(html, HasSubstr("<section id=\"prune\"><h2>Prune policies</h2>"));
  EXPECT_THAT(html, HasSubstr(
                        "<tr data-policy=\"unused-images\" data-failures=\"1\" data-candidates=\"2\"><td "
                        "data-label=\"Policy\"><strong>unused-images</strong></td><td data-label=\"Target\">images</td>"
                        "<td data-label=\"Runs\" class=\"n\">3 applied, 1 dry run</td><td data-label=\"Failures\" "
                        "class=\"n hot\">1</td><td data-label=\"Reclaimed\" class=\"n\">2GiB <span class=\"mute\">(9 "
                        "objects)</span></td><td data-label=\"Last success\">2026-09-21 11:13:20 UTC <span "
                        "class=\"mute\">(3 hours ago)</span></td><td data-label=\"Would delete now\">2 objects, "
                        "300MiB</td><td data-label=\"Next run\">2026-09-21 15:13:20 UTC</td></tr>"));
  EXPECT_THAT(html, HasSubstr("<tr data-policy=\"nightly-build-cache\" data-failures=\"0\"><td"));
  EXPECT_THAT(html, HasSubstr("<span class=\"mute\">never</span>"));
  EXPECT_THAT(html, HasSubstr("<span class=\"mute\">not planned yet</span>"));
  EXPECT_THAT(html, Not(HasSubstr("suspended")));

  p->suspended = "/etc/composewatch/config.yml:12: prune.policies[0].target: unknown target \"everything\"";
  EXPECT_THAT(render(s), HasSubstr("<div class=\"banner bad\" role=\"alert\">Every policy is suspended: "
                                   "/etc/composewatch/config.yml:12: prune.policies[0].target: unknown target "
                                   "&quot;everything&quot;</div>"));
}

// ----------------------------------------------------- the same numbers as /metrics

struct Series {
  std::map<std::string, double> values;  // "name{labels}" -> value
  std::optional<double> get(const std::string& key) const {
    auto it = values.find(key);
    return it == values.end() ? std::nullopt : std::optional<double>(it->second);
  }
};

Series scrape(const state::Snapshot& s) {
  Series out;
  const std::string text = metrics::Exposition(metrics::default_collectors()).render(s);
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const auto sp = line.rfind(' ');
    out.values[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
  }
  return out;
}

TEST(StatusPage, ShowsTheFiguresTheMetricsSayForTheSameSnapshot) {
  state::Snapshot s = host_snapshot();
  // --stats.source=api: the resource collector and the page read the same figures.
  auto api = std::make_shared<state::ApiStats>();
  const FakeCgroups cg = host_cgroups();
  for (const auto& r : s.containers)
    if (auto it = cg.by_name.find(r.name); it != cg.by_name.end()) api->by_id[r.id] = it->second;
  s.api_stats = api;
  const Series m = scrape(s);
  const std::string html = render(s);

  for (const auto& r : s.containers) {
    SCOPED_TRACE(r.name);
    const std::string labels = "project=\"" + r.project() + "\",service=\"" + r.service() + "\",container=\"" + r.name + "\"";
    const std::string tr = row(html, r.name);
    ASSERT_FALSE(tr.empty());
    EXPECT_EQ(attribute(tr, "data-oom-kills"),
              std::to_string(std::int64_t(*m.get("composewatch_container_oom_kills_total{" + labels + "}"))));
    EXPECT_EQ(attribute(tr, "data-restarts"),
              std::to_string(std::int64_t(*m.get("composewatch_container_restarts_total{" + labels + "}"))));
    if (r.present)
      EXPECT_EQ(m.get("composewatch_container_state{" + labels + ",state=\"" + *attribute(tr, "data-state") + "\"}"), 1.0);
    const auto limit = m.get("composewatch_container_memory_limit_bytes{" + labels + "}");
    EXPECT_EQ(attribute(tr, "data-memory-limit-bytes"),
              limit ? std::optional(std::to_string(std::int64_t(*limit))) : std::nullopt);
    const auto wset = m.get("composewatch_container_memory_working_set_bytes{" + labels + "}");
    EXPECT_EQ(attribute(tr, "data-memory-used-bytes"),
              wset ? std::optional(std::to_string(std::int64_t(*wset))) : std::nullopt);
    for (const auto& [key, n] : r.counters.exits)
      EXPECT_EQ(m.get("composewatch_container_exits_total{" + labels + ",exit_code=\"" + std::to_string(key.code) +
                      "\",reason=\"" + std::string(state::to_string(key.reason)) + "\"}"),
                double(n));
  }
  for (const std::string svc : {"api", "db"}) {
    SCOPED_TRACE(svc);
    const std::string tr = service_row(html, "shop", svc);
    const std::string l = "project=\"shop\",service=\"" + svc + "\"";
    EXPECT_EQ(attribute(tr, "data-replicas-running"),
              std::to_string(std::int64_t(*m.get("composewatch_service_replicas_running{" + l + "}"))));
    EXPECT_EQ(attribute(tr, "data-replicas-desired"),
              std::to_string(std::int64_t(*m.get("composewatch_service_replicas_desired{" + l + "}"))));
    std::string drifted;
    for (auto f : compose::kDriftFields) {
      const std::string name(compose::field_name(f));
      if (m.get("composewatch_service_drift{" + l + ",field=\"" + name + "\"}") == 1.0)
        drifted += (drifted.empty() ? "" : " ") + name;
    }
    EXPECT_EQ(attribute(tr, "data-drift"), drifted);
    std::size_t lint = 0;
    for (const auto& [key, v] : m.values)
      lint += key.rfind("composewatch_compose_lint_finding{" + l + ",", 0) == 0;
    EXPECT_EQ(attribute(tr, "data-lint"), std::to_string(lint));
  }
  EXPECT_EQ(m.get("composewatch_compose_project_valid{project=\"blog\"}"), 0.0);
  EXPECT_THAT(html, HasSubstr("data-project=\"blog\" data-valid=\"0\""));
  EXPECT_EQ(m.get("composewatch_compose_project_valid{project=\"shop\"}"), 1.0);
  EXPECT_THAT(html, HasSubstr("data-project=\"shop\" data-valid=\"1\""));
}

// ------------------------------------------------------------------------ busy host

// A busy host (tests/support/busy_host.h: 20 projects, 200 containers): one whole
// document, every element it opens closed, a row for each container with its state and
// memory, a section for each project. What rendering it costs is measured by
// bench/status_page (docs/benchmarks.md), not here.
TEST(StatusPage, ListsEveryContainerOfA200ContainerHost) {
  const auto host = test_support::busy_host();
  ASSERT_EQ(host.snapshot.containers.size(), 200u);
  const std::string html = web::render_status_page(host.snapshot, host.options, host.now);

  EXPECT_EQ(html.rfind("<!DOCTYPE html>\n<html lang=\"en\">", 0), 0u);
  EXPECT_EQ(html.substr(html.size() - 15), "</body></html>\n");
  for (const std::string element : {"section", "table", "thead", "tbody", "tr", "td", "details"}) {
    std::size_t opened = 0, closed = 0;
    for (auto pos = html.find("<" + element); pos != std::string::npos; pos = html.find("<" + element, pos + 1))
      opened += html[pos + 1 + element.size()] == ' ' || html[pos + 1 + element.size()] == '>';
    for (auto pos = html.find("</" + element + ">"); pos != std::string::npos;
         pos = html.find("</" + element + ">", pos + 1))
      ++closed;
    EXPECT_EQ(opened, closed) << "<" << element << ">";
  }

  std::size_t rows = 0;
  for (auto pos = html.find("<tr class=\"ctr"); pos != std::string::npos; pos = html.find("<tr class=\"ctr", pos + 1))
    ++rows;
  EXPECT_EQ(rows, 200u);
  for (const auto& c : host.snapshot.containers) {
    const std::string r = row(html, c.name);
    ASSERT_FALSE(r.empty()) << "no row for " << c.name;
    EXPECT_EQ(attribute(r, "data-state"), c.state) << c.name;
    if (c.state == "running") {
      EXPECT_EQ(attribute(r, "data-memory-limit-bytes"), std::to_string(c.spec.memory_limit)) << c.name;
    }
  }
  for (int p = 0; p < 20; ++p)
    EXPECT_THAT(html, HasSubstr("data-project=\"project" + std::to_string(p) + "\"")) << p;
}

}  // namespace
