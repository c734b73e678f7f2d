#include <algorithm>

#include "composewatch/engine/client.h"

namespace composewatch::engine {

UnsafePathError::UnsafePathError(std::string_view segment)
    : EngineError(Kind::protocol, "the engine named an object \"" + std::string(segment.substr(0, 80)) +
                                      "\", which is not an id or a name: not used in a request") {}

bool path_safe(std::string_view s, bool reference) {
  if (s.empty() || s.size() > 512 || s.find("..") != std::string_view::npos) return false;
  // In a reference '/' separates path components: none of them empty.
  if (reference && (s.front() == '/' || s.back() == '/' || s.find("//") != std::string_view::npos)) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-' || c == ':' || c == '@' || (reference && c == '/');
  });
}

std::string path_segment(std::string_view s, bool reference) {
  if (!path_safe(s, reference)) throw UnsafePathError(s);
  return std::string(s);
}

namespace {

std::string object_path(std::string_view collection, std::string_view segment, std::string_view suffix,
                        bool reference = false) {
  std::string out(collection);
  out += path_segment(segment, reference);
  out += suffix;
  return out;
}

}  // namespace

std::string container_path(std::string_view id, std::string_view suffix) {
  return object_path("/containers/", id, suffix);
}
std::string image_path(std::string_view ref, std::string_view suffix) {
  return object_path("/images/", ref, suffix, true);
}
std::string volume_path(std::string_view name, std::string_view suffix) {
  return object_path("/volumes/", name, suffix);
}
std::string network_path(std::string_view id, std::string_view suffix) {
  return object_path("/networks/", id, suffix);
}

}  // namespace composewatch::engine
