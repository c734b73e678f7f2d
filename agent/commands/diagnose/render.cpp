// diagnose, rendering: the report as aligned text for a terminal, or as one JSON object.
// Pure: no I/O but the stream written to.

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <ostream>
#include <sstream>

#include "composewatch/commands/diagnose/render.h"
#include "composewatch/images/checks.h"

namespace composewatch::commands {

namespace json = boost::json;


std::string rfc3339(double epoch_seconds) {
  const std::time_t t = static_cast<std::time_t>(std::floor(epoch_seconds));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

namespace {

// The length of a valid UTF-8 sequence at s[i], or 0.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  std::size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c <= 0xDF ? 2 : 0;
  if (c >= 0xF5) n = 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((b(i + k) & 0xC0) != 0x80) return 0;
  // Overlong forms, surrogates and code points above U+10FFFF.
  if (c == 0xE0 && b(i + 1) < 0xA0) return 0;
  if (c == 0xED && b(i + 1) >= 0xA0) return 0;
  if (c == 0xF0 && b(i + 1) < 0x90) return 0;
  if (c == 0xF4 && b(i + 1) >= 0x90) return 0;
  return n;
}

// Valid UTF-8 for JSON: invalid bytes become U+FFFD (control characters are escaped by the
// serializer).
std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out += s[i++];
      continue;
    }
    if (const std::size_t n = utf8_length(s, i)) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

}  // namespace

std::string terminal_safe(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  char hex[8];
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == 0x1B && i + 1 < s.size() && s[i + 1] == '[') {
      // CSI: ESC [ parameters/intermediates, then one final byte in 0x40-0x7E (colours, cursor moves).
      std::size_t j = i + 2;
      while (j < s.size() && static_cast<unsigned char>(s[j]) >= 0x20 && static_cast<unsigned char>(s[j]) <= 0x3F) ++j;
      while (j < s.size() && static_cast<unsigned char>(s[j]) >= 0x20 && static_cast<unsigned char>(s[j]) <= 0x2F) ++j;
      if (j < s.size() && static_cast<unsigned char>(s[j]) >= 0x40 && static_cast<unsigned char>(s[j]) <= 0x7E) {
        i = j + 1;
        continue;
      }
    }
    if (c == '\t') {
      out += ' ';
      ++i;
    } else if (c < 0x20 || c == 0x7F) {
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
      ++i;
    } else if (c < 0x80) {
      out += s[i++];
    } else if (const std::size_t n = utf8_length(s, i)) {
      // C1 controls (U+0080-U+009F) act on terminals too.
      if (c == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0) {
        std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned char>(s[i + 1]));
        out += hex;
      } else {
        out.append(s.substr(i, n));
      }
      i += n;
    } else {
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
      ++i;
    }
  }
  return out;
}

namespace {

constexpr std::size_t kWidth = 118;

// `s` cut to at most `max` bytes on a UTF-8 boundary, with "…" when cut.
std::string ellipsize(std::string s, std::size_t max) {
  if (s.size() <= max || max < 4) return s;
  std::size_t cut = max - 3;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  s.append("\xE2\x80\xA6");
  return s;
}

// Words of `text` wrapped to kWidth; continuation lines start with `indent` spaces. The first
// line is assumed to start at column `indent` too.
std::string wrap(const std::string& text, std::size_t indent) {
  std::istringstream in(text);
  std::string out, word;
  std::size_t col = indent;
  bool first = true;
  while (in >> word) {
    if (!first && col + 1 + word.size() > kWidth) {
      out += "\n" + std::string(indent, ' ');
      col = indent;
      first = true;
    }
    if (!first) {
      out += ' ';
      ++col;
    }
    out += word;
    col += word.size();
    first = false;
  }
  return out;
}

// Columns padded to the widest cell; numbers (right) and text (left) as `right` says.
void table(std::ostream& out, const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& right,
           std::size_t indent = 2) {
  std::vector<std::size_t> width;
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], row[i].size());
    }
  for (const auto& row : rows) {
    std::string line(indent, ' ');
    for (std::size_t i = 0; i < row.size(); ++i) {
      const std::size_t pad = width[i] - row[i].size();
      const bool r = i < right.size() && right[i];
      if (r) line += std::string(pad, ' ');
      line += row[i];
      if (!r && i + 1 < row.size()) line += std::string(pad, ' ');
      if (i + 1 < row.size()) line += "  ";
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << "\n";
  }
}

