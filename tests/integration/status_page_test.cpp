// The status page at `/` in a real headless Chromium, on a live Compose stack on the real
// engine: the page shows what /metrics says at the same moment, a phone-width render has no
// horizontal overflow, and behind TLS and basic auth the page needs the credentials.
//
// The phone-width check: Chromium's --dump-dom lays a page out at no less than 500 px
// whatever --window-size says (only --screenshot emulates a narrower viewport), so the test
// puts the page, byte for byte as the agent served it, in a 390 x 844 `<iframe srcdoc>` of a
// local wrapper page. A srcdoc frame is same-origin with its parent, so the wrapper's script,
// on the frame's load event, reads the frame's document.documentElement.scrollWidth (the
// page's own media queries see the frame's 390 px) and writes it into an attribute that
// --dump-dom prints. The same wrapper around the page with a 1000 px element added reports the
// overflow, so the check can fail (it did, while it measured the frame's first about:blank).

#include <crypt.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "harness.h"

namespace itest {
namespace {

namespace fs = std::filesystem;

// Headless Chromium with a fresh profile; `flags` before the URL. stderr goes to a file in
// the profile (Chromium is chatty about D-Bus), shown when it fails.
std::string chromium(Cleanup& cleanup, const std::vector<std::string>& flags, const std::string& url) {
  const fs::path profile = make_temp_dir(cleanup, "chromium");
  std::string cmd =
      "chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking "
      "--disable-component-update --disable-sync --user-data-dir=" +
      quote(profile.string());
  for (const auto& f : flags) cmd += " " + quote(f);
  cmd += " " + quote(url) + " 2>" + quote((profile / "chromium.log").string());
  ShResult r = sh(cmd, 90s);
  if (r.code != 0) {
    std::ifstream log(profile / "chromium.log");
    std::stringstream ss;
    ss << log.rdbuf();
    throw std::runtime_error("chromium exited " + std::to_string(r.code) + " for " + url + ":\n" + ss.str());
  }
  return r.out;
}

std::pair<std::uint32_t, std::uint32_t> png_size(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  unsigned char b[24] = {};
  in.read(reinterpret_cast<char*>(b), sizeof b);
  if (!in || b[0] != 0x89 || b[1] != 'P' || b[2] != 'N' || b[3] != 'G')
    throw std::runtime_error(p.string() + ": not a PNG");
  auto be = [&](int at) { return std::uint32_t(b[at]) << 24 | std::uint32_t(b[at + 1]) << 16 | b[at + 2] << 8 | b[at + 3]; };
  return {be(16), be(20)};
}

// The start tag that carries attr="value", or "".
std::string start_tag(const std::string& dom, const std::string& attr, const std::string& value) {
  const auto at = dom.find(" " + attr + "=\"" + value + "\"");
  if (at == std::string::npos) return {};
  const auto open = dom.rfind('<', at);
  return dom.substr(open, dom.find('>', at) + 1 - open);
}

// From that start tag to the end of its element (`</tr>` for a row), or "".
std::string element(const std::string& dom, const std::string& attr, const std::string& value,
                    const std::string& end_tag) {
  const auto at = dom.find(" " + attr + "=\"" + value + "\"");
  if (at == std::string::npos) return {};
  const auto open = dom.rfind('<', at);
  return dom.substr(open, dom.find(end_tag, at) + end_tag.size() - open);
}

std::optional<std::string> attribute(const std::string& tag, const std::string& name) {
  const auto pos = tag.find(" " + name + "=\"");
  if (pos == std::string::npos || pos > tag.find('>')) return std::nullopt;
  const auto start = pos + name.size() + 3;
  return tag.substr(start, tag.find('"', start) - start);
}

std::set<std::string> words(const std::string& s) {
  std::set<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.insert(w);
  return out;
}

std::string number(std::optional<double> v) { return v ? std::to_string(std::int64_t(*v)) : "absent"; }

std::string bcrypt(const std::string& password) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  if (!crypt_gensalt_rn("$2b$", 10, nullptr, 0, salt, sizeof salt)) throw std::runtime_error("crypt_gensalt_rn");
  auto data = std::make_unique<crypt_data>();
  const char* hash = crypt_rn(password.c_str(), salt, data.get(), sizeof(crypt_data));
  if (!hash) throw std::runtime_error("crypt_rn");
  return hash;
}

// The wrapper of the phone-width check (see the top of this file). `page` is the HTML
// the agent served.
std::string phone_frame(const std::string& page) {
  std::string srcdoc;
  for (char c : page) {
    if (c == '&')
      srcdoc += "&amp;";
    else if (c == '"')
      srcdoc += "&quot;";
    else
      srcdoc += c;
  }
  // measure() runs on the frame's load event; the frame's first document is an empty
  // about:blank, which is not measured.
  return "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><script>\n"
         "function measure(frame) {\n"
         "  const doc = frame.contentDocument;\n"
         "  if (doc.URL !== 'about:srcdoc') return;\n"
         "  document.documentElement.setAttribute('data-layout', doc.documentElement.scrollWidth + ' ' +\n"
         "      doc.documentElement.clientWidth + ' ' + frame.contentWindow.innerWidth);\n"
         "}\n"
         "</script></head><body style=\"margin:0\">"
         "<iframe onload=\"measure(this)\" style=\"width:390px;height:844px;border:0\" srcdoc=\"" + srcdoc +
         "\"></iframe></body></html>\n";
}

struct Layout {
  int scroll_width = -1, client_width = -1, viewport_width = -1;
};

// Lays `page` out in the 390 px frame and reads back its widths.
Layout phone_layout(Cleanup& cleanup, const std::string& page) {
  const fs::path dir = make_temp_dir(cleanup, "phone");
  std::ofstream(dir / "frame.html", std::ios::binary) << phone_frame(page);
  const std::string dom = chromium(cleanup, {"--window-size=1280,900", "--dump-dom"}, "file://" + (dir / "frame.html").string());
  std::smatch m;
  const std::string head = dom.substr(0, dom.find('>', dom.find("<html")) + 1);
  if (!std::regex_search(head, m, std::regex("<html[^>]* data-layout=\"([0-9]+) ([0-9]+) ([0-9]+)\"")))
    throw std::runtime_error("the frame was not measured: " + head);
  return {std::stoi(m[1]), std::stoi(m[2]), std::stoi(m[3])};
}

// The compose file: web (memory limit, healthcheck) and hog (OOM-killed once, not restarted).
std::string stack_yaml(const std::string& web_memory) {
  return std::string("services:\n"
                     "  web:\n"
                     "    image: ") + kImage + "\n"
         "    command: [\"sleep\", \"3600\"]\n"
         "    network_mode: none\n"
         "    mem_limit: " + web_memory + "\n"
         "    restart: unless-stopped\n"
         "    stop_grace_period: 1s\n"
         "    healthcheck:\n"
         "      test: [\"CMD\", \"true\"]\n"
         "      interval: 1s\n"
         "      timeout: 2s\n"
         "      retries: 3\n"
         "  hog:\n"
         "    image: " + kImage + "\n"
         "    command: [\"sh\", \"-c\", \"x=aaaaaaaa; while true; do x=$$x$$x; done\"]\n"
         "    network_mode: none\n"
         "    mem_limit: 16m\n"
         "    memswap_limit: 16m\n";
}

struct Stack {
  Stack(Cleanup& cleanup)
      : project(unique_name("status")), dir(make_temp_dir(cleanup, "status-stack")), file(dir / "docker-compose.yml") {
    cleanup.compose(file, project);
  }
  void write(const std::string& yaml) const {
    const fs::path tmp = dir / ".docker-compose.yml.swp";
    std::ofstream(tmp) << yaml;
    fs::rename(tmp, file);  // as editors do: the agent's watcher sees a new file
  }
  void up() const { must("docker-compose -p " + quote(project) + " -f " + quote(file.string()) + " up -d 2>&1"); }
  std::string container(const std::string& service) const { return project + "_" + service + "_1"; }

