#include "yaml_tree.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <unordered_set>

#include <unistd.h>

#include "composewatch/compose/loader.h"
#include "composewatch/yaml/document.h"

namespace composewatch::compose::detail {

const Node* Node::find(const std::string& key) const {
  for (const auto& [k, v] : entries) {
    if (k == key) return &v;
  }
  return nullptr;
}

Node* Node::find(const std::string& key) {
  for (auto& [k, v] : entries) {
    if (k == key) return &v;
  }
  return nullptr;
}

void Node::set(const std::string& key, Node value) {
  if (Node* existing = find(key)) {
    *existing = std::move(value);
  } else {
    entries.emplace_back(key, std::move(value));
  }
}

void Node::erase(const std::string& key) {
  std::erase_if(entries, [&](const auto& e) { return e.first == key; });
}

std::string Node::kind_name() const {
  switch (kind) {
    case Kind::null: return "null";
    case Kind::scalar: return "a scalar";
    case Kind::sequence: return "a list";
    case Kind::mapping: return "a mapping";
  }
  return "?";
}

namespace {

std::size_t indent_of(const std::string& line) {
  std::size_t i = 0;
  while (i < line.size() && line[i] == ' ') ++i;
  return i;
}

// Where a quoted string, a '[' or a '{' may begin in block context: at the start of a
// value, after "key:", "- ", "? " or ",".
bool at_value_start(const std::string& line, std::size_t pos) {
  std::size_t i = pos;
  while (i > 0 && (line[i - 1] == ' ' || line[i - 1] == '\t')) --i;
  if (i == 0) return true;
  const char c = line[i - 1];
  return c == ':' || c == '-' || c == '?' || c == ',' || c == '[' || c == '{';
}

}  // namespace

int estimate_nesting_depth(const std::string& text, int stop_at, int* line_out) {
  std::vector<std::size_t> indents;   // block levels by indentation
  int flow = 0;                       // open flow collections
  char quote = 0;                     // inside a quoted scalar spanning lines
  std::ptrdiff_t block_scalar_parent = -1;  // indentation of the line that opened | or >
  int deepest = 0;
  int line_no = 0;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::size_t indent = indent_of(line);
    const bool blank = indent == line.size() || line[indent] == '#';
    if (block_scalar_parent >= 0) {
      if (blank || static_cast<std::ptrdiff_t>(indent) > block_scalar_parent) continue;
      block_scalar_parent = -1;
    }
    if (blank && quote == 0 && flow == 0) continue;

    int compact = 0;
    std::size_t pos = indent;
    if (quote == 0 && flow == 0) {
      while (!indents.empty() && indents.back() > indent) indents.pop_back();
      if (indents.empty() || indents.back() < indent) indents.push_back(indent);
      // "- - - x" and "? " open one level each on the same line.
      while (pos < line.size() && (line[pos] == '-' || line[pos] == '?') &&
             (pos + 1 == line.size() || line[pos + 1] == ' ')) {
        ++compact;
        pos += 1;
        while (pos < line.size() && line[pos] == ' ') ++pos;
      }
    }
    std::size_t last_significant = std::string::npos;
    for (std::size_t i = pos; i < line.size(); ++i) {
      const char c = line[i];
      if (quote == '"') {
        if (c == '\\') {
          ++i;
        } else if (c == '"') {
          quote = 0;
        }
        continue;
      }
      if (quote == '\'') {
        if (c == '\'' && i + 1 < line.size() && line[i + 1] == '\'') {
          ++i;
        } else if (c == '\'') {
          quote = 0;
        }
        continue;
      }
      if (c == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) break;
      if (c != ' ' && c != '\t') last_significant = i;
      if ((c == '"' || c == '\'') && (flow > 0 || at_value_start(line, i))) {
        quote = c;
      } else if ((c == '[' || c == '{') && (flow > 0 || at_value_start(line, i))) {
        ++flow;
      } else if ((c == ']' || c == '}') && flow > 0) {
        --flow;
      }
      const int depth = static_cast<int>(indents.size()) + compact + flow;
      if (depth > deepest) deepest = depth;
      if (deepest > stop_at) {
        if (line_out) *line_out = line_no;
        return deepest;
      }
    }
    const int depth = static_cast<int>(indents.size()) + compact + flow;
    deepest = std::max(deepest, depth);
    if (deepest > stop_at) {
      if (line_out) *line_out = line_no;
      return deepest;
    }
    // A block scalar indicator ends the line: what follows, more indented, is text.
    if (quote == 0 && flow == 0 && last_significant != std::string::npos) {
      std::size_t i = last_significant;
      while (i > pos && (std::isdigit(static_cast<unsigned char>(line[i])) || line[i] == '-' ||
                         line[i] == '+')) {
        --i;
      }
      if ((line[i] == '|' || line[i] == '>') && at_value_start(line, i)) {
        block_scalar_parent = static_cast<std::ptrdiff_t>(indent);
      }
    }
  }
  if (line_out) *line_out = line_no;
  return deepest;
}

namespace {

class Converter {
 public:
  Converter(const std::string& file, const YamlLimits& limits) : file_(file), limits_(limits) {}