std::string percent(double part, double whole) {
  if (whole <= 0) return "0%";
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.0f%%", 100.0 * part / whole);
  return buf;
}

void heading(std::ostream& out, const std::string& title) { out << "\n== " << title << "\n"; }

void could_not(std::ostream& out, const std::string& reason, std::size_t indent = 2) {
  out << std::string(indent, ' ') << wrap("could not read: " + reason, indent) << "\n";
}

std::string trouble_title(Trouble t) {
  switch (t) {
    case Trouble::oom_killed:
      return "OOM-killed";
    case Trouble::restart_loop:
      return "Restart loops";
    case Trouble::immediate_exit:
      return "Immediate exits";
  }
  return "";
}

std::string trouble_words(Trouble t) {
  switch (t) {
    case Trouble::oom_killed:
      return "OOM-killed";
    case Trouble::restart_loop:
      return "restart loop";
    case Trouble::immediate_exit:
      return "immediate exit";
  }
  return "";
}

std::string duration(double seconds) {
  char buf[32];
  if (seconds < 60)
    std::snprintf(buf, sizeof buf, "%.1fs", seconds);
  else if (seconds < 3600)
    std::snprintf(buf, sizeof buf, "%.0fm", seconds / 60);
  else if (seconds < 48 * 3600)
    std::snprintf(buf, sizeof buf, "%.0fh", seconds / 3600);
  else
    std::snprintf(buf, sizeof buf, "%.0fd", seconds / 86400);
  return buf;
}

void text_troubled(std::ostream& out, const TroubledContainer& t, std::size_t log_lines, double now) {
  const docker::ContainerInfo& c = t.container;
  std::string head = c.name;
  if (!c.project().empty()) head += " (project " + c.project() + ", service " + c.service() + ")";
  out << "    " << head << "\n";
  std::string facts = "state " + c.state + ", exit code " + std::to_string(c.exit_code) + ", restarts " +
                      std::to_string(c.restart_count);
  if (c.oom_killed) facts += ", OOMKilled";
  if (t.cgroup_oom_kills) facts += ", cgroup oom_kill " + std::to_string(*t.cgroup_oom_kills);
  facts += ", memory limit " + (c.spec.memory_limit > 0 ? config::format_size(c.spec.memory_limit) : std::string("none"));
  if (!c.spec.restart_policy.name.empty() && c.spec.restart_policy.name != "no")
    facts += ", restart " + c.spec.restart_policy.name;
  // Of the last run when it has ended; at once, when the engine noted its end before its start.
  if (c.finished_at && c.state != "running" && c.state != "paused") {
    if (c.started_at) facts += ", ran " + duration(std::max(0.0, *c.finished_at - *c.started_at));
    if (now >= *c.finished_at) facts += ", exited " + duration(now - *c.finished_at) + " ago";
  }
  out << "      " << wrap(facts, 6) << "\n";
  if (t.reasons.size() > 1) {
    std::string also;
    for (std::size_t i = 1; i < t.reasons.size(); ++i) also += (also.empty() ? "" : ", ") + trouble_words(t.reasons[i]);
    out << "      also: " << also << "\n";
  }
  out << "      image: " << c.spec.image << "\n";
  if (!c.error.empty()) out << "      error: " << wrap(terminal_safe(c.error), 13) << "\n";
  if (log_lines == 0) return;
  if (!t.logs_error.empty()) {
    out << "      " << wrap("logs: could not read: " + t.logs_error, 6) << "\n";
  } else if (t.logs.empty()) {
    out << "      logs: empty\n";
  } else {
    out << "      last " << t.logs.size() << " log line" << (t.logs.size() == 1 ? "" : "s") << ":\n";
    for (const auto& l : t.logs)
      out << "        " << (l.stream == docker::LogLine::Stream::stderr_ ? "stderr" : "stdout") << " | "
          << terminal_safe(l.text) << "\n";
  }
}

}  // namespace