  std::string project;
  fs::path dir, file;
};

// What the test compares between two scrapes and with the page: the figures that do not
// move by themselves.
struct Figures {
  std::map<std::string, std::string> values;
  bool operator==(const Figures&) const = default;
  std::string describe() const {
    std::string s;
    for (const auto& [k, v] : values) s += k + " = " + v + "\n";
    return s;
  }
};

const std::vector<std::string> kStates = {"created", "running", "paused", "restarting", "removing", "exited", "dead"};
const std::vector<std::string> kDriftFields = {"image",       "image_stale",    "memory_limit", "memory_reservation",
                                               "healthcheck", "restart_policy", "replicas"};

Figures figures(const Metrics& m, const Stack& s, const std::string& solo, const std::string& broken) {
  Figures f;
  const std::vector<std::pair<std::string, Labels>> containers = {
      {s.container("web"), container_series(s.project, "web", s.container("web"))},
      {s.container("hog"), container_series(s.project, "hog", s.container("hog"))},
      {solo, container_series("", "", solo)}};
  for (const auto& [name, labels] : containers) {
    std::string state = "none";
    for (const auto& st : kStates)
      if (m.value("composewatch_container_state", with(labels, "state", st)) == 1.0) state = st;
    f.values[name + " state"] = state;
    f.values[name + " oom_kills"] = number(m.value("composewatch_container_oom_kills_total", labels));
    f.values[name + " restarts"] = number(m.value("composewatch_container_restarts_total", labels));
    f.values[name + " memory_limit"] = number(m.value("composewatch_container_memory_limit_bytes", labels));
    // Every reason summed: the page shows exits by code.
    std::optional<double> exits_137;
    for (const Sample* x : m.find("composewatch_container_exits_total", with(labels, "exit_code", "137")))
      exits_137 = exits_137.value_or(0) + x->value;
    f.values[name + " exits_137"] = number(exits_137);
  }
  for (const std::string svc : {"web", "hog"}) {
    const Labels l = {{"project", s.project}, {"service", svc}};
    std::string drifted;
    for (const auto& field : kDriftFields)
      if (m.value("composewatch_service_drift", with(l, "field", field)) == 1.0) drifted += (drifted.empty() ? "" : " ") + field;
    f.values[svc + " drift"] = drifted;
    f.values[svc + " running"] = number(m.value("composewatch_service_replicas_running", l));
    f.values[svc + " desired"] = number(m.value("composewatch_service_replicas_desired", l));
    f.values[svc + " lint"] = std::to_string(m.find("composewatch_compose_lint_finding", l).size());
  }
  f.values["valid"] = number(m.value("composewatch_compose_project_valid", {{"project", s.project}}));
  f.values["broken valid"] = number(m.value("composewatch_compose_project_valid", {{"project", broken}}));
  return f;
}

TEST(StatusPageInABrowser, ChromiumShowsWhatTheMetricsSay) {
  Cleanup cleanup;
  Stack s(cleanup);
  s.write(stack_yaml("32m"));
  const std::string web = s.container("web"), hog = s.container("hog");
  const std::string solo = unique_name("solo");

  // A configured project whose file does not load, in a directory whose name is markup:
  // the page must show the path and the error as text.
  const std::string broken = unique_name("broken");
  const fs::path config_dir = make_temp_dir(cleanup, "status-config");
  const fs::path hostile_dir = config_dir / "<img id=\"cwinjected\" src=x>";
  fs::create_directories(hostile_dir);
  std::ofstream(hostile_dir / "docker-compose.yml") << "services: [not, a, map\n";
  std::ofstream(config_dir / "config.yml") << "compose:\n  projects:\n    - name: " << broken << "\n      files: ['"
                                           << (hostile_dir / "docker-compose.yml").string() << "']\n";
  // Started first: it counts the OOM kill as it happens.
  AgentProcess agent({.args = {"--config.file=" + (config_dir / "config.yml").string()}});
  s.up();
  run_container(cleanup, {.name = solo});

  const Labels web_series = container_series(s.project, "web", web);
  const Labels hog_series = container_series(s.project, "hog", hog);
  ASSERT_TRUE(metric_eventually(agent, "composewatch_container_oom_kills_total", hog_series,
                                [](auto v) { return v && *v >= 1; }, ">= 1", 60s));
  ASSERT_TRUE(metric_eventually_eq(agent, "composewatch_container_state", with(hog_series, "state", "exited"), 1, 30s));
  ASSERT_TRUE(metric_eventually_eq(agent, "composewatch_container_health_status", with(web_series, "status", "healthy"), 1, 30s));
  must("docker restart -t 1 " + quote(web));
  ASSERT_TRUE(metric_eventually_eq(agent, "composewatch_container_restarts_total", web_series, 1, 30s));
  ASSERT_TRUE(metric_eventually_eq(agent, "composewatch_container_health_status", with(web_series, "status", "healthy"), 1, 30s));
  s.write(stack_yaml("48m"));  // no `up`: web still runs with 32m
  ASSERT_TRUE(metric_eventually_eq(agent, "composewatch_service_drift",
                                   {{"project", s.project}, {"service", "web"}, {"field", "memory_limit"}}, 1, 30s));
  ASSERT_TRUE(metric_eventually_eq(agent, "composewatch_compose_project_valid", {{"project", broken}}, 0, 30s));
  ASSERT_TRUE(metric_eventually(agent, "composewatch_disk_objects", {{"kind", "images"}},
                                [](auto v) { return v.has_value(); }, "collected", 60s));

  // The same moment: the page between two scrapes that agree.
  const std::string url = "http://127.0.0.1:" + std::to_string(agent.port()) + "/";
  Metrics before = agent.scrape(), after = before;
  std::string dom;
  for (int attempt = 0; attempt < 5; ++attempt) {
    before = agent.scrape();
    dom = chromium(cleanup, {"--window-size=1280,1600", "--dump-dom"}, url);
    after = agent.scrape();
    if (figures(before, s, solo, broken) == figures(after, s, solo, broken)) break;
  }
  const Figures f = figures(before, s, solo, broken);
  ASSERT_EQ(f, figures(after, s, solo, broken)) << "the figures kept moving";
  SCOPED_TRACE("/metrics said:\n" + f.describe());
  ASSERT_NE(dom.find("<title>"), std::string::npos) << dom;

  // What the test set up, as /metrics says it.
  EXPECT_EQ(f.values.at(web + " state"), "running");
  EXPECT_EQ(f.values.at(web + " restarts"), "1");
  EXPECT_EQ(f.values.at(web + " memory_limit"), std::to_string(32 * 1024 * 1024));
  EXPECT_EQ(f.values.at(hog + " state"), "exited");
  EXPECT_EQ(f.values.at(hog + " oom_kills"), "1");
  EXPECT_EQ(f.values.at(hog + " exits_137"), "1");
  EXPECT_EQ(f.values.at(solo + " memory_limit"), "absent");
  EXPECT_EQ(words(f.values.at("web drift")).count("memory_limit"), 1u);
  EXPECT_EQ(words(f.values.at("hog drift")).count("replicas"), 1u);

  // The header.
  const std::string version = must("docker version -f '{{.Server.Version}}'");
  EXPECT_NE(dom.find("Docker " + version + " "), std::string::npos);
  EXPECT_NE(dom.find("id=\"engine-up\">up</span>"), std::string::npos);
  EXPECT_NE(dom.find("id=\"engine-ready\">ready</span>"), std::string::npos);
  EXPECT_EQ(dom.find("id=\"engine-down\""), std::string::npos);

  // Each container's row says what the metrics say.
  for (const std::string& name : {web, hog, solo}) {
    SCOPED_TRACE(name);
    const std::string tag = start_tag(dom, "data-container", name);
    ASSERT_FALSE(tag.empty());
    EXPECT_EQ(attribute(tag, "data-state"), f.values.at(name + " state"));
    EXPECT_EQ(attribute(tag, "data-oom-kills"), f.values.at(name + " oom_kills"));
    EXPECT_EQ(attribute(tag, "data-restarts"), f.values.at(name + " restarts"));
    EXPECT_EQ(attribute(tag, "data-memory-limit-bytes").value_or("absent"), f.values.at(name + " memory_limit"));
    const std::string row = element(dom, "data-container", name, "</tr>");
    EXPECT_NE(row.find(">" + f.values.at(name + " state") + "</span>"), std::string::npos) << row;
    EXPECT_NE(row.find("data-label=\"OOM kills\" class=\"n" + std::string(f.values.at(name + " oom_kills") == "0" ? "" : " hot") +
                       "\">" + f.values.at(name + " oom_kills") + "</td>"),
              std::string::npos)
        << row;
    EXPECT_NE(row.find("data-label=\"Restarts\" class=\"n" + std::string(f.values.at(name + " restarts") == "0" ? "" : " hot") +
                       "\">" + f.values.at(name + " restarts") + "</td>"),
              std::string::npos)
        << row;
    EXPECT_EQ(row.find("data-code=\"137\"") != std::string::npos, f.values.at(name + " exits_137") != "absent") << row;
  }
  const std::string web_row = element(dom, "data-container", web, "</tr>");
  EXPECT_NE(web_row.find(" / 32MiB "), std::string::npos) << web_row;
  EXPECT_NE(web_row.find(">healthy</span>"), std::string::npos) << web_row;
  const auto used = attribute(start_tag(dom, "data-container", web), "data-memory-used-bytes");
  ASSERT_TRUE(used.has_value());
  const auto wset = before.value("composewatch_container_memory_working_set_bytes", web_series);
  ASSERT_TRUE(wset.has_value());
  EXPECT_NEAR(std::stod(*used), *wset, 1024 * 1024) << "a sleeping shell's memory moves by less than 1 MiB";
  EXPECT_NE(element(dom, "data-container", solo, "</tr>").find("no limit"), std::string::npos);
  EXPECT_NE(element(dom, "data-container", hog, "</tr>").find("limit 16MiB"), std::string::npos);

  // Services: replicas, drift, lint; the project valid, the broken one not.
  for (const std::string svc : {"web", "hog"}) {
    SCOPED_TRACE(svc);
    const std::string tag = start_tag(dom, "data-service", svc);
    ASSERT_FALSE(tag.empty());
    EXPECT_EQ(words(attribute(tag, "data-drift").value_or("")), words(f.values.at(svc + " drift")));
    EXPECT_EQ(attribute(tag, "data-replicas-running"), f.values.at(svc + " running"));
    EXPECT_EQ(attribute(tag, "data-replicas-desired"), f.values.at(svc + " desired"));
    EXPECT_EQ(attribute(tag, "data-lint"), f.values.at(svc + " lint"));
  }
  EXPECT_NE(element(dom, "data-service", "web", "</tr>").find("drift: memory_limit"), std::string::npos);
  EXPECT_EQ(attribute(start_tag(dom, "data-project", s.project), "data-valid"), f.values.at("valid"));
  const std::string broken_section = element(dom, "data-project", broken, "</section>");
  EXPECT_EQ(attribute(broken_section, "data-valid"), "0");
  EXPECT_NE(broken_section.find("Load error"), std::string::npos) << broken_section;
  EXPECT_NE(broken_section.find("&lt;img id=\"cwinjected\" src=x&gt;"), std::string::npos) << broken_section;
  EXPECT_EQ(dom.find("<img"), std::string::npos) << "markup in a path became an element";
  EXPECT_EQ(dom.find("id=\"cwinjected\">"), std::string::npos);
  EXPECT_NE(element(dom, "id", "no-project", "</section>").find("data-container=\"" + solo + "\""), std::string::npos);

  // Disk by kind, and the filesystem when /metrics has it.
  for (const char* kind : {"images", "containers", "volumes", "build_cache"})
    EXPECT_FALSE(start_tag(dom, "data-kind", kind).empty()) << kind;
  EXPECT_EQ(dom.find("id=\"filesystem\"") != std::string::npos,
            !before.find("composewatch_filesystem_avail_bytes").empty());

  // Screenshots: the desktop one is the README's, the phone one for a look.
  const fs::path shots = make_temp_dir(cleanup, "shots");
  chromium(cleanup, {"--window-size=1280,1600", "--hide-scrollbars", "--screenshot=" + (shots / "desktop.png").string()}, url);
  EXPECT_EQ(png_size(shots / "desktop.png"), std::make_pair(1280u, 1600u));
  chromium(cleanup, {"--window-size=390,844", "--hide-scrollbars", "--screenshot=" + (shots / "phone.png").string()}, url);
  EXPECT_EQ(png_size(shots / "phone.png"), std::make_pair(390u, 844u));
  fs::copy_file(shots / "desktop.png", fs::path(COMPOSEWATCH_BUILD_DIR) / "status-page.png",
                fs::copy_options::overwrite_existing);
  fs::copy_file(shots / "phone.png", fs::path(COMPOSEWATCH_BUILD_DIR) / "status-page-phone.png",
                fs::copy_options::overwrite_existing);

  // Phone width: the page as served, laid out 390 px wide, does not overflow.
  HttpResponse page = agent.get("/");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.header("content-type"), "text/html; charset=utf-8");
  const Layout phone = phone_layout(cleanup, page.body);
  EXPECT_EQ(phone.viewport_width, 390);
  EXPECT_GE(phone.client_width, 390 - 20);  // less a vertical scrollbar
  EXPECT_LE(phone.scroll_width, phone.client_width) << "the body overflows horizontally at 390 px";
  // The check sees an overflow when there is one.
  std::string wide = page.body;
  wide.insert(wide.find("</main>"), "<div style=\"width:1000px\">wide</div>");
  EXPECT_GE(phone_layout(cleanup, wide).scroll_width, 1000);
}

