#pragma once
// `composewatch compose -f FILE [-f FILE]... [--env-file F] [-p NAME] [--profile P]...`:
// prints the normalised compose model as the contract's JSON without touching the engine.

#include <iosfwd>
#include <map>
#include <string>
#include <vector>

namespace composewatch::commands {

// `args` are the arguments after "compose". Reads the process environment (variables for
// interpolation, COMPOSE_PROJECT_NAME, COMPOSE_PROFILES). Returns 0 with the JSON on
// stdout; 2 with one line "composewatch: FILE:LINE: reason" on stderr for invalid input or
// a bad command line. Unset-variable warnings go to stderr as "warning: FILE:LINE: ...".
int run_compose(const std::vector<std::string>& args);

// The same with the environment and streams given, for tests.
int run_compose(const std::vector<std::string>& args, const std::map<std::string, std::string>& environment,
                std::ostream& out, std::ostream& err);

// The process environment as a map.
std::map<std::string, std::string> process_environment();

}  // namespace composewatch::commands
