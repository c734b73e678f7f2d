// The Dockerfile parser and the shell splitter of RUN scripts. Every loop advances over the
// input or over a bounded list, so garbage costs at most a few passes over its bytes.

#include "composewatch/images/dockerfile.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cctype>

namespace composewatch::images {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trim_left(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  return s;
}
std::string_view trim_right(std::string_view s) {
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}
std::string_view trim(std::string_view s) { return trim_right(trim_left(s)); }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto nl = text.find('\n', start);
    std::string_view line = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return lines;
}

// "# name=value" at the top of the file; nullopt for any other line.
std::optional<std::pair<std::string, std::string>> directive(std::string_view line) {
  line = trim_left(line);
  if (line.empty() || line.front() != '#') return std::nullopt;
  line = trim_left(line.substr(1));
  std::size_t n = 0;
  while (n < line.size() && (std::isalpha(static_cast<unsigned char>(line[n])))) ++n;
  if (n == 0) return std::nullopt;
  std::string name = lower(line.substr(0, n));
  std::string_view rest = trim_left(line.substr(n));
  if (rest.empty() || rest.front() != '=') return std::nullopt;
  return std::pair{std::move(name), std::string(trim(rest.substr(1)))};
}

std::vector<std::string> words_of(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (is_space(s[i]) || s[i] == '\n')) ++i;
    const std::size_t start = i;
    while (i < s.size() && !is_space(s[i]) && s[i] != '\n') ++i;
    if (i > start) out.emplace_back(s.substr(start, i - start));
  }
  return out;
}

struct HeredocMarker {
  std::string name;
  bool strip_tabs = false;
  std::size_t begin = 0, end = 0;  // of the marker in the args
};

// `<<EOF`, `<<-EOF`, `<<"EOF"`, `<<'EOF'` in a RUN/COPY/ADD line (not `<<<`).
std::vector<HeredocMarker> heredoc_markers(std::string_view args) {
  std::vector<HeredocMarker> out;
  std::size_t i = 0;
  while (i + 2 < args.size()) {
    if (args[i] != '<' || args[i + 1] != '<' || args[i + 2] == '<') {
      ++i;
      continue;
    }
    if (i > 0 && args[i - 1] == '<') {
      ++i;
      continue;
    }
    HeredocMarker m;
    m.begin = i;
    std::size_t j = i + 2;
    if (j < args.size() && args[j] == '-') {
      m.strip_tabs = true;
      ++j;
    }
    char quote = 0;
    if (j < args.size() && (args[j] == '"' || args[j] == '\'')) quote = args[j++];
    const std::size_t name_start = j;
    while (j < args.size() && (is_name_char(args[j]) || args[j] == '.' || args[j] == '-')) ++j;
    if (j == name_start) {
      i += 2;
      continue;
    }
    m.name = std::string(args.substr(name_start, j - name_start));
    if (quote) {
      if (j < args.size() && args[j] == quote)
        ++j;
      else {
        i = j;
        continue;
      }
    }
    m.end = j;
    out.push_back(std::move(m));
    i = j;
  }
  return out;
}

std::optional<std::vector<std::string>> json_string_array(std::string_view s) {
  if (s.empty() || s.front() != '[') return std::nullopt;
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(s, ec);
  if (ec || !v.is_array()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& item : v.as_array()) {
    if (!item.is_string()) return std::nullopt;
    out.emplace_back(item.as_string());
  }
  return out;
}

bool takes_flags(std::string_view keyword) {
  return keyword == "FROM" || keyword == "RUN" || keyword == "COPY" || keyword == "ADD";
}

}  // namespace

std::optional<std::string> Instruction::flag(std::string_view name) const {
  for (const auto& f : flags) {
    std::string_view v = f;
    if (!v.starts_with("--")) continue;
    v.remove_prefix(2);
    if (!v.starts_with(name)) continue;
    v.remove_prefix(name.size());
    if (v.empty()) return std::string();
    if (v.front() == '=') return std::string(v.substr(1));
  }
  return std::nullopt;
}

