#pragma once
// Image references as the engine reads them ("busybox", "docker.io/library/x:1",
// "registry:5000/app:1.2@sha256:…"): normalised so that the forms the engine treats as one
// image compare equal, and taken apart. Pure functions; no I/O.

#include <string>
#include <string_view>

namespace composewatch::docker {

// "busybox" → "busybox:latest", "docker.io/library/x:1" → "x:1": the forms the engine
// treats as one image compare equal. Digests are kept as written.
std::string normalize_image_ref(std::string_view ref);

// An image reference taken apart, normalised as above: "nginx:1.25@sha256:ab…" is
// repository "nginx", tag "1.25", digest "sha256:ab…"; "x@sha256:…" has no tag; "x" has
// tag "latest". The engine pulls by the digest when there is one and ignores the tag.
struct ImageRef {
  std::string repository;
  std::string tag;     // empty when pinned by digest without a tag
  std::string digest;  // "sha256:…"; empty when none
  bool operator==(const ImageRef&) const = default;
};
ImageRef parse_image_ref(std::string_view ref);

}  // namespace composewatch::docker