void render_text(const DiagnoseReport& r, std::ostream& out) {
  out << "composewatch diagnose: " << r.docker_host << ", " << rfc3339(r.generated_at) << "\n";

  heading(out, "Engine");
  if (!r.engine.reachable) {
    out << "  ENGINE UNREACHABLE: " << wrap(r.engine.error, 22) << "\n"
        << "  Check that the daemon runs (systemctl status docker) and that this user may open its socket\n"
        << "  (root or the socket's group, usually docker). Nothing below came from the engine.\n";
  } else {
    out << "  Docker " << (r.engine.version.empty() ? "(version unknown)" : r.engine.version) << ", API "
        << r.engine.api_version << ", root dir " << (r.engine.root_dir.empty() ? "unknown" : r.engine.root_dir) << "\n";
    if (!r.engine.info_error.empty()) could_not(out, "/info: " + r.engine.info_error);
  }

  heading(out, "Disk use by kind");
  if (!r.disk.summary) {
    could_not(out, r.disk.error);
  } else {
    const auto& s = *r.disk.summary;
    std::vector<std::vector<std::string>> rows = {{"KIND", "SIZE", "RECLAIMABLE", "", "OBJECTS", "ACTIVE"}};
    auto row = [&](const char* kind, const docker::DiskKindUsage& k) {
      rows.push_back({kind, config::format_size(k.total_bytes), config::format_size(k.reclaimable_bytes),
                      "(" + percent(double(k.reclaimable_bytes), double(k.total_bytes)) + ")",
                      std::to_string(k.objects), std::to_string(k.active)});
    };
    row("images", s.images);
    row("containers", s.containers);
    row("volumes", s.volumes);
    row("build cache", s.build_cache);
    table(out, rows, {false, true, true, true, true, true});
    out << "  total reclaimable: " << config::format_size(r.disk.reclaimable_bytes) << "\n";
  }

  heading(out, "Docker filesystem");
  if (!r.filesystem.usage) {
    could_not(out, (r.filesystem.path.empty() ? "" : r.filesystem.path + ": ") + r.filesystem.error);
  } else {
    const auto& u = *r.filesystem.usage;
    char pct[16];
    std::snprintf(pct, sizeof pct, "%.1f%%", u.free_percent());
    out << "  " << r.filesystem.path
        << (r.filesystem.path_assumed ? " (the default root dir; the engine did not say)" : "") << ": size "
        << config::format_size(std::int64_t(u.size_bytes)) << ", available " << config::format_size(std::int64_t(u.avail_bytes)) << " ("
        << pct << " free)\n";
    if (r.filesystem.low)
      out << "  WARNING: less than 10% free: builds, pulls and container writes will start to fail\n";
  }

  heading(out, "Largest images" + (r.images.error.empty() ? " (" + std::to_string(r.images.largest.size()) + " of " +
                                                                std::to_string(r.images.total) + ")"
                                                          : std::string()));
  if (!r.images.error.empty()) {
    could_not(out, r.images.error);
  } else if (r.images.largest.empty()) {
    out << "  no images\n";
  } else {
    for (const auto& img : r.images.largest) {
      const std::string name = ellipsize(img.display_name(), 60);
      out << "  " << name << "  size " << config::format_size(img.size_bytes) << ", unique "
          << (img.unique_size_bytes >= 0 ? config::format_size(img.unique_size_bytes) : std::string("?")) << ", containers "
          << (img.containers >= 0 ? std::to_string(img.containers) : std::string("?")) << "\n";
      if (!img.layers_error.empty()) {
        could_not(out, "history: " + img.layers_error, 6);
        continue;
      }
      std::vector<std::vector<std::string>> rows;
      for (const auto& l : img.layers) rows.push_back({config::format_size(l.size_bytes), l.created_by});
      table(out, rows, {true, false}, 6);
    }
  }

  heading(out, "Volumes: dead, orphaned, unreferenced");
  if (!r.volumes.error.empty()) {
    could_not(out, r.volumes.error);
  } else {
    if (r.volumes.findings.empty()) out << "  no dead or orphan volumes\n";
    for (const auto& v : r.volumes.findings) {
      out << "  " << v.check << ": " << v.volume << " (project " << v.project << ")\n";
      out << "      " << wrap(v.detail, 6) << "\n";
      out << "      why: " << wrap(v.why, 11) << "\n";
      out << "      fix: " << wrap(v.fix, 11) << "\n";
    }
    if (r.volumes.unreferenced == 0) {
      out << "  every volume is used by a container\n";
    } else {
      out << "  unreferenced (no container uses them): " << r.volumes.unreferenced << " volume"
          << (r.volumes.unreferenced == 1 ? "" : "s") << ", " << config::format_size(r.volumes.unreferenced_bytes) << "\n";
      std::vector<std::vector<std::string>> rows;
      for (const auto& v : r.volumes.largest_unreferenced) {
        std::string name = v.anonymous ? docker::short_id(v.name) + "\xE2\x80\xA6 (anonymous)" : ellipsize(v.name, 60);
        if (!v.project.empty()) name += " (project " + v.project + ")";
        rows.push_back({v.size_bytes >= 0 ? config::format_size(v.size_bytes) : std::string("?"), name});
      }
      table(out, rows, {true, false}, 6);
      if (r.volumes.unreferenced > r.volumes.largest_unreferenced.size())
        out << "      (" << r.volumes.unreferenced - r.volumes.largest_unreferenced.size()
            << " more: docker volume ls --filter dangling=true)\n";
    }
  }

  heading(out, "Troubled containers");
  if (!r.containers.error.empty()) {
    could_not(out, r.containers.error);
  } else {
    if (r.containers.inspected == 0)
      out << "  no containers\n";
    else if (r.containers.troubled.empty())
      out << "  none of " << r.containers.inspected << " containers was OOM-killed, is restarting in a loop or exited "
          << "at once\n";
    for (Trouble rule : {Trouble::oom_killed, Trouble::restart_loop, Trouble::immediate_exit}) {
      bool any = false;
      for (const auto& t : r.containers.troubled) {
        if (t.rule() != rule) continue;
        if (!any) out << "  " << trouble_title(rule) << "\n";
        any = true;
        text_troubled(out, t, r.log_lines, r.generated_at);
      }
    }
    if (!r.containers.cgroup_error.empty())
      out << "  " << wrap("(cgroup oom_kill counters not read: " + r.containers.cgroup_error + ")", 2) << "\n";
  }

  heading(out, "Compose projects");
  if (!r.compose.error.empty()) {
    could_not(out, r.compose.error);
  } else if (r.compose.projects.empty()) {
    out << "  none: none configured in compose.projects and no Compose containers\n";
  } else {
    std::vector<std::vector<std::string>> rows = {{"PROJECT", "DRIFT", "ORPHANS", "LINT", ""}};
    auto count = [](const std::optional<std::size_t>& n) { return n ? std::to_string(*n) : std::string("-"); };
    for (const auto& p : r.compose.projects) {
      std::string note = p.from_config ? "config file" : "container labels";
      if (p.skipped)
        note = "skipped: " + p.error;
      else if (!p.valid)
        note = "could not load: " + p.error;
      note = ellipsize(std::move(note), 80);
      rows.push_back({p.name, count(p.drift), count(p.orphans), p.valid ? std::to_string(p.lint) : "-", note});
    }
    table(out, rows, {false, true, true, true, false});
  }

  heading(out, "Image and Dockerfile checklist");
  if (r.image_checklist.services.empty()) {
    out << "  no service builds from a context here or runs\n";
  } else {
    for (const auto& s : r.image_checklist.services) {
      std::string line = s.project + "/" + s.service + ":";
      if (s.build) {
        const auto& c = s.build->context_size;
        line += " context " + s.build->context + " sends " +
                (c.error.empty() ? std::string(c.complete ? "" : "at least ") + images::human_bytes(c.bytes)
                                 : std::string("?"));
      }
      if (s.image)
        line += std::string(s.build ? ";" : "") + " image " + s.image->image + " " +
                images::human_bytes(std::uint64_t(std::max<std::int64_t>(0, s.image->config.size)));
      out << "  " << wrap(line, 4) << "\n";
      if (s.image)
        for (const auto& l : s.image->largest_layers)
          out << "      layer " << images::human_bytes(std::uint64_t(l.size)) << ": " << l.created_by << "\n";
      for (const auto& f : s.findings)
        out << "    " << f.check << ": " << wrap(f.message + (f.location.empty() ? "" : " (" + f.location + ")"), 6)
            << "\n      fix: " << wrap(std::string(images::checks().at(f.check).fix), 11) << "\n";
    }
  }
  if (!r.image_checklist.error.empty())
    out << "  " << wrap("(running images not checked: " + r.image_checklist.error + ")", 2) << "\n";

  heading(out, "Next steps");
  if (r.next_steps.empty()) {
    out << "  nothing stands out\n";
  } else {
    std::size_t i = 0;
    for (const auto& s : r.next_steps) {
      const std::string num = std::to_string(++i) + ". ";
      out << "  " << num << wrap(s.why, 2 + num.size()) << "\n";
      const std::string pad(2 + num.size(), ' ');
      if (!s.command.empty()) out << pad << "$ " << s.command << "\n";
      if (!s.caution.empty()) out << pad << wrap("careful: " + s.caution, pad.size()) << "\n";
    }
  }
}

