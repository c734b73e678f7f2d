#pragma once
// Reads a file under tests/fixtures/ (COMPOSEWATCH_FIXTURES).

#include <fstream>
#include <sstream>
#include <string>

namespace composewatch::test_support {

inline std::string read_fixture(const std::string& relative_path) {
  std::ifstream f(std::string(COMPOSEWATCH_FIXTURES) + "/" + relative_path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace composewatch::test_support
