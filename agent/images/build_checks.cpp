#include "composewatch/images/build_checks.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "composewatch/compose/lint.h"

namespace composewatch::images {

namespace fs = std::filesystem;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string at(const std::string& path, int line) { return line > 0 ? path + ":" + std::to_string(line) : path; }

// The first words of a command, for messages ("npm ci", "pip install").
std::string short_command(const Command& c, std::size_t words = 3) {
  std::string s;
  for (std::size_t i = 0; i < c.words.size() && i < words; ++i) s += (i ? " " : "") + c.words[i];
  return s;
}

// The words after the program that are not options.
std::vector<std::string> operands(const Command& c, std::size_t from = 1) {
  std::vector<std::string> out;
  for (std::size_t i = from; i < c.words.size(); ++i)
    if (!c.words[i].starts_with("-")) out.push_back(c.words[i]);
  return out;
}

bool has_word(const Command& c, std::string_view w) {
  return std::find(c.words.begin(), c.words.end(), w) != c.words.end();
}

// ---- package managers

bool is_apt(const Command& c) {
  const std::string p = c.program();
  return p == "apt-get" || p == "apt";
}

// `apt-get [options] install …`, `apk add …`, `yum|dnf|microdnf install …`: the packages.
std::optional<std::vector<std::string>> installed_packages(const Command& c) {
  const std::string p = c.program();
  const auto ops = operands(c);
  std::string verb;
  if (is_apt(c) || p == "yum" || p == "dnf" || p == "microdnf")
    verb = "install";
  else if (p == "apk")
    verb = "add";
  else
    return std::nullopt;
  if (ops.empty() || ops.front() != verb) return std::nullopt;
  std::vector<std::string> pkgs(ops.begin() + 1, ops.end());
  // apk add --virtual NAME / -t NAME: NAME is not a package.
  for (std::size_t i = 1; i + 1 < c.words.size(); ++i)
    if (c.words[i] == "--virtual" || c.words[i] == "-t") std::erase(pkgs, c.words[i + 1]);
  return pkgs;
}

// Packages a later command of the same RUN removes (apt-get purge/remove, apk del, …).
std::set<std::string> removed_packages(const std::vector<Command>& cmds) {
  std::set<std::string> out;
  for (const auto& c : cmds) {
    const std::string p = c.program();
    const auto ops = operands(c);
    if (ops.empty()) continue;
    const bool removes = ((is_apt(c) || p == "yum" || p == "dnf") && (ops[0] == "purge" || ops[0] == "remove" ||
                                                                       ops[0] == "erase" || ops[0] == "autoremove")) ||
                         (p == "apk" && ops[0] == "del");
    if (!removes) continue;
    for (std::size_t i = 1; i < ops.size(); ++i) out.insert(ops[i]);
  }
  return out;
}

std::string package_name(std::string pkg) {
  const auto cut = pkg.find_first_of("=<>~");  // apt name=1.2, apk name=1.2 / name>1.2
  if (cut != std::string::npos) pkg.erase(cut);
  const auto colon = pkg.find(':');  // apt name:amd64
  if (colon != std::string::npos) pkg.erase(colon);
  return pkg;
}

bool is_toolchain(const std::string& pkg) {
  static const std::set<std::string> kNames = {"build-essential", "gcc", "g++", "make", "clang", "cmake", "cpp",
                                                "gfortran", "build-base", "alpine-sdk", "gcc-c++", "automake",
                                                "autoconf", "libtool", "rustc", "cargo", "golang", "go"};
  if (kNames.contains(pkg)) return true;
  if (pkg.starts_with("gcc-") || pkg.starts_with("g++-") || pkg.starts_with("clang-")) return true;
  return pkg.ends_with("-dev") || pkg.ends_with("-devel");
}

// `pip install`, `python -m pip install`.
bool is_pip_install(const Command& c) {
  const std::string p = c.program();
  std::size_t verb = 1;
  if (p.starts_with("python")) {
    if (c.words.size() < 4 || c.words[1] != "-m" || !c.words[2].starts_with("pip")) return false;
    verb = 3;
  } else if (!(p == "pip" || p.starts_with("pip3") || p.starts_with("pip2"))) {
    return false;
  }
  const auto ops = operands(c, verb);
  return !ops.empty() && ops.front() == "install";
}

// The ecosystem whose dependencies `c` installs from manifests, or "".
std::string install_ecosystem(const Command& c) {
  const std::string p = c.program();
  const auto ops = operands(c);
  const std::string verb = ops.empty() ? "" : ops.front();
  if ((p == "npm" && (verb == "install" || verb == "i" || verb == "ci")) ||
      (p == "yarn" && (verb.empty() || verb == "install")) || (p == "pnpm" && (verb == "install" || verb == "i")))
    return "node";
  if (is_pip_install(c) || (p == "pipenv" && (verb == "install" || verb == "sync")) ||
      (p == "poetry" && verb == "install") || (p == "uv" && (verb == "sync" || verb == "pip")))
    return "python";
  if (p == "go" && ops.size() >= 2 && ops[0] == "mod" && ops[1] == "download") return "go";
  if (p == "bundle" && (verb == "install" || verb.empty())) return "ruby";
  if (p == "composer" && verb == "install") return "php";
  if (p == "cargo" && verb == "fetch") return "rust";
  if ((p == "mvn" || p == "mvnw" || p == "./mvnw") &&
      std::any_of(ops.begin(), ops.end(), [](const std::string& w) { return w.starts_with("dependency:"); }))
    return "java";
  return "";
}

// The manifests of each ecosystem, for the message.
std::vector<std::string> manifests_of(const std::string& eco, const std::vector<std::string>& root_files) {
  static const std::map<std::string, std::vector<std::string>> kManifests = {
      {"node", {"package.json", "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml"}},
      {"python", {"requirements.txt", "pyproject.toml", "poetry.lock", "Pipfile", "Pipfile.lock", "uv.lock", "setup.py"}},
      {"go", {"go.mod", "go.sum"}},
      {"ruby", {"Gemfile", "Gemfile.lock"}},
      {"php", {"composer.json", "composer.lock"}},
      {"rust", {"Cargo.toml", "Cargo.lock"}},
      {"java", {"pom.xml"}},
  };
  std::vector<std::string> out;
  const auto it = kManifests.find(eco);
  if (it == kManifests.end()) return out;
  const auto present = [&](const std::string& f) {
    return std::find(root_files.begin(), root_files.end(), f) != root_files.end();
  };
  if (eco == "python")
    for (const auto& f : root_files)
      if (f.starts_with("requirements") && f.ends_with(".txt")) out.push_back(f);
  for (const auto& m : it->second)
    if (present(m)) out.push_back(m);
  if (out.empty()) out = {it->second.begin(), it->second.begin() + std::min<std::size_t>(2, it->second.size())};
  return out;
}

// COPY/ADD of the whole context (`COPY . .`, `COPY ./ /app`, `ADD * ./`), not --from a stage.
bool copies_whole_context(const Instruction& ins) {
  if (ins.keyword != "COPY" && ins.keyword != "ADD") return false;
  if (ins.flag("from")) return false;
  std::vector<std::string> words;
  if (ins.exec_form) {
    words = ins.exec;
  } else {
    std::string_view a = ins.args;
    std::size_t i = 0;
    while (i < a.size()) {
      while (i < a.size() && (a[i] == ' ' || a[i] == '\t')) ++i;
      const std::size_t s = i;
      while (i < a.size() && a[i] != ' ' && a[i] != '\t') ++i;
      if (i > s) words.emplace_back(a.substr(s, i - s));
    }
  }
  if (words.size() < 2) return false;
  for (std::size_t i = 0; i + 1 < words.size(); ++i) {
    const std::string& src = words[i];
    if (src == "." || src == "./" || src == "*" || src == "./*" || src == "./." ) return true;
  }
  return false;
}

// ENV K=V K2=V2, or the legacy ENV K V: the keys.
std::vector<std::string> env_keys(const Instruction& ins) {
  std::vector<std::string> out;
  std::string_view a = ins.args;
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < a.size()) {
    while (i < a.size() && (a[i] == ' ' || a[i] == '\t')) ++i;
    const std::size_t s = i;
    char quote = 0;
    while (i < a.size() && (quote || (a[i] != ' ' && a[i] != '\t'))) {
      if (quote && a[i] == quote)
        quote = 0;
      else if (!quote && (a[i] == '"' || a[i] == '\''))
        quote = a[i];
      ++i;
    }
    if (i > s) words.emplace_back(a.substr(s, i - s));
  }
  if (words.empty()) return out;
  if (words[0].find('=') == std::string::npos) return {words[0]};
  for (const auto& w : words)
    if (const auto eq = w.find('='); eq != std::string::npos && eq > 0) out.push_back(w.substr(0, eq));
  return out;
}

