#include "composewatch/config/cli.h"

#include <algorithm>
#include <array>
#include <boost/program_options.hpp>
#include <ostream>
#include <sstream>

#include "composewatch/version.h"
#include "values.h"

namespace composewatch::config {
namespace {

namespace po = boost::program_options;

struct FlagSpec {
  const char* name;
  const char* value_name;
  const char* help;
  std::optional<std::string> FlagValues::*field;
  bool for_status;  // status talks to the engine and reads the config too; web.* is agent-only
};

const std::array<FlagSpec, 12> kFlags = {{
    {"web.listen-address", "ADDR",
     "Address to serve /metrics on: host:port, [ipv6]:port or :port for all interfaces. "
     "Default 127.0.0.1:9469.",
     &FlagValues::listen_address, false},
    {"web.telemetry-path", "PATH", "Path under which to expose metrics. Default /metrics.",
     &FlagValues::telemetry_path, false},
    {"web.config.file", "FILE",
     "TLS and basic-auth settings, in the Prometheus exporter-toolkit format. Default none.",
     &FlagValues::web_config_file, false},
    {"web.max-requests", "N", "Concurrent HTTP requests served; beyond that 503. Default 40.",
     &FlagValues::max_requests, false},
    {"web.max-connections", "N",
     "Open HTTP connections; beyond that a new connection is closed at once. Default 256.",
     &FlagValues::max_connections, false},
    {"docker.host", "URL",
     "Docker engine: unix:///path/to/docker.sock or tcp://host:port. Default $DOCKER_HOST, "
     "else unix:///var/run/docker.sock.",
     &FlagValues::docker_host, true},
    {"config.file", "FILE",
     "Config file (YAML). Default /etc/composewatch/config.yml if it exists, else none.",
     &FlagValues::config_file, true},
    {"stats.source", "SOURCE",
     "Container resource stats from auto, cgroup or api. Default auto (cgroup when the "
     "engine's cgroups are readable).",
     &FlagValues::stats_source, true},
    {"path.procfs", "DIR",
     "Where the host's /proc is mounted (containers' network counters are read there): "
     "for an agent that runs in a container with the host's /proc mounted elsewhere. "
     "Default /proc.",
     &FlagValues::path_procfs, true},
    {"state.dir", "DIR",
     "Where counters and the last event time are kept. Default $STATE_DIRECTORY, else "
     "/var/lib/composewatch.",
     &FlagValues::state_dir, true},
    {"log.level", "LEVEL", "Only log at this level or above: debug, info, warn or error. "
                           "Default info.",
     &FlagValues::log_level, true},
    {"log.format", "FORMAT", "Log line format: logfmt or json. Default logfmt.",
     &FlagValues::log_format, true},
}};

constexpr std::array<std::string_view, 7> kCommands = {"run",   "status",   "check",      "compose",
                                                       "prune", "diagnose", "healthcheck"};

// The commands that take every flag of the agent: run, and the probe of a running agent,
// which must find it where run put it.
bool takes_agent_flags(const std::string& command) { return command == "run" || command == "healthcheck"; }

// A flag of one command only, in the docker CLI's spellings: -f X, -fX, --file X, --file=X.
struct OwnFlag {
  std::string_view command;
  std::string_view short_name;  // "-f", or empty
  std::string_view long_name;   // "file": the key in CommandLine::options
  const char* value_name;       // nullptr: takes no value
  bool repeatable;
  std::initializer_list<std::string_view> allowed;  // empty: any non-empty value
  const char* help;
};

const std::array<OwnFlag, 10> kOwnFlags = {{
    {"status", "", "format", "FORMAT", false, {"text", "json"}, "Output as text or json. Default text."},
    {"check", "-f", "file", "FILE", true, {}, "Compose file; repeat to merge overrides in order."},
    {"check", "-p", "project-name", "NAME", false, {}, "Project name. Default as Compose names it."},
    {"check", "", "env-file", "FILE", false, {}, "Variables for interpolation. Default .env next to the first file."},
    {"check", "", "project-directory", "DIR", false, {},
     "Project directory: relative paths, .env, the default project name. Default the first file's directory."},
    {"check", "", "format", "FORMAT", false, {"text", "json"}, "Output as text or json. Default text."},
    {"prune", "", "policy", "NAME", true, {}, "Run only this policy of the config file; repeat for more. Default all."},
    {"prune", "", "dry-run", nullptr, false, {},
     "Plan and print, delete nothing, whatever the policies say (a policy's own dry_run: true is kept "
     "without this flag)."},
    {"diagnose", "", "format", "FORMAT", false, {"text", "json"}, "Output as text or json. Default text."},
    {"diagnose", "", "logs", "N", false, {}, "Log lines shown per troubled container. Default 20."},
}};

std::vector<const OwnFlag*> own_flags(std::string_view command) {
  std::vector<const OwnFlag*> out;
  for (const OwnFlag& f : kOwnFlags)
    if (f.command == command) out.push_back(&f);
  return out;
}

// Takes the command's own flags out of `args` into cl.options and leaves the others (the
// flags it shares with the agent) for program_options.
void take_own_flags(CommandLine& cl, std::vector<std::string>& args, const std::string& hint) {
  const auto flags = own_flags(cl.command);
  if (flags.empty()) return;
  std::vector<std::string> rest;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const OwnFlag* match = nullptr;
    std::optional<std::string> value;
    std::string given;  // the flag as written, for messages
    for (const OwnFlag* f : flags) {
      const std::string dashed = "--" + std::string(f->long_name);
      if (a == dashed || (!f->short_name.empty() && a == f->short_name)) {
        match = f;
        given = a;
        if (f->value_name) {
          if (i + 1 >= args.size() || (args[i + 1].starts_with("-") && args[i + 1] != "-"))
            throw UsageError("flag '" + a + "' needs a value; " + hint);
          value = args[++i];
        }
      } else if (a.starts_with(dashed + "=")) {
        match = f;
        given = dashed;
        if (!f->value_name) throw UsageError("flag '" + dashed + "' takes no value; " + hint);
        value = a.substr(dashed.size() + 1);
      } else if (!f->short_name.empty() && f->value_name && a.starts_with(f->short_name) && !a.starts_with("--")) {
        match = f;
        given = std::string(f->short_name);
        value = a.substr(f->short_name.size());
      }
      if (match) break;
    }
    if (!match) {
      rest.push_back(a);
      continue;
    }
    if (value && value->empty()) throw UsageError("flag '" + given + "' has an empty value; " + hint);
    if (value && match->allowed.size() > 0 &&
        std::find(match->allowed.begin(), match->allowed.end(), *value) == match->allowed.end()) {
      std::string list;
      for (std::string_view v : match->allowed) list += (list.empty() ? "" : " or ") + std::string(v);
      throw UsageError("--" + std::string(match->long_name) + ": invalid value '" + *value + "' (expected " + list +
                       "); " + hint);
    }
    auto& values = cl.options[std::string(match->long_name)];
    if (!values.empty() && !match->repeatable)
      throw UsageError("flag '" + given + "' given more than once; " + hint);
    values.push_back(value.value_or("true"));
  }
  args = std::move(rest);
}

std::string help_hint(const std::string& command) {
  return command == "run" ? "see 'composewatch --help'"
                          : "see 'composewatch " + command + " --help'";
}

// The long names a command accepts, without dashes.
std::vector<std::string> flag_names(const std::string& command) {
  std::vector<std::string> names = {"help", "version"};
  for (const OwnFlag* f : own_flags(command)) names.emplace_back(f->long_name);
  for (const FlagSpec& f : kFlags) {
    if (takes_agent_flags(command) || f.for_status) names.emplace_back(f.name);
  }
  return names;
}

std::string suggestion(const std::string& name, const std::vector<std::string>& candidates) {
  return detail::closest(name, std::vector<std::string_view>(candidates.begin(), candidates.end()));
}

[[noreturn]] void unknown_flag(const std::string& token, const std::string& command) {
  std::string name = token.substr(0, token.find('='));
  std::string bare = name;
  bare.erase(0, bare.find_first_not_of('-'));
  std::string message = "unknown flag '" + name + "'";
  const auto names = flag_names(command);
  const auto agent_names = flag_names("run");
  if (!name.starts_with("--") &&
      std::find(names.begin(), names.end(), bare) != names.end()) {
    message += " (flags take two dashes: '--" + bare + "')";
  } else if (name.starts_with("--") &&
             std::find(agent_names.begin(), agent_names.end(), bare) != agent_names.end()) {
    message = "flag '" + name + "' does not apply to " + command;
  } else if (const std::string hint = suggestion(bare, names); !hint.empty()) {
    message += " (did you mean '--" + hint + "'?)";
  }
  throw UsageError(message + "; " + help_hint(command));
}

po::options_description options_for(const std::string& command) {
  po::options_description desc;
  desc.add_options()("help", "")("version", "");
  for (const FlagSpec& f : kFlags) {
    if (takes_agent_flags(command) || f.for_status) desc.add_options()(f.name, po::value<std::string>(), "");
  }
  // Anything that is not a flag lands here, so the error can name it.
  desc.add_options()("stray-argument", po::value<std::vector<std::string>>(), "");
  return desc;
}

// Wraps `text` to `width` columns, indenting continuation lines by `indent`.
std::string wrap(const std::string& text, std::size_t indent, std::size_t width) {
  std::istringstream words(text);
  std::string out;
  std::string word;
  std::size_t column = indent;
  bool first = true;
  while (words >> word) {
    if (!first && column + 1 + word.size() > width) {
      out += "\n" + std::string(indent, ' ');
      column = indent;
      first = true;
    }
    if (!first) {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
    first = false;
  }
  return out;
}

std::string flag_table(const std::vector<std::pair<std::string, std::string>>& rows) {
  std::size_t width = 0;
  for (const auto& [flag, _] : rows) width = std::max(width, flag.size());
  std::string out;
  for (const auto& [flag, text] : rows) {
    const std::size_t indent = 2 + width + 3;
    out += "  " + flag + std::string(width - flag.size() + 3, ' ') + wrap(text, indent, 80) + "\n";
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> flag_rows(const std::string& command) {
  std::vector<std::pair<std::string, std::string>> rows;
  for (const OwnFlag* f : own_flags(command)) {
    std::string flag = f->short_name.empty() ? "" : std::string(f->short_name) + ", ";
    flag += "--" + std::string(f->long_name) + (f->value_name ? std::string("=") + f->value_name : "");
    rows.emplace_back(std::move(flag), f->help);
  }
  for (const FlagSpec& f : kFlags) {
    if (takes_agent_flags(command) || f.for_status) {
      rows.emplace_back(std::string("--") + f.name + "=" + f.value_name, f.help);
    }
  }
  rows.emplace_back("--help", "Show this help and exit.");
  rows.emplace_back("--version", "Show the version and exit.");
  return rows;
}

std::string one_line(std::string text) {
  std::replace_if(text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return text;
}

}  // namespace

const std::string& CommandLine::option(const std::string& name, const std::string& fallback) const {
  auto it = options.find(name);
  return it == options.end() || it->second.empty() ? fallback : it->second.back();
}

std::vector<std::string> CommandLine::option_list(const std::string& name) const {
  auto it = options.find(name);
  return it == options.end() ? std::vector<std::string>{} : it->second;
}

bool CommandLine::has(const std::string& name) const { return options.count(name) > 0; }

CommandLine parse_command_line(const std::vector<std::string>& args) {
  CommandLine cl;
  auto first = args.begin();
  if (first != args.end() && !first->starts_with("-")) {
    if (std::find(kCommands.begin(), kCommands.end(), *first) == kCommands.end()) {
      std::string message = "unknown command '" + *first + "'";
      const std::vector<std::string_view> commands(kCommands.begin(), kCommands.end());
      if (const std::string hint = detail::closest(*first, commands); !hint.empty()) {
        message += " (did you mean '" + hint + "'?)";
      }
      throw UsageError(message + "; see 'composewatch --help'");
    }
    cl.command = *first++;
    // `compose` reads only files and parses its own flags, all of docker compose's kind.
    if (cl.command == "compose") return cl;
  }
  std::vector<std::string> rest(first, args.end());
  take_own_flags(cl, rest, help_hint(cl.command));

  const po::options_description desc = options_for(cl.command);
  po::positional_options_description positional;
  positional.add("stray-argument", -1);
  // Long flags only, exact names: no abbreviations, as Prometheus exporters do.
  const int style = po::command_line_style::allow_long | po::command_line_style::long_allow_adjacent |
                    po::command_line_style::long_allow_next;
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(rest).options(desc).positional(positional).style(style).run(),
              vm);
  } catch (const po::unknown_option& e) {
    unknown_flag(e.get_option_name(), cl.command);
  } catch (const po::multiple_occurrences& e) {
    throw UsageError("flag '" + e.get_option_name() + "' given more than once; " + help_hint(cl.command));
  } catch (const po::invalid_command_line_syntax& e) {
    const std::string name = e.get_option_name();
    if (e.kind() == po::invalid_command_line_syntax::missing_parameter) {
      throw UsageError("flag '" + name + "' needs a value; " + help_hint(cl.command));
    }
    if (e.kind() == po::invalid_command_line_syntax::empty_adjacent_parameter) {
      throw UsageError("flag '" + name + "' has an empty value; " + help_hint(cl.command));
    }
    if (e.kind() == po::invalid_command_line_syntax::extra_parameter) {
      throw UsageError("flag '" + name + "' takes no value; " + help_hint(cl.command));
    }
    throw UsageError(one_line(e.what()) + "; " + help_hint(cl.command));
  } catch (const po::error& e) {
    throw UsageError(one_line(e.what()) + "; " + help_hint(cl.command));
  }

  cl.help = vm.count("help") > 0;
  cl.version = vm.count("version") > 0;
  for (const FlagSpec& f : kFlags) {
    if (!vm.count(f.name)) continue;
    const auto& value = vm[f.name].as<std::string>();
    // "--web.listen-address --docker.host x": the next flag was taken as the value.
    if (value.starts_with("--")) {
      throw UsageError(std::string("flag '--") + f.name + "' needs a value; " + help_hint(cl.command));
    }
    cl.flags.*f.field = value;
  }
  if (vm.count("stray-argument")) {
    const std::string& token = vm["stray-argument"].as<std::vector<std::string>>().front();
    if (token.starts_with("-") && token != "-") unknown_flag(token, cl.command);
    throw UsageError("unexpected argument '" + token + "'; " + help_hint(cl.command));
  }
  return cl;
}

std::string help_text(const std::string& command) {
  if (command == "check") {
    return "Usage: composewatch check [-f FILE]... [-p NAME] [--env-file FILE] [--project-directory DIR]\n"
           "                          [--format text|json] [flags]\n"
           "\n"
           "Loads compose projects, compares them with the live engine and prints drift\n"
           "(image, memory limit and reservation, healthcheck, restart policy, replicas),\n"
           "orphan containers, compose lint findings and volume findings (dead-volume,\n"
           "orphan-volume), each with file:line, check id, why and fix. With -f only that\n"
           "project (named as Compose would, or by -p); else the config file's\n"
           "compose.projects and the projects of the engine's containers.\n"
           "A field whose value depends on a variable without a value is shown as\n"
           "unknown, with how to give the agent the variable, and not compared.\n"
           "Exits 0 when clean, 1 with findings, 2 when it could not check.\n"
           "\n"
           "Flags:\n" +
           flag_table(flag_rows("check"));
  }
  if (command == "status") {
    return "Usage: composewatch status [--format text|json] [flags]\n"
           "\n"
           "Prints a table of the host's containers: project, service, container, state,\n"
           "health, memory used/limit, OOM kills, restarts, drift. Exits 0, or 2 if the\n"
           "engine is unreachable.\n"
           "\n"
           "Flags:\n" +
           flag_table(flag_rows("status"));
  }
  if (command == "prune") {
    return "Usage: composewatch prune [--policy NAME]... [--dry-run] [flags]\n"
           "\n"
           "Runs the prune policies of the config file once, now, and prints what each\n"
           "deleted or, in a dry run, would delete (object, kind, size, age, why), and what\n"
           "was protected and why. Guardrails hold whatever a policy says: nothing a\n"
           "container or a known compose file uses, no named volume, nothing labelled\n"
           "composewatch.keep=true or with a protect label. Exits 0 when done, 1 when some\n"
           "deletions failed, 2 when it could not run.\n"
           "\n"
           "Flags:\n" +
           flag_table(flag_rows("prune"));
  }
  if (command == "healthcheck") {
    return "Usage: composewatch healthcheck [flags of run]\n"
           "\n"
           "Asks the agent running on this machine for /healthz, at the address the same\n"
           "flags and config file give it (on loopback when it listens on every\n"
           "interface): for a container's HEALTHCHECK. With a --web.config.file (TLS,\n"
           "basic auth) it only checks that the agent accepts connections. Exits 0\n"
           "healthy, 1 not.\n"
           "\n"
           "Flags:\n" +
           flag_table(flag_rows("healthcheck"));
  }
  if (command == "diagnose") {
    return "Usage: composewatch diagnose [--format text|json] [flags]\n"
           "\n"
           "One-shot host report: disk use by kind and what is reclaimable, the Docker\n"
           "filesystem, the largest images and their largest layers, dead and orphan\n"
           "volumes, containers with OOM kills, restart loops or an immediate exit (with\n"
           "their last log lines), compose drift and lint counts, and what to run next.\n"
           "Exits 0, also on a broken host.\n"
           "\n"
           "Flags:\n" +
           flag_table(flag_rows("diagnose"));
  }
  return "Usage: composewatch [run] [flags]\n"
         "       composewatch <command> [flags]\n"
         "       composewatch <command> --help\n"
         "\n"
         "Supervises the Docker engine and its Compose projects and exports Prometheus\n"
         "metrics. Run by systemd, one per Docker host; logs to stderr.\n"
         "\n"
         "Commands:\n"
         "  run        The agent, in the foreground (the default).\n"
         "  status     One-shot table of the host's containers.\n"
         "  check      Compare compose files with the live engine; print drift and lint findings.\n"
         "  compose    Print the normalised compose model as JSON (no engine needed).\n"
         "  prune      Run the prune policies once, now.\n"
         "  diagnose   One-shot host report: disk, volumes, troubled containers, drift.\n"
         "  healthcheck  Ask the running agent for /healthz (a container's HEALTHCHECK).\n"
         "\n"
         "Flags of run (a flag wins over the config file):\n" +
         flag_table(flag_rows("run"));
}

std::string version_text() {
  return std::string("composewatch ") + kVersion + " (revision " + kRevision + ")\n";
}

}  // namespace composewatch::config
