#pragma once
// The state file in --state.dir (state.json), read once at start and written by the
// StateSaver. Writes are atomic: a temporary file in the same directory, fsync, rename
// over the old one, fsync of the directory — a crash or power cut leaves the old file or
// the new one, never half of one.
//
// Error policy: load() never throws and never fails the start: a missing file is a first
// start; an unreadable, corrupt, truncated, foreign or newer-version file is logged with
// why and renamed aside (state.json.bad-<unix time>) so that the next save does not
// destroy what someone may want to look at. save() throws std::runtime_error naming the
// path and the failing step.

#include <filesystem>
#include <optional>
#include <string>

#include "composewatch/state/saved.h"

namespace composewatch::state {

class StateFile {
 public:
  static constexpr std::size_t kMaxBytes = 64 * 1024 * 1024;

  explicit StateFile(std::filesystem::path dir);
  const std::filesystem::path& path() const { return path_; }

  std::optional<SavedState> load() const;
  // Reads the file without touching it (a one-shot command beside a running agent):
  // nullopt with `why` when it is missing, unreadable or not a state file.
  std::optional<SavedState> peek(std::string& why) const;
  void save(const SavedState& state) const;
  // The text as save() writes it (for writers that skip unchanged state).
  void save_text(const std::string& text) const;

 private:
  std::optional<SavedState> read(std::string& why) const;  // the file exists
  std::filesystem::path dir_, path_;
};

}  // namespace composewatch::state