TEST(StatusPageInABrowser, BehindTlsAndBasicAuth) {
  Cleanup cleanup;
  const fs::path dir = make_temp_dir(cleanup, "status-tls");
  const std::string crt = (dir / "server.crt").string(), key = (dir / "server.key").string();
  must("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 "
       "-addext subjectAltName=IP:127.0.0.1 -keyout " + quote(key) + " -out " + quote(crt) + " 2>&1");
  std::ofstream(dir / "web.yml") << "tls_server_config:\n  cert_file: " << crt << "\n  key_file: " << key
                                 << "\nbasic_auth_users:\n  admin: " << bcrypt("s3cret-pass") << "\n";
  AgentProcess agent({.args = {"--web.config.file=" + (dir / "web.yml").string()}});
  const std::string url = "https://127.0.0.1:" + std::to_string(agent.port()) + "/";
  const std::string curl = "curl -sS --max-time 10 --cacert " + quote(crt) + " ";

  // No credentials, wrong ones: 401 and no page.
  EXPECT_EQ(must(curl + "-o /dev/null -w '%{http_code}' " + quote(url)), "401");
  EXPECT_EQ(must(curl + "-o /dev/null -w '%{http_code}' -u admin:wrong " + quote(url)), "401");
  const std::string denied = must(curl + quote(url));
  EXPECT_EQ(denied.find("composewatch"), std::string::npos) << denied;

  // With them, the page.
  const std::string headers = (dir / "headers.txt").string();
  const std::string body = must(curl + "-u admin:s3cret-pass -D " + quote(headers) + " " + quote(url));
  std::ifstream h(headers);
  std::stringstream hs;
  hs << h.rdbuf();
  EXPECT_NE(hs.str().find("HTTP/1.1 200"), std::string::npos) << hs.str();
  EXPECT_NE(hs.str().find("Content-Type: text/html; charset=utf-8"), std::string::npos) << hs.str();
  EXPECT_EQ(body.rfind("<!DOCTYPE html>", 0), 0u) << body;
  EXPECT_NE(body.find("id=\"engine-up\""), std::string::npos);

  // And in the browser: the credentials in the URL answer the challenge.
  const std::string port = std::to_string(agent.port());
  const std::string dom = chromium(cleanup, {"--ignore-certificate-errors", "--dump-dom"},
                                   "https://admin:s3cret-pass@127.0.0.1:" + port + "/");
  EXPECT_NE(dom.find("id=\"engine-up\""), std::string::npos) << dom;
  const std::string anonymous = chromium(cleanup, {"--ignore-certificate-errors", "--dump-dom"}, url);
  EXPECT_EQ(anonymous.find("id=\"engine-up\""), std::string::npos) << anonymous;
}

}  // namespace
}  // namespace itest
