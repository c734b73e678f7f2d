#include "composewatch/state/store.h"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

#include "composewatch/log/log.h"

namespace composewatch::state {

namespace fs = std::filesystem;

StateFile::StateFile(fs::path dir) : dir_(std::move(dir)), path_(dir_ / "state.json") {}

std::optional<SavedState> StateFile::read(std::string& why) const {
  std::error_code ec;
  std::optional<SavedState> state;
  const auto size = fs::file_size(path_, ec);
  if (ec) {
    why = "cannot read it: " + ec.message();
  } else if (size > kMaxBytes) {
    why = "larger than " + std::to_string(kMaxBytes >> 20) + " MiB";
  } else {
    std::ifstream in(path_, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    if (!in && !in.eof()) {
      why = std::string("cannot read it: ") + std::strerror(errno);
    } else {
      auto decoded = decode_saved_state(text.str());
      if (decoded.state)
        state = std::move(decoded.state);
      else
        why = decoded.error;
    }
  }
  return state;
}

std::optional<SavedState> StateFile::peek(std::string& why) const {
  std::error_code ec;
  if (!fs::exists(path_, ec)) {
    why = ec ? "cannot read " + path_.string() + ": " + ec.message() : "no " + path_.string();
    return std::nullopt;
  }
  auto state = read(why);
  if (!state) why = path_.string() + ": " + why;
  return state;
}

std::optional<SavedState> StateFile::load() const {
  std::error_code ec;
  if (!fs::exists(path_, ec)) {
    log::info("no saved state: counting from zero", {{"file", path_.string()}});
    return std::nullopt;
  }
  std::string why;
  std::optional<SavedState> state = read(why);
  if (state) return state;
  // Set aside, never deleted: it may be the only record of what was counted.
  const fs::path aside = path_.string() + ".bad-" + std::to_string(std::time(nullptr));
  fs::rename(path_, aside, ec);
  log::warn("saved state not used, counting from zero",
            {{"file", path_.string()}, {"error", why}, {"set_aside_as", ec ? std::string() : aside.string()},
             {"rename_error", ec ? ec.message() : std::string()}});
  return std::nullopt;
}

namespace {
[[noreturn]] void fail(const std::string& step, const fs::path& p) {
  throw std::runtime_error(step + " " + p.string() + ": " + std::strerror(errno));
}
}  // namespace

void StateFile::save(const SavedState& state) const { save_text(encode_saved_state(state)); }

void StateFile::save_text(const std::string& text) const {
  const fs::path tmp = path_.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) fail("cannot create", tmp);
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int saved = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      errno = saved;
      fail("cannot write", tmp);
    }
    done += std::size_t(n);
  }
  if (::fsync(fd) != 0) {
    const int saved = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    errno = saved;
    fail("cannot fsync", tmp);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    const int saved = errno;
    ::unlink(tmp.c_str());
    errno = saved;
    fail("cannot rename over", path_);
  }
  // The rename is durable once the directory is.
  const int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace composewatch::state