bool cache_mount(const Instruction& run, std::string_view target_part) {
  for (const auto& f : run.flags) {
    if (!f.starts_with("--mount=")) continue;
    if (f.find("type=cache") == std::string::npos) continue;
    if (target_part.empty() || f.find(target_part) != std::string::npos) return true;
  }
  return false;
}

bool is_root(std::string_view user) {
  const auto colon = user.find(':');
  const std::string u = lower(user.substr(0, colon));
  return u.empty() || u == "root" || u == "0";
}

}  // namespace

std::string human_bytes(std::uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = double(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0 || v >= 100)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.1f", v);
  std::string s = buf;
  if (s.ends_with(".0")) s.resize(s.size() - 2);
  return s + " " + units[u];
}

std::vector<std::string> missing_ignores(const IgnoreMatcher& m) {
  std::vector<std::string> missing;
  for (const char* name : {".git", "node_modules", ".venv", "venv", "env"})
    if (!m.excluded(name)) missing.emplace_back(name);
  if (!m.excluded(".env") || !m.excluded(".env.local") || !m.excluded(".env.production")) missing.emplace_back(".env*");
  return missing;
}

std::vector<Finding> check_dockerignore(const std::optional<std::string>& text, const std::string& context) {
  const std::string where = (fs::path(context) / ".dockerignore").string();
  if (!text)
    return {{std::string(check_id::dockerignore_missing), context,
             "the build context " + context + " has no .dockerignore"}};
  const auto missing = missing_ignores(IgnoreMatcher::parse(*text));
  if (missing.empty()) return {};
  std::string list;
  for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
  return {{std::string(check_id::dockerignore_incomplete), where, ".dockerignore does not exclude " + list}};
}

