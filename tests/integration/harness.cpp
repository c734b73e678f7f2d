#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace itest {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

std::string trim_newlines(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::string tail_lines(const std::string& text, std::size_t n) {
  std::size_t pos = text.size();
  for (std::size_t i = 0; i <= n && pos > 0; ++i) {
    pos = text.rfind('\n', pos - 1);
    if (pos == std::string::npos) return text;
  }
  return text.substr(pos + 1);
}


}  // namespace

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ---------------------------------------------------------------------------- shell

ShResult sh(const std::string& cmd, std::chrono::milliseconds timeout) {
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe: " + std::string(std::strerror(errno)));
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork: " + std::string(std::strerror(errno)));
  if (pid == 0) {
    setpgid(0, 0);  // so that a timeout can kill everything the command started
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  setpgid(pid, pid);

  ShResult r;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_fds = 2;
  auto deadline = Clock::now() + timeout;
  bool timed_out = false;
  int status = 0;
  bool reaped = false;
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    int n = poll(fds, 2, static_cast<int>(std::min<long long>(left.count(), 200)));
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[65536];
      ssize_t got = read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
    // A daemon the command left behind may hold the pipes open: stop at the command's exit.
    if (open_fds > 0 && n == 0 && !reaped && waitpid(pid, &status, WNOHANG) == pid) reaped = true;
    if (reaped && n == 0) break;
  }
  for (auto& f : fds)
    if (f.fd >= 0) close(f.fd);
  if (timed_out) {
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
  }
  if (!reaped) waitpid(pid, &status, 0);
  r.code = timed_out ? 124 : decode_status(status);
  if (timed_out) r.err += "\n[harness: timed out after " + std::to_string(timeout.count()) + " ms]";
  return r;
}

std::string must(const std::string& cmd, std::chrono::milliseconds timeout) {
  ShResult r = sh(cmd, timeout);
  if (r.code != 0)
    throw std::runtime_error("command failed (exit " + std::to_string(r.code) + "): " + cmd +
                             "\n--- stdout:\n" + r.out + "\n--- stderr:\n" + r.err);
  return trim_newlines(r.out);
}

std::string quote(std::string_view s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'')
      q += "'\\''";
    else
      q += c;
  }
  return q + "'";
}

std::string unique_name(std::string_view prefix) {
  static std::atomic<unsigned> counter{0};
  return "cwit-" + std::to_string(getpid()) + "-" + std::string(prefix) + "-" +
         std::to_string(++counter);
}

testing::AssertionResult eventually(const std::function<bool()>& pred,
                                    std::chrono::milliseconds timeout, const std::string& what,
                                    const std::function<std::string()>& describe,
                                    std::chrono::milliseconds poll) {
  auto start = Clock::now();
  auto deadline = start + timeout;
  for (;;) {
    if (pred()) return testing::AssertionSuccess();
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(poll);
  }
  auto r = testing::AssertionFailure() << "not within " << timeout.count() << " ms: " << what;
  if (describe) r << "\n" << describe();
  return r;
}

// ------------------------------------------------------------------------- clean-up

Cleanup::~Cleanup() { run(); }

void Cleanup::run() {
  while (!steps_.empty()) {
    auto step = std::move(steps_.back());
    steps_.pop_back();
    try {
      step();
    } catch (const std::exception& e) {
      std::cerr << "[cleanup] " << e.what() << "\n";
    }
  }
}

void Cleanup::add(std::function<void()> step) { steps_.push_back(std::move(step)); }

namespace {
void cleanup_cmd(const std::string& cmd) {
  ShResult r = sh(cmd, 120s);
  if (r.code != 0) std::cerr << "[cleanup] exit " << r.code << ": " << cmd << "\n" << r.err << "\n";
}
}  // namespace

