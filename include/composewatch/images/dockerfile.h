#pragma once
// A Dockerfile as BuildKit's frontend reads it: pure parsing, no I/O.
//
// Handled: parser directives at the top (`# syntax=…`, `# escape=\` or `` ` ``), comments,
// line continuations (with comment and empty lines inside them), heredocs after RUN, COPY
// and ADD (`<<EOF`, `<<-EOF`, quoted delimiters, several per line), exec (JSON) and shell
// forms, leading `--flag=value` options, FROM … AS name, ARG before the first FROM and its
// substitution into FROM (`$X`, `${X}`, `${X:-d}`, `${X-d}`, `${X:+r}`, `${X+r}`), and
// stage inheritance (`FROM builder`).
//
// Bounded: at most kMaxDockerfileBytes of input and kMaxInstructions instructions are
// read; anything beyond is left out with a warning. Never throws for any input.

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace composewatch::images {

inline constexpr std::size_t kMaxDockerfileBytes = 1 << 20;
inline constexpr std::size_t kMaxInstructions = 10'000;

struct Heredoc {
  std::string name;  // the delimiter
  std::string body;  // the lines between the instruction and the delimiter, '\n'-joined
  bool strip_tabs = false;  // <<-
};

struct Instruction {
  std::string keyword;  // upper case: FROM, RUN, COPY, …
  int line = 0;         // 1-based line of the keyword
  std::vector<std::string> flags;  // leading --name=value options, as written ("--from=build")
  std::string args;                // the rest; a continuation is joined as BuildKit does (escape and newline removed)
  bool exec_form = false;          // args is a JSON array of strings: see `exec`
  std::vector<std::string> exec;
  std::vector<Heredoc> heredocs;

  // The value of --name=value, nullopt when absent; "" for a bare --name.
  std::optional<std::string> flag(std::string_view name) const;
};

struct Stage {
  std::size_t index = 0;
  int line = 0;              // of its FROM
  std::string base;          // FROM's image as written
  std::string base_resolved; // after ARG substitution
  std::string name;          // AS name, lower case; empty when unnamed
  // Index of the earlier stage it is built FROM (`FROM builder`); nullopt for an image.
  std::optional<std::size_t> parent;
  std::vector<Instruction> instructions;  // after FROM, FROM itself excluded
};

struct Dockerfile {
  std::map<std::string, std::string> directives;  // lower-case name → value
  char escape = '\\';
  std::vector<Instruction> instructions;  // every instruction, in order
  std::vector<Instruction> meta_args;     // ARG before the first FROM
  std::vector<Stage> stages;
  std::vector<std::string> warnings;  // "line 3: …"

  // The stage with this name (case-insensitive) or index; nullptr when none.
  const Stage* stage(std::string_view name_or_index) const;
  // The stage a build of `target` ends with: that stage, or the last when target is empty
  // or unknown. nullptr when there are no stages.
  const Stage* final_stage(std::string_view target = {}) const;
  // `s` and the stages it is built FROM, nearest first.
  std::vector<const Stage*> lineage(const Stage& s) const;
};

// `build_args` (compose build.args) override the defaults of ARGs before FROM.
Dockerfile parse_dockerfile(std::string_view text, const std::map<std::string, std::string>& build_args = {});

// Substitutes $X / ${X…} in `word` from `vars` (unset variables read as empty).
std::string substitute(std::string_view word, const std::map<std::string, std::string>& vars, char escape = '\\');

// ------------------------------------------------------------------ shell commands

// One simple command of a shell script: its words with quotes removed; leading VAR=value
// assignments and `sudo`/`env`/`exec`/`command` wrappers dropped.
struct Command {
  std::vector<std::string> words;
  std::string program() const;  // words[0] without its directory; "" when empty
};

// Splits a RUN's shell script (or a heredoc body) into simple commands on `&&`, `||`, `;`,
// `|`, `&` and newlines, outside quotes; `\`-newline joins lines. Subshell and brace
// parentheses are dropped. Bounded by the input's length.
std::vector<Command> split_commands(std::string_view script);

// The script a RUN executes: its shell form, its exec form's `sh -c` script, or the body of
// its heredocs when the command line is only the heredoc redirection.
std::string run_script(const Instruction& run);

}  // namespace composewatch::images