std::vector<Finding> check_context_size(const ContextSize& size, const std::string& context, const BuildOptions& o) {
  if (!size.error.empty() || size.bytes <= o.context_large_bytes) return {};
  return {{std::string(check_id::context_large), context,
           "the build context sends " + std::string(size.complete ? "" : "at least ") + human_bytes(size.bytes) +
               " in " + std::to_string(size.files) + " files after .dockerignore (threshold " +
               human_bytes(o.context_large_bytes) + ")"}};
}

std::vector<Finding> check_dockerfile(const Dockerfile& df, const std::string& path, std::string_view target,
                                      const std::vector<std::string>& root_files) {
  std::vector<Finding> out;
  auto add = [&](std::string_view check, int line, std::string message) {
    out.push_back({std::string(check), at(path, line), std::move(message)});
  };
  const Stage* final_stage = df.final_stage(target);
  if (!final_stage) {
    add(check_id::build_unreadable, 0, "the Dockerfile has no FROM");
    return out;
  }

  // Every FROM pinned: a tag other than latest, or a digest.
  for (const auto& st : df.stages) {
    if (st.parent || st.base_resolved.empty()) continue;  // an earlier stage; or an ARG nothing sets
    const std::string ref = lower(st.base_resolved);
    if (ref == "scratch" || ref.find('@') != std::string::npos) continue;
    const auto slash = ref.rfind('/');
    const std::string last = slash == std::string::npos ? ref : ref.substr(slash + 1);
    const auto colon = last.find(':');
    if (colon == std::string::npos)
      add(check_id::base_image_unpinned, st.line, "FROM " + st.base_resolved + " has no tag (it means :latest)");
    else if (last.substr(colon + 1) == "latest")
      add(check_id::base_image_unpinned, st.line, "FROM " + st.base_resolved + " uses :latest");
  }

  // Secret-looking names in ENV and ARG, anywhere (they stay in the history).
  for (const auto& ins : df.instructions) {
    if (ins.keyword == "ENV") {
      for (const auto& k : env_keys(ins))
        if (compose::is_secret_key(k)) add(check_id::secret_build_variable, ins.line, "ENV " + k + " is set in the image");
    } else if (ins.keyword == "ARG") {
      for (const auto& w : env_keys(ins))
        if (compose::is_secret_key(w)) add(check_id::secret_build_variable, ins.line, "ARG " + w + " is a build variable");
    }
  }

  // Dependencies installed after the whole source is copied, in any stage.
  for (const auto& st : df.stages) {
    int whole_copy = 0;
    std::set<std::string> installed_before;
    std::set<std::string> reported;
    for (const auto& ins : st.instructions) {
      if (!whole_copy && copies_whole_context(ins)) {
        whole_copy = ins.line;
        continue;
      }
      if (ins.keyword != "RUN") continue;
      for (const auto& c : split_commands(run_script(ins))) {
        const std::string eco = install_ecosystem(c);
        if (eco.empty()) continue;
        if (!whole_copy) {
          installed_before.insert(eco);
        } else if (!installed_before.contains(eco) && reported.insert(eco).second) {
          std::string manifests;
          for (const auto& m : manifests_of(eco, root_files)) manifests += (manifests.empty() ? "" : ", ") + m;
          add(check_id::deps_after_source, ins.line,
              short_command(c) + " runs after the whole context is copied (line " + std::to_string(whole_copy) +
                  "): copy " + manifests + " and install before copying the source");
        }
      }
    }
  }

  // What ends up in the final image: the final stage and the stages it is built FROM.
  const auto lineage = df.lineage(*final_stage);
  bool pip_env = false;  // ENV PIP_NO_CACHE_DIR in the lineage
  for (const Stage* st : lineage)
    for (const auto& ins : st->instructions)
      if (ins.keyword == "ENV")
        for (const auto& k : env_keys(ins))
          if (k == "PIP_NO_CACHE_DIR") pip_env = true;
  std::string user;
  int user_line = 0;
  for (auto it = lineage.rbegin(); it != lineage.rend(); ++it) {
    for (const auto& ins : (*it)->instructions) {
      if (ins.keyword == "USER") {
        user = ins.args;
        user_line = ins.line;
      }
      if (ins.keyword != "RUN") continue;
      const std::string script = run_script(ins);
      const auto cmds = split_commands(script);
      bool apt_install = false, apt_lists_removed = cache_mount(ins, "/var/lib/apt");
      std::vector<std::string> no_recommends_missing;
      std::vector<std::string> tools;
      const auto removed = removed_packages(cmds);
      for (const auto& c : cmds) {
        if (c.program() == "rm")
          for (const auto& w : c.words)
            if (w.starts_with("/var/lib/apt/lists")) apt_lists_removed = true;
        if (auto pkgs = installed_packages(c)) {
          if (is_apt(c)) {
            apt_install = true;
            const bool no_rec = has_word(c, "--no-install-recommends") ||
                                std::any_of(c.words.begin(), c.words.end(), [](const std::string& w) {
                                  return w.find("Install-Recommends=false") != std::string::npos ||
                                         w.find("Install-Recommends=0") != std::string::npos;
                                });
            if (!no_rec) no_recommends_missing.push_back(short_command(c));
          }
          for (const auto& raw : *pkgs) {
            const std::string name = package_name(raw);
            if (is_toolchain(name) && !removed.contains(raw) && !removed.contains(name)) tools.push_back(name);
          }
          // apk add --virtual .build-deps … && apk del .build-deps
          for (std::size_t i = 1; i + 1 < c.words.size(); ++i)
            if ((c.words[i] == "--virtual" || c.words[i] == "-t") && removed.contains(c.words[i + 1])) tools.clear();
        }
        if (is_pip_install(c) && !has_word(c, "--no-cache-dir") && !pip_env &&
            script.find("PIP_NO_CACHE_DIR") == std::string::npos && !cache_mount(ins, ""))
          add(check_id::pip_cache, ins.line, short_command(c) + " keeps pip's cache in the layer (no --no-cache-dir)");
      }
      for (const auto& c : no_recommends_missing)
        add(check_id::apt_recommends, ins.line, c + " without --no-install-recommends");
      if (apt_install && !apt_lists_removed)
        add(check_id::apt_lists, ins.line, "apt-get install without rm -rf /var/lib/apt/lists/* in the same RUN");
      if (!tools.empty()) {
        std::string list;
        for (const auto& t : tools) list += (list.empty() ? "" : ", ") + t;
        add(check_id::toolchain_in_final, ins.line,
            "the final image keeps " + list + " (installed in stage " +
                ((*it)->name.empty() ? std::to_string((*it)->index) : (*it)->name) + ")");
      }
    }
  }
  const std::string stage_name = final_stage->name.empty() ? std::to_string(final_stage->index) : final_stage->name;
  if (user_line == 0)
    add(check_id::final_stage_root, final_stage->line, "the final stage (" + stage_name + ") sets no USER");
  else if (is_root(user))
    add(check_id::final_stage_root, user_line, "the final stage (" + stage_name + ") runs as USER " + user);

  std::stable_sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) {
    return checks().position(a.check) < checks().position(b.check);
  });
  return out;
}