void Cleanup::container(const std::string& name) {
  // Where the agent and the engine disagree, what the engine said of the container is
  // what a failure needs: its events since it was registered, and its final state.
  const auto since = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count() - 2;
  add([name, since] {
    if (testing::Test::HasFailure()) {
      ShResult ev = sh("docker events --since " + std::to_string(since) + " --until \"$(date +%s.%N)\" --filter container=" +
                           quote(name) + " --format '{{.TimeNano}} {{.Action}} {{json .Actor.Attributes}}' 2>&1",
                       10s);
      ShResult st = sh("docker inspect -f '{{json .State}}' " + quote(name) + " 2>&1", 10s);
      std::cerr << "---- engine events of " << name << " ----\n" << ev.out << "---- its state: " << st.out
                << "---- end of " << name << " ----\n";
    }
    ShResult r = sh("docker rm -f -v " + quote(name), 120s);
    if (r.code != 0 && r.err.find("No such container") == std::string::npos)
      std::cerr << "[cleanup] docker rm -f " << name << ": " << r.err << "\n";
  });
}

void Cleanup::compose(const fs::path& file, const std::string& project) {
  add([file, project] {
    if (fs::exists(file))
      cleanup_cmd("docker-compose -p " + quote(project) + " -f " + quote(file.string()) +
                  " down -v --remove-orphans -t 0 2>&1");
    std::string label = quote("label=com.docker.compose.project=" + project);
    cleanup_cmd("docker ps -aq --filter " + label + " | xargs -r docker rm -f -v >/dev/null");
    cleanup_cmd("docker network ls -q --filter " + label + " | xargs -r docker network rm >/dev/null");
    cleanup_cmd("docker volume ls -q --filter " + label + " | xargs -r docker volume rm >/dev/null");
  });
}

void Cleanup::network(const std::string& name) {
  add([name] {
    ShResult r = sh("docker network rm " + quote(name), 60s);
    if (r.code != 0 && r.err.find("not found") == std::string::npos)
      std::cerr << "[cleanup] docker network rm " << name << ": " << r.err << "\n";
  });
}

void Cleanup::path(const fs::path& p) {
  add([p] {
    std::error_code ec;
    fs::remove_all(p, ec);
    if (ec) std::cerr << "[cleanup] remove " << p << ": " << ec.message() << "\n";
  });
}

fs::path make_temp_dir(Cleanup& cleanup, std::string_view prefix) {
  std::string tmpl = "/tmp/cwit-" + std::to_string(getpid()) + "-" + std::string(prefix) + "-XXXXXX";
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp: " + std::string(std::strerror(errno)));
  cleanup.path(tmpl);
  return tmpl;
}

std::string inspect(const std::string& name, const std::string& format) {
  return must("docker inspect -f " + quote(format) + " " + quote(name));
}

testing::AssertionResult inspect_eventually(const std::string& name, const std::string& format,
                                            const std::string& expected,
                                            std::chrono::milliseconds timeout) {
  ShResult last;
  auto pred = [&] {
    last = sh("docker inspect -f " + quote(format) + " " + quote(name), 30s);
    return last.code == 0 && trim_newlines(last.out) == expected;
  };
  return eventually(pred, timeout, "docker inspect -f '" + format + "' " + name + " == " + expected,
                    [&] { return "last: exit " + std::to_string(last.code) + ": " + last.out + last.err; });
}

std::string short_id(const std::string& container) {
  return inspect(container, "{{.Id}}").substr(0, 12);
}

// ----------------------------------------------------------------------------- HTTP

std::string HttpResponse::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string strip(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

std::string dechunk(std::string_view in) {
  std::string out;
  for (;;) {
    auto eol = in.find("\r\n");
    if (eol == std::string_view::npos) throw std::runtime_error("http: truncated chunk size");
    std::string size_text(in.substr(0, eol));
    size_text = size_text.substr(0, size_text.find(';'));
    std::size_t size = std::stoul(size_text, nullptr, 16);
    in.remove_prefix(eol + 2);
    if (size == 0) return out;
    if (in.size() < size + 2) throw std::runtime_error("http: truncated chunk");
    out.append(in.substr(0, size));
    in.remove_prefix(size + 2);
  }
}

}  // namespace

