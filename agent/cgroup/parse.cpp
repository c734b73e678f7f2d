#include "composewatch/cgroup/parse.h"

#include <charconv>

namespace composewatch::cgroup {

namespace {

// Character tests by hand: string_view::find_first_of calls memchr on the set for every
// character, which made parsing cost more than reading at each scrape.
constexpr bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
constexpr bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::optional<std::uint64_t> to_u64(std::string_view s) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// Calls f(line) for each line, without the '\n'.
template <class F>
void for_each_line(std::string_view text, F&& f) {
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    f(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

// Splits off the next whitespace-separated field of `s`.
std::string_view next_field(std::string_view& s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  std::size_t e = 0;
  while (e < s.size() && !is_blank(s[e])) ++e;
  std::string_view f = s.substr(0, e);
  s.remove_prefix(e);
  return f;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape_octal(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7' && s[i + 2] >= '0' && s[i + 2] <= '7' &&
        s[i + 3] >= '0' && s[i + 3] <= '7') {
      out.push_back(char((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

std::optional<std::uint64_t> parse_u64(std::string_view text) { return to_u64(trim(text)); }

std::optional<std::uint64_t> parse_v2_limit(std::string_view text) {
  auto t = trim(text);
  if (t == "max") return std::nullopt;
  return to_u64(t);
}

std::optional<std::uint64_t> parse_v1_limit(std::string_view text) {
  auto v = to_u64(trim(text));
  if (!v || *v >= (std::uint64_t(1) << 62)) return std::nullopt;
  return v;
}

std::optional<std::uint64_t> flat_keyed(std::string_view text, std::string_view key) {
  // The first line that starts with the key and a blank; lines that do not are skipped
  // with one memchr each.
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (line.size() > key.size() && line.starts_with(key) && is_blank(line[key.size()])) {
      line.remove_prefix(key.size());
      return to_u64(trim(line));
    }
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return std::nullopt;
}

IoBytes parse_blkio_v1(std::string_view text) {
  IoBytes io;
  for_each_line(text, [&](std::string_view line) {
    std::string_view rest = line;
    std::string_view dev = next_field(rest);
    if (dev.find(':') == std::string_view::npos) return;  // "Total N"
    std::string_view op = next_field(rest);
    auto v = to_u64(next_field(rest));
    if (!v) return;
    if (op == "Read")
      io.read += *v;
    else if (op == "Write")
      io.write += *v;
  });
  return io;
}

IoBytes parse_io_stat_v2(std::string_view text) {
  IoBytes io;
  for_each_line(text, [&](std::string_view line) {
    std::string_view rest = line;
    if (next_field(rest).find(':') == std::string_view::npos) return;
    for (std::string_view kv = next_field(rest); !kv.empty(); kv = next_field(rest)) {
      auto eq = kv.find('=');
      if (eq == std::string_view::npos) continue;
      auto v = to_u64(kv.substr(eq + 1));
      if (!v) continue;
      auto k = kv.substr(0, eq);
      if (k == "rbytes")
        io.read += *v;
      else if (k == "wbytes")
        io.write += *v;
    }
  });
  return io;
}

std::optional<NetBytes> parse_net_dev(std::string_view text) {
  // Two header lines, then "  iface: rx_bytes rx_packets ... (8 receive fields) tx_bytes ...".
  if (text.find("Inter-|") != 0) return std::nullopt;
  NetBytes n;
  int line_no = 0;
  bool ok = true;
  for_each_line(text, [&](std::string_view line) {
    if (++line_no <= 2 || !ok) return;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) {
      if (!trim(line).empty()) ok = false;
      return;
    }
    if (trim(line.substr(0, colon)) == "lo") return;
    std::string_view rest = line.substr(colon + 1);
    std::uint64_t fields[9] = {};
    for (auto& f : fields) {
      auto v = to_u64(next_field(rest));
      if (!v) {
        ok = false;
        return;
      }
      f = *v;
    }
    n.receive += fields[0];
    n.transmit += fields[8];
  });
  if (!ok) return std::nullopt;
  return n;
}

bool procs_contains(std::string_view text, int pid) {
  bool found = false;
  for_each_line(text, [&](std::string_view line) {
    if (!found) {
      auto v = to_u64(trim(line));
      found = v && *v == std::uint64_t(pid);
    }
  });
  return found;
}

std::vector<CgroupMount> parse_mountinfo(std::string_view text) {
  // "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue"
  std::vector<CgroupMount> out;
  for_each_line(text, [&](std::string_view line) {
    auto sep = line.find(" - ");
    if (sep == std::string_view::npos) return;
    std::string_view head = line.substr(0, sep);
    std::string_view tail = line.substr(sep + 3);
    std::string_view fstype = next_field(tail);
    if (fstype != "cgroup" && fstype != "cgroup2") return;
    next_field(tail);  // source
    std::string_view super_opts = next_field(tail);
    next_field(head);  // mount id
    next_field(head);  // parent id
    next_field(head);  // major:minor
    std::string_view root = next_field(head);
    std::string_view mount_point = next_field(head);
    if (mount_point.empty()) return;
    CgroupMount m;
    m.mount_point = unescape_octal(mount_point);
    m.root = unescape_octal(root);
    m.v2 = fstype == "cgroup2";
    if (!m.v2) {
      while (!super_opts.empty()) {
        auto comma = super_opts.find(',');
        std::string_view opt = super_opts.substr(0, comma);
        if (opt != "rw" && opt != "ro" && !opt.empty()) m.controllers.emplace_back(opt);
        super_opts.remove_prefix(comma == std::string_view::npos ? super_opts.size() : comma + 1);
      }
    }
    out.push_back(std::move(m));
  });
  return out;
}

}  // namespace composewatch::cgroup
