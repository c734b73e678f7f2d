// Compose variable interpolation and env files: pure text in, text out.

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "composewatch/compose/loader.h"
#include "yaml_tree.h"

namespace composewatch::compose {
namespace {

// ${A:-${B:-${C}}} nests; beyond this it is an attack, not a Compose file.
constexpr int kMaxNesting = 32;

bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

class Expander {
 public:
  Expander(const std::map<std::string, std::string>& vars, Interpolated& result, bool missing_required_fails)
      : vars_(vars), result_(result), missing_required_fails_(missing_required_fails) {}

  std::string expand(std::string_view s, int depth) {
    if (depth > kMaxNesting) {
      throw std::invalid_argument("variable references nested more than " +
                                  std::to_string(kMaxNesting) + " deep");
    }
    std::string out;
    out.reserve(s.size());
    std::size_t i = 0;
    while (i < s.size()) {
      const char c = s[i];
      if (c != '$') {
        out += c;
        ++i;
        continue;
      }
      if (i + 1 >= s.size()) {
        throw std::invalid_argument("invalid interpolation: '$' at the end of \"" + std::string(s) +
                                    "\" (write '$$' for a literal '$')");
      }
      const char next = s[i + 1];
      if (next == '$') {
        out += '$';
        i += 2;
      } else if (next == '{') {
        const std::size_t close = matching_brace(s, i + 2);
        const std::size_t unset_before = result_.unset.size(), at = out.size();
        out += braced(s.substr(i + 2, close - (i + 2)), depth);
        note_first_unknown(depth, unset_before, at);
        i = close + 1;
      } else if (is_name_start(next)) {
        std::size_t end = i + 1;
        while (end < s.size() && is_name_char(s[end])) ++end;
        const std::size_t unset_before = result_.unset.size(), at = out.size();
        out += lookup(std::string(s.substr(i + 1, end - (i + 1))));
        note_first_unknown(depth, unset_before, at);
        i = end;
      } else {
        throw std::invalid_argument("invalid interpolation: '$" + std::string(1, next) + "' in \"" +
                                    std::string(s) + "\" (write '$$' for a literal '$')");
      }
    }
    return out;
  }

 private:
  // Index of the '}' closing the "${" whose body starts at `from`.
  static std::size_t matching_brace(std::string_view s, std::size_t from) {
    int open = 1;
    for (std::size_t j = from; j < s.size(); ++j) {
      if (s[j] == '$' && j + 1 < s.size() && s[j + 1] == '$') {
        ++j;
      } else if (s[j] == '$' && j + 1 < s.size() && s[j + 1] == '{') {
        ++open;
        ++j;
      } else if (s[j] == '}' && --open == 0) {
        return j;
      }
    }
    throw std::invalid_argument("invalid interpolation: unterminated '${' in \"" + std::string(s) + "\"");
  }

  std::string lookup(const std::string& name) {
    result_.substituted = true;
    const auto it = vars_.find(name);
    if (it != vars_.end()) return it->second;
    note_unset(name);
    return "";
  }

  // At the top level, where the output stops being what the file wrote: the first
  // reference that used a variable without a value starts at `at`.
  void note_first_unknown(int depth, std::size_t unset_before, std::size_t at) {
    if (depth == 0 && !result_.first_unknown && result_.unset.size() > unset_before) result_.first_unknown = at;
  }

  void note_unset(const std::string& name) {
    if (std::find(result_.unset.begin(), result_.unset.end(), name) == result_.unset.end()) {
      result_.unset.push_back(name);
    }
  }

  std::string braced(std::string_view body, int depth) {
    std::size_t n = 0;
    if (!body.empty() && is_name_start(body[0])) {
      while (n < body.size() && is_name_char(body[n])) ++n;
    }
    if (n == 0) {
      throw std::invalid_argument("invalid interpolation: '${" + std::string(body) +
                                  "}' does not start with a variable name");
    }
    const std::string name(body.substr(0, n));
    std::string_view rest = body.substr(n);
    if (rest.empty()) return lookup(name);

    result_.substituted = true;
    bool colon = false;
    if (rest[0] == ':') {
      colon = true;
      rest.remove_prefix(1);
    }
    if (rest.empty() || (rest[0] != '-' && rest[0] != '?' && rest[0] != '+')) {
      throw std::invalid_argument("invalid interpolation: '${" + std::string(body) +
                                  "}' (expected ${VAR}, ${VAR:-default}, ${VAR-default}, "
                                  "${VAR:?error}, ${VAR?error}, ${VAR:+value} or ${VAR+value})");
    }
    const char op = rest[0];
    const std::string_view arg = rest.substr(1);
    const auto it = vars_.find(name);
    const bool set = it != vars_.end();
    const bool usable = colon ? set && !it->second.empty() : set;
    switch (op) {
      case '-':
        return usable ? it->second : expand(arg, depth + 1);
      case '+':
        return usable ? expand(arg, depth + 1) : std::string();
      default: {  // '?'
        if (usable) return it->second;
        if (!missing_required_fails_) {
          note_unset(name);
          return "";
        }
        std::string message = "required variable " + name + " is missing a value";
        const std::string detail = expand(arg, depth + 1);
        if (!detail.empty()) message += ": " + detail;
        throw std::invalid_argument(message);
      }
    }
  }

  const std::map<std::string, std::string>& vars_;
  Interpolated& result_;
  bool missing_required_fails_;
};

std::string trim(std::string s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

}  // namespace

Interpolated interpolate(std::string_view text, const std::map<std::string, std::string>& variables,
                         bool missing_required_fails) {
  Interpolated result;
  if (text.find('$') == std::string_view::npos) {
    result.value = std::string(text);
    return result;
  }
  Expander expander(variables, result, missing_required_fails);
  result.value = expander.expand(text, 0);
  return result;
}

std::map<std::string, std::string> read_env_file(const std::string& path, EnvFileFormat format) {
  std::error_code ec;
  if (const auto size = std::filesystem::file_size(path, ec); !ec && size > (10u << 20)) {
    throw LoadError({path, 0}, "env file is larger than 10 MiB; refusing to read it");
  }
  std::ifstream in(path);
  if (!in) throw LoadError({path, 0}, "cannot read the env file: " + detail::read_failure({errno, std::generic_category()}));
  std::map<std::string, std::string> vars;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line_no > 100'000 || line.size() > 1'000'000) {
      throw LoadError({path, line_no}, "env file too large");
    }
    std::string text = trim(line);
    if (text.empty() || text[0] == '#') continue;
    if (text.starts_with("export ")) text = trim(text.substr(7));
    const auto eq = text.find('=');
    const std::string key = trim(text.substr(0, eq));
    if (key.empty() || !is_name_start(key[0]) ||
        !std::all_of(key.begin(), key.end(), is_name_char)) {
      throw LoadError({path, line_no}, "invalid variable name '" + key + "' (expected KEY=VALUE)");
    }
    if (eq == std::string::npos) continue;  // "KEY" alone sets nothing
    std::string value = trim(text.substr(eq + 1));
    if (format == EnvFileFormat::dotenv && value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    vars[key] = value;
  }
  return vars;
}

}  // namespace composewatch::compose
