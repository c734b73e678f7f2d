#include "composewatch/docker/objects.h"

#include <algorithm>
#include <limits>

#include "composewatch/docker/json.h"

namespace composewatch::docker {
namespace json = boost::json;

namespace {

using strict::array_at;
using strict::as_object;
using strict::bool_at;
using strict::fail;
using strict::field;
using strict::int_at;
using strict::labels_at;
using strict::object_at;
using strict::required_string;
using strict::string_at;
using strict::strings_at;

// Every message names where the value sits: "system df: Images[2]: Size is not an integer".
std::string indexed(std::string_view where, std::size_t i) {
  return std::string(where) + "[" + std::to_string(i) + "]";
}

// A size or count: an integer from 0 to kMaxObjectBytes, or -1 where the engine uses it for
// "not computed" (`unknown_allowed`). Anything else is not what an engine sends: a negative
// size would pass a prune's max_bytes brake and a huge one overflow its sums, so it is a
// protocol error, never a number to compute with.
std::int64_t size_at(const json::object& o, std::string_view key, std::string_view where, std::int64_t fallback,
                     bool unknown_allowed = false) {
  const std::int64_t n = int_at(o, key, where, fallback);
  if (n == -1 && unknown_allowed) return n;
  if (n < 0) fail(where, std::string(key) + " is negative (" + std::to_string(n) + ")");
  if (n > kMaxObjectBytes) fail(where, std::string(key) + " is beyond any disk (" + std::to_string(n) + ")");
  return n;
}

// An RFC 3339 string; absent, null, empty and Go's zero time give nullopt.
std::optional<double> time_at(const json::object& o, std::string_view key, std::string_view where) {
  std::string s = string_at(o, key, where);
  if (s.empty() || s.starts_with("0001-01-01")) return std::nullopt;
  std::optional<double> t = parse_rfc3339(s);
  if (!t) fail(where, std::string(key) + " is not an RFC 3339 time: \"" + s + "\"");
  return t;
}

// The engine lists an untagged image as "<none>:<none>" / "<none>@<none>": not names.
void drop_placeholder(std::vector<std::string>& names, std::string_view placeholder) { std::erase(names, placeholder); }

ImageSummary image_from(const json::value& v, std::string_view where) {
  const json::object& o = as_object(v, where);
  ImageSummary img;
  img.id = required_string(o, "Id", where);
  img.repo_tags = strings_at(o, "RepoTags", where);
  img.repo_digests = strings_at(o, "RepoDigests", where);
  drop_placeholder(img.repo_tags, "<none>:<none>");
  drop_placeholder(img.repo_digests, "<none>@<none>");
  img.created = static_cast<double>(int_at(o, "Created", where, 0));
  // VirtualSize (removed in API 1.44) equals Size wherever both exist.
  img.size = size_at(o, "Size", where, size_at(o, "VirtualSize", where, 0));
  img.shared_size = size_at(o, "SharedSize", where, -1, true);
  img.containers = size_at(o, "Containers", where, -1, true);
  if (img.shared_size > img.size) fail(where, "SharedSize is larger than Size");
  img.labels = labels_at(o, "Labels", where);
  return img;
}

ContainerSummary container_from(const json::value& v, std::string_view where) {
  const json::object& o = as_object(v, where);
  ContainerSummary c;
  c.id = required_string(o, "Id", where);
  std::vector<std::string> names = strings_at(o, "Names", where);
  if (!names.empty()) {
    c.name = names.front();
    if (c.name.starts_with('/')) c.name.erase(0, 1);
  }
  c.image = string_at(o, "Image", where);
  c.image_id = string_at(o, "ImageID", where);
  c.state = string_at(o, "State", where);
  c.created = static_cast<double>(int_at(o, "Created", where, 0));
  c.size_rw = size_at(o, "SizeRw", where, -1, true);
  c.labels = labels_at(o, "Labels", where);
  if (const json::array* mounts = array_at(o, "Mounts", where)) {
    for (std::size_t i = 0; i < mounts->size(); ++i) {
      const std::string at = std::string(where) + ": " + indexed("Mounts", i);
      const json::object& m = as_object((*mounts)[i], at);
      c.mounts.push_back({string_at(m, "Type", at), string_at(m, "Name", at), string_at(m, "Source", at),
                          string_at(m, "Destination", at)});
    }
  }
  if (const json::object* settings = object_at(o, "NetworkSettings", where)) {
    if (const json::object* networks = object_at(*settings, "Networks", where)) {
      for (const auto& kv : *networks) {
        const std::string at = std::string(where) + ": Networks." + std::string(kv.key());
        c.network_names.emplace_back(kv.key());
        c.network_ids.push_back(kv.value().is_null() ? std::string()
                                                     : string_at(as_object(kv.value(), at), "NetworkID", at));
      }
    }
  }
  return c;
}

VolumeSummary volume_from(const json::value& v, std::string_view where) {
  const json::object& o = as_object(v, where);
  VolumeSummary vol;
  vol.name = required_string(o, "Name", where);
  vol.driver = string_at(o, "Driver", where);
  vol.mountpoint = string_at(o, "Mountpoint", where);
  vol.created_at = time_at(o, "CreatedAt", where);
  vol.labels = labels_at(o, "Labels", where);
  if (const json::object* usage = object_at(o, "UsageData", where)) {
    vol.size = size_at(*usage, "Size", where, -1, true);
    vol.ref_count = size_at(*usage, "RefCount", where, -1, true);
  }
  return vol;
}

BuildCacheRecord build_cache_from(const json::value& v, std::string_view where) {
  const json::object& o = as_object(v, where);
  BuildCacheRecord r;
  r.id = required_string(o, "ID", where);
  // Docker 28.x sends the key with a leading space (" Parents", a typo in its JSON tag):
  // read as Parents, or the engine's refusal to prune a parent before its child comes back.
  const char* parents_key = !field(o, "Parents") && field(o, " Parents") ? " Parents" : "Parents";
  r.parents = strings_at(o, parents_key, where);
  if (!field(o, parents_key)) {
    std::string parent = string_at(o, "Parent", where);
    if (!parent.empty()) r.parents.push_back(std::move(parent));
  }
  r.type = string_at(o, "Type", where);
  r.description = string_at(o, "Description", where);
  r.in_use = bool_at(o, "InUse", where);
  r.shared = bool_at(o, "Shared", where);
  r.size = size_at(o, "Size", where, 0);
  r.created_at = time_at(o, "CreatedAt", where);
  r.last_used_at = time_at(o, "LastUsedAt", where);
  r.usage_count = size_at(o, "UsageCount", where, 0);
  return r;
}

NetworkSummary network_from(const json::value& v, std::string_view where) {
  const json::object& o = as_object(v, where);
  NetworkSummary n;
  n.id = required_string(o, "Id", where);
  n.name = required_string(o, "Name", where);
  n.driver = string_at(o, "Driver", where);
  n.scope = string_at(o, "Scope", where);
  n.created = time_at(o, "Created", where).value_or(0);
  n.labels = labels_at(o, "Labels", where);
  n.internal = bool_at(o, "Internal", where);
  if (const json::object* attached = object_at(o, "Containers", where)) n.attached = attached->size();
  return n;
}

// A JSON array of objects, each read by `one`; null reads as empty where the engine sends it.
template <class T, class Read>
std::vector<T> list_of(const json::value* v, std::string_view where, Read one) {
  std::vector<T> out;
  if (!v || v->is_null()) return out;
  if (!v->is_array()) fail(where, "not a JSON array");
  const json::array& a = v->get_array();
  out.reserve(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) out.push_back(one(a[i], indexed(where, i)));
  return out;
}

template <class T, class Read>
std::vector<T> top_level_list(std::string_view text, std::string_view where, Read one) {
  json::value v = parse_bounded(text, where);
  if (!v.is_array()) fail(where, "not a JSON array");
  return list_of<T>(&v, where, one);
}

bool is_hex64(std::string_view s) {
  return s.size() == 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

bool VolumeSummary::anonymous() const {
  if (labels.contains(std::string(kLabelAnonymousVolume))) return true;
  return is_hex64(name) && !labels.contains(std::string(kLabelComposeVolume));
}

std::vector<ImageSummary> parse_images(std::string_view text) {
  return top_level_list<ImageSummary>(text, "image list", image_from);
}

ImageSummary parse_image_inspect(std::string_view text) {
  constexpr std::string_view where = "image inspect";
  json::value v = parse_bounded(text, where);
  const json::object& o = as_object(v, where);
  ImageSummary img;
  img.id = required_string(o, "Id", where);
  img.repo_tags = strings_at(o, "RepoTags", where);
  img.repo_digests = strings_at(o, "RepoDigests", where);
  drop_placeholder(img.repo_tags, "<none>:<none>");
  drop_placeholder(img.repo_digests, "<none>@<none>");
  img.created = time_at(o, "Created", where).value_or(0);  // RFC 3339 here, unlike the listing
  img.size = size_at(o, "Size", where, 0);
  if (const json::object* config = object_at(o, "Config", where)) {
    img.labels = labels_at(*config, "Labels", where);
    img.user = string_at(*config, "User", where);
    if (const json::array* env = array_at(*config, "Env", where)) {
      for (const auto& e : *env) {
        if (!e.is_string()) fail(where, "Config.Env holds a non-string");
        const std::string_view kv = e.get_string();
        img.env_keys.emplace_back(kv.substr(0, kv.find('=')));
      }
    }
  }
  if (const json::object* metadata = object_at(o, "Metadata", where))
    img.last_tag_time = time_at(*metadata, "LastTagTime", where);
  return img;
}

std::vector<ImageLayer> parse_image_history(std::string_view text) {
  return top_level_list<ImageLayer>(text, "image history", [](const json::value& v, std::string_view where) {
    const json::object& o = as_object(v, where);
    ImageLayer layer;
    layer.id = required_string(o, "Id", where);
    layer.created = static_cast<double>(int_at(o, "Created", where, 0));
    layer.created_by = string_at(o, "CreatedBy", where);
    layer.size = size_at(o, "Size", where, 0);
    layer.tags = strings_at(o, "Tags", where);
    return layer;
  });
}

std::vector<ContainerSummary> parse_containers(std::string_view text) {
  return top_level_list<ContainerSummary>(text, "container list", container_from);
}

std::vector<VolumeSummary> parse_volumes(std::string_view text) {
  constexpr std::string_view where = "volume list";
  json::value v = parse_bounded(text, where);
  const json::object& o = as_object(v, where);
  return list_of<VolumeSummary>(field(o, "Volumes"), "volume list: Volumes", volume_from);
}

VolumeSummary parse_volume(std::string_view text) {
  constexpr std::string_view where = "volume inspect";
  return volume_from(parse_bounded(text, where), where);
}

std::vector<NetworkSummary> parse_networks(std::string_view text) {
  return top_level_list<NetworkSummary>(text, "network list", network_from);
}

NetworkSummary parse_network(std::string_view text) {
  constexpr std::string_view where = "network inspect";
  return network_from(parse_bounded(text, where), where);
}

SystemDf parse_system_df(std::string_view text) {
  constexpr std::string_view where = "system df";
  json::value v = parse_bounded(text, where);
  const json::object& o = as_object(v, where);
  SystemDf df;
  df.layers_size = size_at(o, "LayersSize", where, 0);
  df.images = list_of<ImageSummary>(field(o, "Images"), "system df: Images", image_from);
  df.containers = list_of<ContainerSummary>(field(o, "Containers"), "system df: Containers", container_from);
  df.volumes = list_of<VolumeSummary>(field(o, "Volumes"), "system df: Volumes", volume_from);
  df.build_cache = list_of<BuildCacheRecord>(field(o, "BuildCache"), "system df: BuildCache", build_cache_from);
  return df;
}

BuildPruneAnswer parse_build_prune(std::string_view text) {
  constexpr std::string_view where = "build prune";
  json::value v = parse_bounded(text, where);
  const json::object& o = as_object(v, where);
  BuildPruneAnswer a;
  a.deleted = strings_at(o, "CachesDeleted", where);
  a.reclaimed = size_at(o, "SpaceReclaimed", where, 0);
  return a;
}

// As docker/cli 28.x computes `docker system df` from the same answer:
// cli/command/formatter/disk_usage.go (diskUsage{Images,Containers,Volumes,Builder}Context)
// and cli/command/system/df.go (BuilderSize). The same rules, moved into the client, are
// moby/moby client/system_disk_usage.go (*DiskUsageFromLegacyAPI) for API < 1.52, except
// images' reclaimable, which that newer code sums over unused images instead.
DiskSummary summarize(const SystemDf& df) {
  DiskSummary s;

  // Images: SIZE is LayersSize (each layer once); RECLAIMABLE is what remains after the
  // unique part (Size - SharedSize) of every image a container uses; ACTIVE counts those.
  s.images.objects = df.images.size();
  s.images.total_bytes = df.layers_size;
  std::int64_t used = 0;
  for (const auto& img : df.images) {
    if (img.containers > 0) ++s.images.active;
    if (img.containers != 0 && img.size != -1 && img.shared_size != -1) used += img.size - img.shared_size;
  }
  s.images.reclaimable_bytes = df.layers_size - used;

  // Containers: writable layers; those not running, paused or restarting are reclaimable.
  // The engine omits SizeRw when it is 0.
  s.containers.objects = df.containers.size();
  for (const auto& c : df.containers) {
    const std::int64_t size = std::max<std::int64_t>(c.size_rw, 0);
    const bool active = c.state.find("running") != std::string::npos || c.state.find("paused") != std::string::npos ||
                        c.state.find("restarting") != std::string::npos;
    s.containers.total_bytes += size;
    if (active)
      ++s.containers.active;
    else
      s.containers.reclaimable_bytes += size;
  }

  // Volumes: sizes the engine could measure (not -1); those no container refers to are
  // reclaimable; ACTIVE counts volumes with references.
  s.volumes.objects = df.volumes.size();
  for (const auto& vol : df.volumes) {
    if (vol.ref_count > 0) ++s.volumes.active;
    if (vol.size == -1) continue;
    s.volumes.total_bytes += vol.size;
    if (vol.ref_count == 0) s.volumes.reclaimable_bytes += vol.size;
  }

  // Build cache: SIZE counts records not shared with images (shared ones are the images'
  // layers, already in Images); RECLAIMABLE is that minus what is in use.
  s.build_cache.objects = df.build_cache.size();
  std::int64_t in_use = 0;
  for (const auto& r : df.build_cache) {
    if (!r.shared) s.build_cache.total_bytes += r.size;
    if (r.in_use) {
      ++s.build_cache.active;
      if (!r.shared) in_use += r.size;
    }
  }
  s.build_cache.reclaimable_bytes = s.build_cache.total_bytes - in_use;
  return s;
}

std::vector<LogLine> demux_logs(std::string_view body, bool tty) {
  using Stream = LogLine::Stream;
  std::vector<LogLine> lines;
  // Per stream: the unterminated rest, and when it began (for the order of the final rests).
  struct Pending {
    std::string text;
    std::size_t since = 0;
  };
  Pending pending[2];
  std::size_t sequence = 0;

  auto feed = [&](Stream stream, std::string_view data) {
    Pending& p = pending[stream == Stream::stdout_ ? 0 : 1];
    while (!data.empty()) {
      if (p.text.empty()) p.since = sequence++;
      const std::size_t nl = data.find('\n');
      if (nl == std::string_view::npos) {
        p.text.append(data);
        return;
      }
      p.text.append(data.substr(0, nl));
      if (p.text.ends_with('\r')) p.text.pop_back();
      lines.push_back({stream, std::move(p.text)});
      p.text.clear();
      data.remove_prefix(nl + 1);
    }
  };

  if (tty) {
    feed(Stream::stdout_, body);
  } else {
    constexpr std::size_t kHeader = 8;
    std::size_t pos = 0;
    while (body.size() - pos >= kHeader) {
      const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(body[pos + i]); };
      const unsigned type = byte(0);
      if (type > 3)
        throw ParseError("container logs: frame at byte " + std::to_string(pos) + " has stream type " +
                         std::to_string(type) + " (a TTY container's logs read as frames?)");
      const std::uint32_t size = (std::uint32_t{byte(4)} << 24) | (std::uint32_t{byte(5)} << 16) |
                                 (std::uint32_t{byte(6)} << 8) | std::uint32_t{byte(7)};
      pos += kHeader;
      const std::size_t take = std::min<std::size_t>(size, body.size() - pos);
      feed(type == 2 || type == 3 ? Stream::stderr_ : Stream::stdout_, body.substr(pos, take));
      pos += take;
    }
  }

  // The rests without a line end, in the order they began.
  const bool stdout_first = pending[0].since <= pending[1].since;
  for (int i : {stdout_first ? 0 : 1, stdout_first ? 1 : 0}) {
    Pending& p = pending[i];
    if (p.text.ends_with('\r')) p.text.pop_back();
    if (p.text.empty()) continue;
    lines.push_back({i == 0 ? Stream::stdout_ : Stream::stderr_, std::move(p.text)});
  }
  return lines;
}

}  // namespace composewatch::docker
