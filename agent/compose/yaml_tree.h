#pragma once
// A Compose file as a plain tree with the line of every node. yaml-cpp parses; this
// layer bounds what it may cost (file size, nesting depth, nodes visited after alias
// expansion), resolves `<<` merge keys, and keeps the file and line for messages.
//
// Error policy: every function here throws compose::LoadError ("FILE:LINE: reason").

#include <cstddef>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "composewatch/compose/model.h"

namespace composewatch::compose::detail {

struct YamlLimits {
  std::size_t max_file_bytes = 10u << 20;  // 10 MiB; real Compose files are a few KiB
  int max_depth = 100;                     // nesting of block and flow collections
  std::size_t max_nodes = 200'000;         // nodes visited, an alias counting as its whole subtree
};

struct NodeEntry;

struct Node {
  enum class Kind { null, scalar, sequence, mapping };
  Kind kind = Kind::null;
  // Compose v2's merge tags: `!reset` drops what earlier files set for this key (the node
  // itself is null), `!override` replaces it whole instead of merging.
  enum class Tag { none, reset, override };
  Tag tag = Tag::none;
  std::string scalar;                               // Kind::scalar
  bool quoted = false;                              // the scalar was written in quotes
  bool substituted = false;                         // interpolation replaced a variable in it
  std::vector<std::string> unset;                   // variables it used that had no value
  std::optional<std::size_t> first_unknown;         // where text from such a variable begins in `scalar`
  std::vector<Node> items;                          // Kind::sequence
  std::vector<NodeEntry> entries;                    // Kind::mapping, in file order
  SourceLocation location;
  int key_line = 0;  // as a mapping value: the line of its key (1-based; 0 when unknown)

  // Where the key of this value was written, else the value itself.
  SourceLocation key_location() const { return key_line > 0 ? SourceLocation{location.file, key_line} : location; }

  bool is_null() const { return kind == Kind::null; }
  bool is_scalar() const { return kind == Kind::scalar; }
  bool is_sequence() const { return kind == Kind::sequence; }
  bool is_mapping() const { return kind == Kind::mapping; }

  // Mapping lookup; nullptr when absent (or when this is not a mapping).
  const Node* find(const std::string& key) const;
  Node* find(const std::string& key);
  // Sets or replaces a mapping entry, keeping the position of an existing one.
  void set(const std::string& key, Node value);
  void erase(const std::string& key);
  // "a mapping", "a list", "a string", "null": for "expected X, got Y" messages.
  std::string kind_name() const;
};

// One `key: value` of a mapping, used like std::pair. Not a std::pair<std::string, Node>:
// clang-14 with libstdc++ 12 in C++20 instantiates the pair while Node is incomplete and
// rejects it, and the fuzz harnesses are built with clang.
struct NodeEntry {
  NodeEntry(std::string key, Node value) : first(std::move(key)), second(std::move(value)) {}
  std::string first;
  Node second;
};

// Parses `text` (the contents of `display_name`). The size limit is applied to the text.
Node parse_yaml(const std::string& text, const std::string& display_name,
                const YamlLimits& limits = {});

// Reads and parses a file, checking its size before reading it.
// Why a compose or env file could not be read, for a LoadError: the system's reason and,
// when it is a permission, whose permission (the agent often runs as another user than
// the deployer: under the packaged unit, see docs/install.md).
std::string read_failure(const std::error_code& ec);

Node load_yaml_file(const std::string& path, const std::string& display_name,
                    const YamlLimits& limits = {});

// The deepest nesting of collections in `text`, estimated without parsing (block
// indentation, compact "- - x" sequences and flow brackets), so that deep input is
// refused before a recursive parser sees it. Stops counting once above `stop_at` and
// returns the line where it got there through `line` (1-based).
int estimate_nesting_depth(const std::string& text, int stop_at, int* line);

}  // namespace composewatch::compose::detail