HttpResponse http_get(const std::string& host, int port, const std::string& target,
                      const std::map<std::string, std::string>& extra_headers,
                      std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  auto left_ms = [&] {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) throw std::runtime_error("http: GET " + target + " timed out");
    return static_cast<int>(left);
  };
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};

  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1)
    throw std::runtime_error("http: bad IPv4 address " + host);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS) throw std::runtime_error("http: connect: " + std::string(std::strerror(errno)));
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, left_ms()) != 1) throw std::runtime_error("http: connect timed out");
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) throw std::runtime_error("http: connect: " + std::string(std::strerror(err)));
  }

  std::string req = "GET " + target + " HTTP/1.1\r\nHost: " + host + ":" + std::to_string(port) +
                    "\r\nUser-Agent: composewatch-itest\r\nConnection: close\r\n";
  for (const auto& [k, v] : extra_headers) req += k + ": " + v + "\r\n";
  req += "\r\n";
  std::size_t sent = 0;
  while (sent < req.size()) {
    ssize_t n = send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR)
      throw std::runtime_error("http: send: " + std::string(std::strerror(errno)));
    pollfd p{fd, POLLOUT, 0};
    poll(&p, 1, left_ms());
  }

  std::string raw;
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    int n = poll(&p, 1, left_ms());
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) continue;  // left_ms() throws once the deadline passes
    char buf[65536];
    ssize_t got = recv(fd, buf, sizeof buf, 0);
    if (got > 0) {
      raw.append(buf, static_cast<std::size_t>(got));
    } else if (got == 0) {
      break;
    } else if (errno != EAGAIN && errno != EINTR) {
      if (errno == ECONNRESET && !raw.empty()) break;
      throw std::runtime_error("http: recv: " + std::string(std::strerror(errno)));
    }
  }

  auto head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos) throw std::runtime_error("http: no complete response head for " + target);
  HttpResponse r;
  std::istringstream head(raw.substr(0, head_end));
  std::string line;
  std::getline(head, line);
  if (line.rfind("HTTP/1.", 0) != 0 || line.size() < 12) throw std::runtime_error("http: bad status line: " + line);
  r.status = std::stoi(line.substr(9, 3));
  while (std::getline(head, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    r.headers[lower(line.substr(0, colon))] = strip(std::string_view(line).substr(colon + 1));
  }
  std::string_view body(raw);
  body.remove_prefix(head_end + 4);
  if (lower(r.header("transfer-encoding")).find("chunked") != std::string::npos) {
    r.body = dechunk(body);
  } else if (auto cl = r.header("content-length"); !cl.empty()) {
    std::size_t len = std::stoul(cl);
    if (body.size() < len) throw std::runtime_error("http: body shorter than Content-Length");
    r.body = std::string(body.substr(0, len));
  } else {
    r.body = std::string(body);
  }
  return r;
}

std::string gunzip(std::string_view data) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) throw std::runtime_error("inflateInit2 failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[65536];
  int rc;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      throw std::runtime_error("gunzip: malformed data (zlib " + std::to_string(rc) + ")");
    }
    out.append(buf, sizeof buf - zs.avail_out);
  } while (rc != Z_STREAM_END && (zs.avail_in > 0 || zs.avail_out == 0));
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("gunzip: truncated data");
  return out;
}

// ------------------------------------------------------------------- metrics parsing

namespace {

bool name_char(char c, bool first) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':' ||
         (!first && std::isdigit(static_cast<unsigned char>(c)));
}

double parse_value(const std::string& tok) {
  if (tok == "+Inf" || tok == "Inf") return INFINITY;
  if (tok == "-Inf") return -INFINITY;
  if (tok == "NaN") return NAN;
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(tok.c_str(), &end);
  if (tok.empty() || *end != '\0' || std::isinf(v) || std::isnan(v))
    throw std::runtime_error("bad value '" + tok + "'");
  return v;
}