std::string substitute(std::string_view word, const std::map<std::string, std::string>& vars, char escape) {
  std::string out;
  std::size_t i = 0;
  auto value_of = [&](const std::string& name) -> const std::string* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : &it->second;
  };
  while (i < word.size()) {
    const char c = word[i];
    if (c == escape && i + 1 < word.size() && word[i + 1] == '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (c != '$' || i + 1 >= word.size()) {
      out += c;
      ++i;
      continue;
    }
    if (word[i + 1] == '{') {
      const auto close = word.find('}', i + 2);
      if (close == std::string_view::npos) {  // unterminated: kept as written
        out += word.substr(i);
        break;
      }
      const std::string_view inner = word.substr(i + 2, close - i - 2);
      std::size_t n = 0;
      while (n < inner.size() && is_name_char(inner[n])) ++n;
      const std::string name(inner.substr(0, n));
      std::string_view op = inner.substr(n);
      const std::string* v = value_of(name);
      const bool colon = op.starts_with(":");
      if (colon) op.remove_prefix(1);
      const bool set = v && (!colon || !v->empty());
      if (op.empty()) {
        if (v) out += *v;
      } else if (op.front() == '-') {
        out += set ? *v : std::string(op.substr(1));  // the default as written (no nesting)
      } else if (op.front() == '+') {
        if (set) out += op.substr(1);
      } else if (op.front() == '?') {
        if (set) out += *v;
      }
      i = close + 1;
      continue;
    }
    std::size_t n = i + 1;
    while (n < word.size() && is_name_char(word[n])) ++n;
    if (n == i + 1) {
      out += c;
      ++i;
      continue;
    }
    if (const std::string* v = value_of(std::string(word.substr(i + 1, n - i - 1)))) out += *v;
    i = n;
  }
  return out;
}

Dockerfile parse_dockerfile(std::string_view text, const std::map<std::string, std::string>& build_args) {
  Dockerfile df;
  if (text.size() > kMaxDockerfileBytes) {
    df.warnings.push_back("the file is larger than " + std::to_string(kMaxDockerfileBytes) +
                          " bytes; only the start is read");
    text = text.substr(0, kMaxDockerfileBytes);
  }
  const auto lines = split_lines(text);
  std::size_t i = 0;

  // Parser directives: only before any comment, empty line or instruction.
  while (i < lines.size()) {
    auto d = directive(lines[i]);
    if (!d || df.directives.contains(d->first)) break;
    df.directives.insert(std::move(*d));
    ++i;
  }
  if (auto it = df.directives.find("escape"); it != df.directives.end()) {
    if (it->second == "`")
      df.escape = '`';
    else if (it->second != "\\")
      df.warnings.push_back("line 1: escape directive must be \\ or `, got '" + it->second + "'");
  }
  const char esc = df.escape;

  std::map<std::string, std::string> meta_vars;
  while (i < lines.size()) {
    const std::string_view first = trim(lines[i]);
    if (first.empty() || first.front() == '#') {
      ++i;
      continue;
    }
    if (df.instructions.size() >= kMaxInstructions) {
      df.warnings.push_back("line " + std::to_string(i + 1) + ": more than " + std::to_string(kMaxInstructions) +
                            " instructions; the rest is not read");
      break;
    }
    Instruction ins;
    ins.line = static_cast<int>(i) + 1;
    std::string logical;
    for (;;) {
      std::string_view s = trim_right(lines[i]);
      ++i;
      if (s.empty() || s.back() != esc) {
        logical += s;
        break;
      }
      s.remove_suffix(1);
      logical += s;
      // Comment and empty lines inside a continuation are skipped.
      while (i < lines.size() && (trim(lines[i]).empty() || trim(lines[i]).front() == '#')) ++i;
      if (i >= lines.size()) break;
    }
    std::string_view rest = trim_left(logical);
    std::size_t kw = 0;
    while (kw < rest.size() && !is_space(rest[kw])) ++kw;
    ins.keyword = upper(rest.substr(0, kw));
    rest = trim_left(rest.substr(kw));
    if (takes_flags(ins.keyword)) {
      while (rest.starts_with("--")) {
        std::size_t e = 0;
        while (e < rest.size() && !is_space(rest[e])) ++e;
        ins.flags.emplace_back(rest.substr(0, e));
        rest = trim_left(rest.substr(e));
      }
    }
    ins.args = std::string(trim_right(rest));
    if (auto exec = json_string_array(ins.args)) {
      ins.exec_form = true;
      ins.exec = std::move(*exec);
    }
    if (!ins.exec_form && (ins.keyword == "RUN" || ins.keyword == "COPY" || ins.keyword == "ADD")) {
      for (const auto& m : heredoc_markers(ins.args)) {
        Heredoc h{m.name, "", m.strip_tabs};
        bool closed = false;
        bool first_line = true;
        while (i < lines.size()) {
          std::string_view body_line = lines[i++];
          if (m.strip_tabs)
            while (!body_line.empty() && body_line.front() == '\t') body_line.remove_prefix(1);
          if (body_line == m.name) {
            closed = true;
            break;
          }
          if (!first_line) h.body += '\n';
          h.body += body_line;
          first_line = false;
        }
        if (!closed)
          df.warnings.push_back("line " + std::to_string(ins.line) + ": heredoc " + m.name + " is not closed");
        ins.heredocs.push_back(std::move(h));
      }
    }

    if (ins.keyword == "FROM") {
      Stage st;
      st.index = df.stages.size();
      st.line = ins.line;
      const auto words = words_of(ins.args);
      if (!words.empty()) st.base = words[0];
      if (words.size() >= 3 && lower(words[1]) == "as") st.name = lower(words[2]);
      st.base_resolved = substitute(st.base, meta_vars, esc);
      const std::string base_lower = lower(st.base_resolved);
      for (const auto& earlier : df.stages)
        if (!earlier.name.empty() && earlier.name == base_lower) st.parent = earlier.index;
      if (st.base.empty()) df.warnings.push_back("line " + std::to_string(ins.line) + ": FROM without an image");
      df.stages.push_back(std::move(st));
    } else if (df.stages.empty()) {
      if (ins.keyword == "ARG") {
        for (const auto& w : words_of(ins.args)) {
          const auto eq = w.find('=');
          const std::string name = w.substr(0, eq);
          if (auto it = build_args.find(name); it != build_args.end())
            meta_vars[name] = it->second;
          else if (eq != std::string::npos)
            meta_vars[name] = substitute(std::string_view(w).substr(eq + 1), meta_vars, esc);
        }
        df.meta_args.push_back(ins);
      } else {
        df.warnings.push_back("line " + std::to_string(ins.line) + ": " + ins.keyword + " before the first FROM");
      }
    } else {
      df.stages.back().instructions.push_back(ins);
    }
    df.instructions.push_back(std::move(ins));
  }
  return df;
}