namespace {

json::value str_or_null(const std::string& s) { return s.empty() ? json::value(nullptr) : json::value(s); }
json::value time_or_null(const std::optional<double>& t) { return t ? json::value(rfc3339(*t)) : json::value(nullptr); }

json::object kind_json(const docker::DiskKindUsage& k) {
  return {{"size_bytes", k.total_bytes},
          {"reclaimable_bytes", k.reclaimable_bytes},
          {"objects", k.objects},
          {"active", k.active}};
}

}  // namespace

void render_json(const DiagnoseReport& r, std::ostream& out) {
  json::object doc;
  doc["generated_at"] = rfc3339(r.generated_at);
  doc["docker_host"] = r.docker_host;

  doc["engine"] = json::object{{"reachable", r.engine.reachable},
                               {"error", str_or_null(r.engine.error)},
                               {"version", str_or_null(r.engine.version)},
                               {"api_version", str_or_null(r.engine.api_version)},
                               {"root_dir", str_or_null(r.engine.root_dir)},
                               {"info_error", str_or_null(r.engine.info_error)}};

  json::object disk{{"error", str_or_null(r.disk.error)}};
  if (r.disk.summary) {
    disk["kinds"] = json::object{{"images", kind_json(r.disk.summary->images)},
                                 {"containers", kind_json(r.disk.summary->containers)},
                                 {"volumes", kind_json(r.disk.summary->volumes)},
                                 {"build_cache", kind_json(r.disk.summary->build_cache)}};
    disk["reclaimable_bytes"] = r.disk.reclaimable_bytes;
  } else {
    disk["kinds"] = nullptr;
    disk["reclaimable_bytes"] = nullptr;
  }
  doc["disk"] = std::move(disk);

  json::object fs{{"error", str_or_null(r.filesystem.error)},
                  {"path", str_or_null(r.filesystem.path)},
                  {"path_assumed", r.filesystem.path_assumed},
                  {"low", r.filesystem.low}};
  if (r.filesystem.usage) {
    fs["size_bytes"] = r.filesystem.usage->size_bytes;
    fs["avail_bytes"] = r.filesystem.usage->avail_bytes;
    fs["free_percent"] = std::round(r.filesystem.usage->free_percent() * 10) / 10;
  } else {
    fs["size_bytes"] = nullptr;
    fs["avail_bytes"] = nullptr;
    fs["free_percent"] = nullptr;
  }
  doc["filesystem"] = std::move(fs);

  json::array largest;
  for (const auto& img : r.images.largest) {
    json::array tags, layers;
    for (const auto& t : img.tags) tags.emplace_back(t);
    for (const auto& l : img.layers)
      layers.push_back(
          json::object{{"id", l.id}, {"size_bytes", l.size_bytes}, {"created_by", valid_utf8(l.created_by)}});
    largest.push_back(json::object{
        {"id", img.id},
        {"tags", std::move(tags)},
        {"size_bytes", img.size_bytes},
        {"unique_size_bytes", img.unique_size_bytes >= 0 ? json::value(img.unique_size_bytes) : json::value(nullptr)},
        {"containers", img.containers >= 0 ? json::value(img.containers) : json::value(nullptr)},
        {"layers", std::move(layers)},
        {"layers_error", str_or_null(img.layers_error)}});
  }
  doc["images"] =
      json::object{{"error", str_or_null(r.images.error)}, {"total", r.images.total}, {"largest", std::move(largest)}};

  json::array findings;
  for (const auto& v : r.volumes.findings)
    findings.push_back(json::object{{"project", v.project},
                                    {"volume", v.volume},
                                    {"check", v.check},
                                    {"detail", v.detail},
                                    {"why", v.why},
                                    {"fix", v.fix}});
  json::array unreferenced;
  for (const auto& v : r.volumes.largest_unreferenced)
    unreferenced.push_back(
        json::object{{"volume", v.name},
                     {"project", str_or_null(v.project)},
                     {"size_bytes", v.size_bytes >= 0 ? json::value(v.size_bytes) : json::value(nullptr)},
                     {"anonymous", v.anonymous}});
  doc["volumes"] = json::object{{"error", str_or_null(r.volumes.error)},
                                {"findings", std::move(findings)},
                                {"unreferenced", json::object{{"count", r.volumes.unreferenced},
                                                              {"size_bytes", r.volumes.unreferenced_bytes},
                                                              {"largest", std::move(unreferenced)}}}};

  json::array troubled;
  for (const auto& t : r.containers.troubled) {
    json::array reasons, logs;
    for (auto reason : t.reasons) reasons.emplace_back(trouble_name(reason));
    for (const auto& l : t.logs)
      logs.push_back(json::object{{"stream", l.stream == docker::LogLine::Stream::stderr_ ? "stderr" : "stdout"},
                                  {"text", valid_utf8(l.text)}});
    troubled.push_back(json::object{
        {"name", t.container.name},
        {"id", t.container.id},
        {"image", t.container.spec.image},
        {"project", str_or_null(t.container.project())},
        {"service", str_or_null(t.container.service())},
        {"rule", trouble_name(t.rule())},
        {"reasons", std::move(reasons)},
        {"state", t.container.state},
        {"exit_code", t.container.exit_code},
        {"error", str_or_null(valid_utf8(t.container.error))},
        {"restart_count", t.container.restart_count},
        {"restart_policy", str_or_null(t.container.spec.restart_policy.name)},
        {"oom_killed", t.container.oom_killed},
        {"cgroup_oom_kills", t.cgroup_oom_kills ? json::value(*t.cgroup_oom_kills) : json::value(nullptr)},
        {"memory_limit_bytes",
         t.container.spec.memory_limit > 0 ? json::value(t.container.spec.memory_limit) : json::value(nullptr)},
        {"started_at", time_or_null(t.container.started_at)},
        {"finished_at", time_or_null(t.container.finished_at)},
        {"compose_location", str_or_null(t.compose_location)},
        {"logs", std::move(logs)},
        {"logs_error", str_or_null(t.logs_error)}});
  }
  doc["containers"] = json::object{{"error", str_or_null(r.containers.error)},
                                   {"inspected", r.containers.inspected},
                                   {"cgroup_error", str_or_null(r.containers.cgroup_error)},
                                   {"troubled", std::move(troubled)}};

  json::array projects;
  auto count = [](const std::optional<std::size_t>& n) { return n ? json::value(*n) : json::value(nullptr); };
  for (const auto& p : r.compose.projects) {
    json::array files;
    for (const auto& f : p.files) files.emplace_back(f);
    projects.push_back(json::object{{"project", p.name},
                                    {"files", std::move(files)},
                                    {"source", p.from_config ? "config" : "labels"},
                                    {"valid", p.valid},
                                    {"skipped", p.skipped},
                                    {"error", str_or_null(p.error)},
                                    {"drift", count(p.drift)},
                                    {"orphans", count(p.orphans)},
                                    {"lint", p.valid ? json::value(p.lint) : json::value(nullptr)}});
  }
  doc["compose"] = json::object{{"error", str_or_null(r.compose.error)}, {"projects", std::move(projects)}};

  json::array checklist;
  for (const auto& s : r.image_checklist.services) {
    json::object o{{"project", s.project}, {"service", s.service}};
    if (s.build) {
      const auto& c = s.build->context_size;
      o["context"] = s.build->context;
      o["context_bytes"] = c.error.empty() ? json::value(c.bytes) : json::value(nullptr);
      o["context_complete"] = c.complete;
    } else {
      o["context"] = nullptr;
      o["context_bytes"] = nullptr;
      o["context_complete"] = nullptr;
    }
    o["image"] = s.image ? json::value(s.image->image) : json::value(nullptr);
    o["image_bytes"] = s.image ? json::value(s.image->config.size) : json::value(nullptr);
    json::array findings;
    for (const auto& f : s.findings)
      findings.push_back(json::object{{"check", f.check},
                                      {"location", f.location},
                                      {"message", f.message},
                                      {"fix", images::checks().at(f.check).fix}});
    o["findings"] = std::move(findings);
    checklist.push_back(std::move(o));
  }
  doc["image_checklist"] =
      json::object{{"error", str_or_null(r.image_checklist.error)}, {"services", std::move(checklist)}};

  json::array steps;
  for (const auto& s : r.next_steps)
    steps.push_back(
        json::object{{"why", s.why}, {"command", str_or_null(s.command)}, {"caution", str_or_null(s.caution)}});
  doc["next_steps"] = std::move(steps);

  out << json::serialize(doc) << "\n";
}

}  // namespace composewatch::commands