Sample parse_sample(std::string_view line) {
  Sample s;
  std::size_t i = 0;
  while (i < line.size() && name_char(line[i], i == 0)) ++i;
  if (i == 0) throw std::runtime_error("no metric name");
  s.name = std::string(line.substr(0, i));
  if (i < line.size() && line[i] == '{') {
    ++i;
    for (;;) {
      while (i < line.size() && line[i] == ' ') ++i;
      if (i < line.size() && line[i] == '}') {
        ++i;
        break;
      }
      std::size_t start = i;
      while (i < line.size() && name_char(line[i], i == start) && line[i] != ':') ++i;
      if (i == start) throw std::runtime_error("bad label name");
      std::string key(line.substr(start, i - start));
      if (i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"')
        throw std::runtime_error("expected =\" after label " + key);
      i += 2;
      std::string val;
      for (;;) {
        if (i >= line.size()) throw std::runtime_error("unterminated label value");
        char c = line[i++];
        if (c == '"') break;
        if (c == '\\') {
          if (i >= line.size()) throw std::runtime_error("dangling escape");
          char e = line[i++];
          if (e == 'n')
            val += '\n';
          else if (e == '\\' || e == '"')
            val += e;
          else
            throw std::runtime_error(std::string("bad escape \\") + e);
        } else {
          val += c;
        }
      }
      if (!s.labels.emplace(key, val).second) throw std::runtime_error("duplicate label " + key);
      while (i < line.size() && line[i] == ' ') ++i;
      if (i < line.size() && line[i] == ',') {
        ++i;
        continue;
      }
      if (i < line.size() && line[i] == '}') {
        ++i;
        break;
      }
      throw std::runtime_error("expected , or } after label " + key);
    }
  }
  if (i >= line.size() || (line[i] != ' ' && line[i] != '\t')) throw std::runtime_error("no value");
  std::istringstream rest{std::string(line.substr(i))};
  std::string value, timestamp, extra;
  rest >> value >> timestamp >> extra;
  if (!extra.empty()) throw std::runtime_error("trailing text");
  s.value = parse_value(value);
  if (!timestamp.empty()) {
    char* end = nullptr;
    std::strtoll(timestamp.c_str(), &end, 10);
    if (*end != '\0') throw std::runtime_error("bad timestamp '" + timestamp + "'");
  }
  return s;
}

bool labels_include(const Labels& have, const Labels& want) {
  for (const auto& [k, v] : want) {
    auto it = have.find(k);
    if (it == have.end() || it->second != v) return false;
  }
  return true;
}

}  // namespace

Metrics Metrics::parse(std::string_view text) {
  Metrics m;
  std::size_t line_no = 0;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    try {
      m.samples_.push_back(parse_sample(line));
    } catch (const std::exception& e) {
      throw std::runtime_error("metrics line " + std::to_string(line_no) + ": " + e.what() +
                               ": " + std::string(line));
    }
  }
  return m;
}

std::vector<const Sample*> Metrics::find(const std::string& name, const Labels& labels) const {
  std::vector<const Sample*> out;
  for (const auto& s : samples_)
    if (s.name == name && labels_include(s.labels, labels)) out.push_back(&s);
  return out;
}

std::optional<double> Metrics::value(const std::string& name, const Labels& labels) const {
  auto found = find(name, labels);
  if (found.empty()) return std::nullopt;
  if (found.size() > 1) {
    std::string all;
    for (const auto* s : found) all += "\n  " + format_sample(*s);
    throw std::runtime_error("ambiguous: " + std::to_string(found.size()) + " series match " + name +
                             format_labels(labels) + ":" + all);
  }
  return found.front()->value;
}

std::string Metrics::lines(const std::string& prefix, const Labels& labels) const {
  std::string out;
  for (const auto& s : samples_)
    if (s.name.rfind(prefix, 0) == 0 && labels_include(s.labels, labels)) out += format_sample(s) + "\n";
  return out;
}

std::string format_labels(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ",";
    first = false;
    out += k + "=\"" + v + "\"";
  }
  return out + "}";
}

std::string format_sample(const Sample& s) {
  std::ostringstream ss;
  ss << s.name << format_labels(s.labels) << " " << s.value;
  return ss.str();
}

// ------------------------------------------------------------------------ processes

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    throw std::runtime_error("bind: " + std::string(std::strerror(errno)));
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