  Node convert(const YAML::Node& in, int depth) {
    const int line = in.Mark().is_null() ? 0 : in.Mark().line + 1;
    if (++visited_ > limits_.max_nodes) {
      throw LoadError({file_, line}, "more than " + std::to_string(limits_.max_nodes) +
                                         " YAML nodes after expanding aliases; refusing the file "
                                         "(an alias bomb?)");
    }
    if (depth > limits_.max_depth) {
      throw LoadError({file_, line}, "YAML nested more than " + std::to_string(limits_.max_depth) +
                                         " levels deep");
    }
    Node out;
    out.location = {file_, line};
    if (in.Tag() == "!reset") {  // whatever is written after it, the key is reset
      out.tag = Node::Tag::reset;
      return out;
    }
    if (in.Tag() == "!override") out.tag = Node::Tag::override;
    switch (in.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        out.kind = Node::Kind::null;
        break;
      case YAML::NodeType::Scalar:
        out.kind = Node::Kind::scalar;
        out.scalar = in.Scalar();
        out.quoted = in.Tag() == "!";
        break;
      case YAML::NodeType::Sequence:
        out.kind = Node::Kind::sequence;
        for (const auto& item : in) out.items.push_back(convert(item, depth + 1));
        break;
      case YAML::NodeType::Map: {
        out.kind = Node::Kind::mapping;
        std::vector<Node> merged;  // values of `<<`, applied after the explicit keys
        // The keys seen so far: a linear search per key would make one big mapping cost
        // quadratic time (80,000 keys: seconds).
        std::unordered_set<std::string> keys;
        for (const auto& kv : in) {
          const int key_line = kv.first.Mark().is_null() ? line : kv.first.Mark().line + 1;
          if (!kv.first.IsScalar()) {
            throw LoadError({file_, key_line}, "mapping keys must be strings");
          }
          const std::string key = kv.first.Scalar();
          if (key == "<<" && kv.first.Tag() != "!") {
            merged.push_back(convert(kv.second, depth + 1));
            continue;
          }
          if (!keys.insert(key).second) {
            throw LoadError({file_, key_line}, "duplicate key '" + key + "'");
          }
          out.entries.emplace_back(key, convert(kv.second, depth + 1));
          out.entries.back().second.key_line = key_line;
        }
        for (const Node& m : merged) apply_merge_key(out, m, keys);
        break;
      }
    }
    return out;
  }

 private:
  // `keys`: the keys `target` holds, kept up to date.
  void apply_merge_key(Node& target, const Node& source, std::unordered_set<std::string>& keys) {
    if (source.is_mapping()) {
      for (const auto& [k, v] : source.entries) {
        if (keys.insert(k).second) target.entries.emplace_back(k, v);
      }
    } else if (source.is_sequence()) {
      for (const Node& m : source.items) {
        if (!m.is_mapping()) {
          throw LoadError(m.location, "'<<' expects a mapping or a list of mappings");
        }
        apply_merge_key(target, m, keys);
      }
    } else {
      throw LoadError(source.location, "'<<' expects a mapping or a list of mappings");
    }
  }

  const std::string& file_;
  const YamlLimits& limits_;
  std::size_t visited_ = 0;
};

}  // namespace

Node parse_yaml(const std::string& text, const std::string& display_name, const YamlLimits& limits) {
  if (text.size() > limits.max_file_bytes) {
    throw LoadError({display_name, 0}, "file is larger than " +
                                           std::to_string(limits.max_file_bytes >> 20) +
                                           " MiB; refusing to parse it");
  }
  int deep_line = 0;
  if (estimate_nesting_depth(text, limits.max_depth, &deep_line) > limits.max_depth) {
    throw LoadError({display_name, deep_line}, "YAML nested more than " +
                                                   std::to_string(limits.max_depth) +
                                                   " levels deep; refusing to parse it");
  }
  YAML::Node root;
  try {
    root = yaml::load_one_document(text);
  } catch (const YAML::Exception& e) {
    const int line = e.mark.is_null() ? 0 : e.mark.line + 1;
    throw LoadError({display_name, line}, "invalid YAML: " + e.msg);
  }
  Converter converter(display_name, limits);
  try {
    return converter.convert(root, 0);
  } catch (const YAML::Exception& e) {
    const int line = e.mark.is_null() ? 0 : e.mark.line + 1;
    throw LoadError({display_name, line}, "invalid YAML: " + e.msg);
  }
}

std::string read_failure(const std::error_code& ec) {
  if (ec == std::errc::permission_denied || ec == std::errc::operation_not_permitted) {
    return ec.message() + " (the agent runs as uid " + std::to_string(::geteuid()) +
           ", which may not read it or a directory above it; under the packaged unit see docs/install.md, "
           "\"Compose files in home directories\")";
  }
  return ec.message();
}

Node load_yaml_file(const std::string& path, const std::string& display_name, const YamlLimits& limits) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    throw LoadError({display_name, 0}, "cannot read the file: " + read_failure(ec));
  }
  if (size > limits.max_file_bytes) {
    throw LoadError({display_name, 0}, "file is " + std::to_string(size >> 20) +
                                           " MiB, larger than the limit of " +
                                           std::to_string(limits.max_file_bytes >> 20) +
                                           " MiB; refusing to read it");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw LoadError({display_name, 0}, "cannot open the file: " + read_failure({errno, std::generic_category()}));
  std::string text;
  text.resize(static_cast<std::size_t>(size));
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  // The file may have grown since file_size: read at most one byte more to notice.
  if (in.peek() != std::char_traits<char>::eof()) {
    throw LoadError({display_name, 0}, "file changed while being read");
  }
  return parse_yaml(text, display_name, limits);
}

}  // namespace composewatch::compose::detail