const Stage* Dockerfile::stage(std::string_view name_or_index) const {
  const std::string want = lower(name_or_index);
  for (const auto& s : stages)
    if (!s.name.empty() && s.name == want) return &s;
  if (!want.empty() && std::all_of(want.begin(), want.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
      want.size() < 6) {
    const std::size_t n = std::stoul(want);
    if (n < stages.size()) return &stages[n];
  }
  return nullptr;
}

const Stage* Dockerfile::final_stage(std::string_view target) const {
  if (stages.empty()) return nullptr;
  if (!target.empty())
    if (const Stage* s = stage(target)) return s;
  return &stages.back();
}

std::vector<const Stage*> Dockerfile::lineage(const Stage& s) const {
  std::vector<const Stage*> out{&s};
  // A parent is always an earlier stage, so this ends.
  while (out.back()->parent && *out.back()->parent < out.back()->index) out.push_back(&stages[*out.back()->parent]);
  return out;
}

// ------------------------------------------------------------------ shell commands

std::string Command::program() const {
  if (words.empty()) return {};
  const auto slash = words[0].rfind('/');
  return slash == std::string::npos ? words[0] : words[0].substr(slash + 1);
}

namespace {

bool is_assignment(const std::string& w) {
  const auto eq = w.find('=');
  if (eq == std::string::npos || eq == 0) return false;
  return std::all_of(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(eq), is_name_char) &&
         !std::isdigit(static_cast<unsigned char>(w[0]));
}

void finish_command(std::vector<std::string>& words, std::vector<Command>& out) {
  std::size_t k = 0;
  // Wrappers that run the next words as the command. Each pass drops at least one word.
  for (;;) {
    while (k < words.size() && is_assignment(words[k])) ++k;
    if (k >= words.size()) break;
    const std::string& w = words[k];
    const auto slash = w.rfind('/');
    const std::string p = slash == std::string::npos ? w : w.substr(slash + 1);
    if (p == "sudo" || p == "env" || p == "exec" || p == "command" || p == "nice" || p == "time" || p == "nohup") {
      ++k;
      while (k < words.size() && words[k].starts_with("-")) ++k;
      continue;
    }
    break;
  }
  Command c;
  c.words.assign(words.begin() + static_cast<std::ptrdiff_t>(std::min(k, words.size())), words.end());
  if (!c.words.empty()) out.push_back(std::move(c));
  words.clear();
}

}  // namespace

std::vector<Command> split_commands(std::string_view s) {
  std::vector<Command> out;
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  auto end_word = [&] {
    if (in_word) {
      if (word != "{" && word != "}" && word != "!") words.push_back(word);
      word.clear();
      in_word = false;
    }
  };
  auto end_command = [&] {
    end_word();
    finish_command(words, out);
  };
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '\\') {
      if (i + 1 < s.size() && s[i + 1] == '\n') {
        i += 2;
        continue;
      }
      if (i + 1 < s.size()) word += s[i + 1];
      in_word = true;
      i += 2;
      continue;
    }
    if (c == '\'') {
      const auto close = s.find('\'', i + 1);
      const std::size_t end = close == std::string_view::npos ? s.size() : close;
      word += s.substr(i + 1, end - i - 1);
      in_word = true;
      i = end + 1;
      continue;
    }
    if (c == '"') {
      std::size_t j = i + 1;
      while (j < s.size() && s[j] != '"') {
        if (s[j] == '\\' && j + 1 < s.size()) {
          const char n = s[j + 1];
          if (n != '"' && n != '\\' && n != '$' && n != '`' && n != '\n') word += '\\';
          if (n != '\n') word += n;
          j += 2;
          continue;
        }
        word += s[j++];
      }
      in_word = true;
      i = j + 1;
      continue;
    }
    if (c == '$' && i + 1 < s.size() && s[i + 1] == '(') {  // $( … ) stays inside the word
      int depth = 0;
      std::size_t j = i + 1;
      for (; j < s.size(); ++j) {
        if (s[j] == '(') ++depth;
        if (s[j] == ')' && --depth == 0) break;
      }
      const std::size_t end = std::min(j + 1, s.size());
      word += s.substr(i, end - i);
      in_word = true;
      i = end;
      continue;
    }
    if (c == '#' && !in_word) {  // a comment to the end of the line
      const auto nl = s.find('\n', i);
      i = nl == std::string_view::npos ? s.size() : nl;
      continue;
    }
    if (c == '&' && i > 0 && (s[i - 1] == '>' || s[i - 1] == '<')) {  // 2>&1
      word += c;
      in_word = true;
      ++i;
      continue;
    }
    if (c == ';' || c == '\n' || c == '&' || c == '|') {
      end_command();
      ++i;
      continue;
    }
    if (c == '(' || c == ')') {
      end_command();
      ++i;
      continue;
    }
    if (is_space(c)) {
      end_word();
      ++i;
      continue;
    }
    word += c;
    in_word = true;
    ++i;
  }
  end_command();
  return out;
}

std::string run_script(const Instruction& run) {
  if (run.exec_form) {
    if (run.exec.size() >= 3 && run.exec[1] == "-c") return run.exec[2];
    std::string s;
    for (const auto& w : run.exec) s += (s.empty() ? "" : " ") + w;
    return s;
  }
  if (run.heredocs.empty()) return run.args;
  // The command line without its heredoc markers, then each body as more lines of script:
  // `RUN <<EOF` runs the body; `RUN python3 <<EOF` feeds it, and reading both is harmless.
  std::string line = run.args;
  const auto markers = heredoc_markers(line);
  for (auto it = markers.rbegin(); it != markers.rend(); ++it) line.erase(it->begin, it->end - it->begin);
  std::string script = line;
  for (const auto& h : run.heredocs) script += "\n" + h.body;
  return script;
}

}  // namespace composewatch::images