namespace {

bool accepts_connections(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

}  // namespace

ServiceProcess::ServiceProcess(std::string name, std::vector<std::string> args, ServiceOptions options)
    : name_(std::move(name)) {
  std::string tmpl = "/tmp/cwit-" + std::to_string(getpid()) + "-" + name_ + "-XXXXXX";
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp: " + std::string(std::strerror(errno)));
  dir_ = tmpl;
  log_path_ = dir_ / (name_ + ".log");

  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : options.env) {
    if (v)
      env[k] = *v;
    else
      env.erase(k);
  }
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  {
    std::ofstream log_file(log_path_);
    log_file << "[harness] exec";
    for (const auto& a : args) log_file << " " << a;
    log_file << "\n";
  }
  pid_t parent = getpid();
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork: " + std::string(std::strerror(errno)));
  if (pid_ == 0) {
    // Dies with the test process, whatever kills it.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    int log_fd = open(log_path_.c_str(), O_WRONLY | O_APPEND);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(argv[0], argv.data(), envp.data());
    dprintf(2, "[harness] exec %s: %s\n", argv[0], std::strerror(errno));
    _exit(127);
  }

  if (options.wait_port == 0) return;
  auto deadline = Clock::now() + options.wait;
  while (!accepts_connections(options.wait_port)) {
    std::string failure;
    if (!running())
      failure = name_ + " exited (status " + std::to_string(*status_) + ") before listening";
    else if (Clock::now() >= deadline)
      failure = name_ + " is not listening on port " + std::to_string(options.wait_port) + " after " +
                std::to_string(options.wait.count() / 1000) + " s";
    if (!failure.empty()) {
      // The destructor will not run: undo here.
      stop();
      failure += "; log:\n" + log_tail();
      std::error_code ec;
      fs::remove_all(dir_, ec);
      throw std::runtime_error(failure);
    }
    std::this_thread::sleep_for(50ms);
  }
}

ServiceProcess::~ServiceProcess() {
  stop();
  // In the sanitizer builds (scripts/sanitize.sh) the agent is instrumented too: a report
  // it printed, also one at exit (leaks), fails the test that ran it.
  const std::string text = log();
  for (const char* report : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", ": runtime error: ",
                             "WARNING: ThreadSanitizer"}) {
    if (text.find(report) != std::string::npos) ADD_FAILURE() << name_ << " printed a sanitizer report";
  }
  if (testing::Test::HasFailure())
    std::cerr << "---- " << name_ << " log (last lines) ----\n" << log_tail() << "---- end of " << name_ << " log ----\n";
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

bool ServiceProcess::running() {
  if (status_) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    status_ = decode_status(status);
    return false;
  }
  return true;
}