BuildInput read_build_input(const compose::Service::Build& build, const BuildOptions& options) {
  BuildInput in;
  in.context = build.context;
  in.target = build.target;
  in.args = build.args;
  std::error_code ec;
  if (!fs::is_directory(build.context, ec)) {
    in.error = "the build context " + build.context + " is not a readable directory";
    return in;
  }
  auto read_file = [](const fs::path& p, std::size_t limit) -> std::optional<std::string> {
    std::ifstream f(p, std::ios::binary);
    if (!f) return std::nullopt;
    std::string s(limit, '\0');
    f.read(s.data(), static_cast<std::streamsize>(limit));
    s.resize(static_cast<std::size_t>(f.gcount()));
    return s;
  };
  if (!build.dockerfile_inline.empty()) {
    in.dockerfile_path = "dockerfile_inline";
    in.dockerfile_text = build.dockerfile_inline;
  } else {
    const fs::path file = fs::path(build.context) / (build.dockerfile.empty() ? "Dockerfile" : build.dockerfile);
    in.dockerfile_path = file.lexically_normal().string();
    if (fs::is_regular_file(file, ec)) in.dockerfile_text = read_file(file, kMaxDockerfileBytes + 1);
    if (!in.dockerfile_text) in.error = "cannot read the Dockerfile " + in.dockerfile_path;
  }
  const fs::path ignore = fs::path(build.context) / ".dockerignore";
  if (fs::is_regular_file(ignore, ec)) in.dockerignore_text = read_file(ignore, 1 << 20);
  for (fs::directory_iterator it(build.context, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end && in.root_files.size() < 10'000; it.increment(ec))
    in.root_files.push_back(it->path().filename().string());
  std::sort(in.root_files.begin(), in.root_files.end());
  in.context_size = measure_context(build.context, IgnoreMatcher::parse(in.dockerignore_text.value_or("")),
                                    options.limits);
  return in;
}

BuildReport check_build(const BuildInput& in, const BuildOptions& options) {
  BuildReport r;
  r.context = in.context;
  r.dockerfile = in.dockerfile_path;
  r.context_size = in.context_size;
  if (!in.error.empty() && !in.dockerfile_text) {
    r.findings.push_back({std::string(check_id::build_unreadable), in.dockerfile_path.empty() ? in.context : in.dockerfile_path,
                          in.error});
    if (in.dockerfile_path.empty()) return r;  // no context: nothing else to read
  }
  for (auto& f : check_dockerignore(in.dockerignore_text, in.context)) r.findings.push_back(std::move(f));
  for (auto& f : check_context_size(in.context_size, in.context, options)) r.findings.push_back(std::move(f));
  if (in.dockerfile_text) {
    const Dockerfile df = parse_dockerfile(*in.dockerfile_text, in.args);
    for (auto& f : check_dockerfile(df, in.dockerfile_path, in.target, in.root_files)) r.findings.push_back(std::move(f));
  }
  return r;
}

}  // namespace composewatch::images
