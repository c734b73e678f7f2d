#include "composewatch/docker/image_ref.h"

namespace composewatch::docker {

std::string normalize_image_ref(std::string_view ref) {
  std::string r(ref);
  for (std::string_view prefix : {"docker.io/", "index.docker.io/", "registry-1.docker.io/"}) {
    if (r.starts_with(prefix)) {
      r.erase(0, prefix.size());
      if (r.starts_with("library/")) r.erase(0, 8);
      break;
    }
  }
  if (r.starts_with("library/") && r.find('/', 8) == std::string::npos) r.erase(0, 8);
  if (r.find('@') != std::string::npos) return r;
  // A ':' after the last '/' is a tag; one before it belongs to a registry's port.
  auto slash = r.rfind('/');
  auto colon = r.rfind(':');
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash)) r += ":latest";
  return r;
}

ImageRef parse_image_ref(std::string_view ref) {
  std::string r = normalize_image_ref(ref);
  ImageRef out;
  if (const auto at = r.find('@'); at != std::string::npos) {
    out.digest = r.substr(at + 1);
    r.erase(at);
  }
  // A ':' after the last '/' is a tag; one before it belongs to a registry's port.
  const auto slash = r.rfind('/');
  const auto colon = r.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    out.tag = r.substr(colon + 1);
    r.erase(colon);
  } else if (out.digest.empty()) {
    out.tag = "latest";
  }
  out.repository = std::move(r);
  return out;
}

}  // namespace composewatch::docker