int ServiceProcess::reap(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (running()) {
    if (Clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(20ms);
  }
  return *status_;
}

int ServiceProcess::stop() {
  if (!running()) return *status_;
  kill(pid_, SIGTERM);
  if (reap(10s) >= 0) return *status_;
  std::cerr << "[harness] " << name_ << " ignored SIGTERM for 10 s; killing it\n";
  kill(pid_, SIGKILL);
  reap(10s);
  return status_.value_or(-1);
}

std::string ServiceProcess::log() const { return read_text(log_path_); }

std::string ServiceProcess::log_tail(std::size_t lines) const { return tail_lines(log(), lines); }

// ---------------------------------------------------------------------------- agent

namespace {

std::vector<std::string> agent_args(const AgentOptions& options, int port, const fs::path& state) {
  std::vector<std::string> args = {agent_binary().string(), "run",
                                   "--web.listen-address=127.0.0.1:" + std::to_string(port), "--log.level=" + options.log_level,
                                   "--state.dir=" + state.string()};
  args.insert(args.end(), options.args.begin(), options.args.end());
  return args;
}

fs::path fresh_state_dir() {
  std::string tmpl = "/tmp/cwit-" + std::to_string(getpid()) + "-state-XXXXXX";
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp: " + std::string(std::strerror(errno)));
  return tmpl;
}

}  // namespace

AgentProcess::AgentProcess(AgentOptions options)
    : port_(free_port()),
      state_(options.state_dir.empty() ? fresh_state_dir() : options.state_dir),
      own_state_(options.state_dir.empty()),
      process_("agent", agent_args(options, port_, state_),
               ServiceOptions{.env = options.env, .wait_port = options.wait_listening ? port_ : 0, .wait = 20s}) {}

AgentProcess::~AgentProcess() {
  std::error_code ec;
  if (own_state_) fs::remove_all(state_, ec);
}

std::string AgentProcess::log() const { return process_.log(); }

std::string AgentProcess::log_tail(std::size_t lines) const { return process_.log_tail(lines); }

HttpResponse AgentProcess::get(const std::string& target,
                               const std::map<std::string, std::string>& headers) const {
  return http_get("127.0.0.1", port_, target, headers);
}

Metrics AgentProcess::scrape() const {
  HttpResponse r = get("/metrics");
  if (r.status != 200) throw std::runtime_error("GET /metrics: status " + std::to_string(r.status) + "\n" + r.body);
  return Metrics::parse(r.body);
}

namespace {

// What a failure message shows of the last scrape: the series of `name` for the same
// container when the labels name one, else all of them (bounded).
std::string evidence(const Metrics& m, const std::string& name, const Labels& labels) {
  Labels focus;
  if (auto it = labels.find("container"); it != labels.end()) focus.insert(*it);
  std::string lines = m.lines(name, focus);
  if (lines.size() > 4000) lines = lines.substr(0, 4000) + "...\n";
  return lines.empty() ? "(no series " + name + format_labels(focus) + ")\n" : lines;
}

}  // namespace

testing::AssertionResult metric_eventually(const AgentProcess& agent, const std::string& name,
                                           const Labels& labels,
                                           const std::function<bool(std::optional<double>)>& ok,
                                           const std::string& expectation,
                                           std::chrono::milliseconds timeout) {
  std::optional<Metrics> last;
  std::string last_error;
  std::optional<double> last_value;
  auto pred = [&] {
    try {
      last = agent.scrape();
      last_error.clear();
      last_value = last->value(name, labels);
      return ok(last_value);
    } catch (const std::exception& e) {
      last_error = e.what();
      return false;
    }
  };
  return eventually(pred, timeout, name + format_labels(labels) + " " + expectation, [&] {
    std::string d = "last value: " + (last_value ? std::to_string(*last_value) : std::string("absent")) + "\n";
    if (!last_error.empty()) d += "last error: " + last_error + "\n";
    if (last) d += "last scrape:\n" + evidence(*last, name, labels);
    return d;
  });
}

testing::AssertionResult metric_eventually_eq(const AgentProcess& agent, const std::string& name,
                                              const Labels& labels, double expected,
                                              std::chrono::milliseconds timeout) {
  std::ostringstream what;
  what << "== " << expected;
  return metric_eventually(
      agent, name, labels, [expected](std::optional<double> v) { return v && *v == expected; },
      what.str(), timeout);
}

testing::AssertionResult metric_stays_eq(const AgentProcess& agent, const std::string& name,
                                         const Labels& labels, double expected,
                                         std::chrono::milliseconds duration) {
  auto deadline = Clock::now() + duration;
  while (Clock::now() < deadline) {
    Metrics m = agent.scrape();
    std::optional<double> v = m.value(name, labels);
    if (!v || *v != expected)
      return testing::AssertionFailure()
             << name << format_labels(labels) << " changed: expected to stay " << expected << ", now "
             << (v ? std::to_string(*v) : std::string("absent")) << "\n" << evidence(m, name, labels);
    std::this_thread::sleep_for(200ms);
  }
  return testing::AssertionSuccess();
}

testing::AssertionResult metric_eventually_absent(const AgentProcess& agent,
                                                  const std::string& name, const Labels& labels,
                                                  std::chrono::milliseconds timeout) {
  std::optional<Metrics> last;
  std::string last_error;
  auto pred = [&] {
    try {
      last = agent.scrape();
      last_error.clear();
      return last->find(name, labels).empty();
    } catch (const std::exception& e) {
      last_error = e.what();
      return false;
    }
  };
  return eventually(pred, timeout, name + format_labels(labels) + " to disappear", [&] {
    std::string d;
    if (!last_error.empty()) d += "last error: " + last_error + "\n";
    if (last) d += "last scrape:\n" + evidence(*last, name, labels);
    return d;
  });
}

// ------------------------------------------------------------------------- fixtures

const std::vector<std::string>& host_metric_families() {
  static const std::vector<std::string> families = {
      "composewatch_engine_up", "composewatch_engine_info", "composewatch_build_info", "composewatch_events_total",
      "composewatch_event_stream_reconnects_total", "composewatch_event_gap_seconds", "composewatch_event_stream_errors_total",
      "composewatch_collector_duration_seconds",
      "composewatch_collector_success", "process_resident_memory_bytes", "process_cpu_seconds_total",
      "process_open_fds", "process_start_time_seconds", "composewatch_container_info", "composewatch_container_state",
      "composewatch_container_health_status", "composewatch_container_health_failing_streak",
      "composewatch_container_started_timestamp_seconds", "composewatch_container_oom_kills_total",
      "composewatch_container_restarts_total", "composewatch_container_memory_usage_bytes",
      "composewatch_container_memory_working_set_bytes", "composewatch_container_memory_limit_bytes",
      "composewatch_container_cpu_seconds_total", "composewatch_container_cpu_throttled_seconds_total",
      "composewatch_container_cpu_periods_total", "composewatch_container_cpu_throttled_periods_total",
      "composewatch_container_pids", "composewatch_container_network_receive_bytes_total",
      "composewatch_container_network_transmit_bytes_total", "composewatch_container_blkio_read_bytes_total",
      "composewatch_container_blkio_write_bytes_total", "composewatch_disk_usage_bytes",
      "composewatch_disk_reclaimable_bytes", "composewatch_disk_objects", "composewatch_filesystem_avail_bytes",
      "composewatch_filesystem_size_bytes"};
  return families;
}

fs::path source_dir() { return COMPOSEWATCH_SOURCE_DIR; }
fs::path fixtures_dir() { return fs::path(COMPOSEWATCH_FIXTURES) / "integration"; }
fs::path agent_binary() { return COMPOSEWATCH_BIN; }

Labels container_series(const std::string& project, const std::string& service,
                        const std::string& container) {
  return {{"project", project}, {"service", service}, {"container", container}};
}

Labels with(Labels labels, const std::string& key, const std::string& value) {
  labels[key] = value;
  return labels;
}

std::string compose_labels(const std::string& project, const std::string& service) {
  return "--label " + quote("com.docker.compose.project=" + project) + " --label " +
         quote("com.docker.compose.service=" + service) +
         " --label com.docker.compose.oneoff=False --label com.docker.compose.container-number=1";
}

std::string memory_hog(std::string_view before) {
  return "sh -c '" + std::string(before) + "x=aaaaaaaa; while true; do x=$x$x; done'";
}

namespace {
void make_container(Cleanup& cleanup, const std::string& verb, const TestContainer& c) {
  cleanup.container(c.name);
  std::string cmd = "docker " + verb + " --name " + quote(c.name) + " --network none ";
  if (!c.project.empty()) cmd += compose_labels(c.project, c.service) + " ";
  must(cmd + c.options + " " + kImage + " " + c.command);
}
}  // namespace

void run_container(Cleanup& cleanup, const TestContainer& c) { make_container(cleanup, "run -d", c); }
void create_container(Cleanup& cleanup, const TestContainer& c) { make_container(cleanup, "create", c); }

// --------------------------------------------------------------------------- engine

std::string TestEngine::socket() const {
  if (!nested()) return "/var/run/docker.sock";
  constexpr std::string_view scheme = "unix://";
  return docker_host.starts_with(scheme) ? docker_host.substr(scheme.size()) : docker_host;
}

std::string TestEngine::cgroup_parent() const { return nested() ? "composewatch-engine-" + release : "docker"; }

std::string TestEngine::script(const std::string& verb) const {
  if (!nested()) throw std::logic_error("scripts/nested-engine.sh is for a nested engine; the tests run on the host's");
  return quote((source_dir() / "scripts/nested-engine.sh").string()) + " " + verb + " " + quote(release);
}

std::string TestEngine::compose_container(const std::string& project, const std::string& service, int n) const {
  const char* sep = nested() ? "-" : "_";
  return project + sep + service + sep + std::to_string(n);
}

const TestEngine& test_engine() {
  static const TestEngine engine = [] {
    TestEngine e;
    const char* release = std::getenv("COMPOSEWATCH_NESTED_ENGINE");
    if (release == nullptr || *release == '\0') return e;
    e.release = release;
    // "DOCKER_HOST=unix://..." and "COMPOSE_BIN_DIR=...", one a line.
    std::istringstream lines(must(e.script("env")));
    std::map<std::string, std::string> vars;
    for (std::string line; std::getline(lines, line);)
      if (auto eq = line.find('='); eq != std::string::npos) vars[line.substr(0, eq)] = line.substr(eq + 1);
    e.docker_host = vars["DOCKER_HOST"];
    if (e.docker_host.empty() || vars["COMPOSE_BIN_DIR"].empty())
      throw std::runtime_error("scripts/nested-engine.sh env " + e.release + " gave no DOCKER_HOST or COMPOSE_BIN_DIR");
    const char* path = std::getenv("PATH");
    ::setenv("DOCKER_HOST", e.docker_host.c_str(), 1);
    ::setenv("PATH", (vars["COMPOSE_BIN_DIR"] + ":" + (path ? path : "/usr/bin:/bin")).c_str(), 1);
    return e;
  }();
  return engine;
}

// ----------------------------------------------------------------- the environment

namespace {

// Removes what an earlier run of this suite left behind when it was killed before its
// clean-up ran: objects named cwit-<pid>-... whose process is gone.
void sweep_leftovers() {
  static const std::regex owned("^cwit-([0-9]+)-");
  auto dead_owner = [](const std::string& name) {
    std::smatch m;
    if (!std::regex_search(name, m, owned)) return false;
    return !fs::exists("/proc/" + m[1].str());
  };
  auto sweep = [&](const std::string& list_cmd, const std::function<std::string(const std::string&)>& rm_cmd) {
    ShResult r = sh(list_cmd, 60s);
    std::istringstream names(r.out);
    std::string name;
    while (std::getline(names, name))
      if (dead_owner(name)) sh(rm_cmd(quote(name)) + " >/dev/null 2>&1", 60s);
  };
  sweep("docker ps -a --format '{{.Names}}'", [](auto n) { return "docker rm -f -v " + n; });
  sweep("docker ps -a --format '{{.Label \"com.docker.compose.project\"}}' | sort -u", [](auto n) {
    return "docker ps -aq --filter label=com.docker.compose.project=" + n + " | xargs -r docker rm -f -v";
  });
  sweep("docker network ls --format '{{.Name}}'", [](auto n) { return "docker network rm " + n; });
  sweep("docker volume ls --format '{{.Name}}'", [](auto n) { return "docker volume rm " + n; });
  for (const auto& entry : fs::directory_iterator("/tmp"))
    if (dead_owner(entry.path().filename().string())) {
      std::error_code ec;
      fs::remove_all(entry.path(), ec);
    }
}

class EngineEnvironment : public testing::Environment {
 public:
  void SetUp() override {
    // A nested engine's DOCKER_HOST and Compose first, before anything runs `docker`.
    const TestEngine& target = test_engine();
    if (target.nested()) std::cerr << "[engine] nested " << target.release << " at " << target.docker_host << "\n";
    ShResult engine = sh(quote((source_dir() / "scripts/engine.sh").string()) + " ensure", 150s);
    ASSERT_EQ(engine.code, 0) << "scripts/engine.sh ensure failed:\n" << engine.out << engine.err;
    ShResult image = sh(quote((source_dir() / "scripts/test-image.sh").string()), 150s);
    ASSERT_EQ(image.code, 0) << "scripts/test-image.sh failed:\n" << image.out << image.err;
    sweep_leftovers();
  }
};

[[maybe_unused]] testing::Environment* const kEnvironment =
    testing::AddGlobalTestEnvironment(new EngineEnvironment);

}  // namespace

}  // namespace itest
