#include "composewatch/docker/info.h"

#include "composewatch/docker/json.h"

namespace composewatch::docker {

EngineInfo parse_info(std::string_view json) {
  constexpr std::string_view where = "info";
  const boost::json::value v = parse_bounded(json, where);
  const boost::json::object& o = strict::as_object(v, where);
  EngineInfo info;
  info.docker_root_dir = strict::string_at(o, "DockerRootDir", where);
  // The cgroup fields are read leniently, as they always were: a value of another type
  // leaves that field unknown, not the answer unread.
  info.cgroup.driver = lenient::string_at(&o, "CgroupDriver");
  info.cgroup.version = lenient::string_at(&o, "CgroupVersion");
  if (auto* so = o.if_contains("SecurityOptions"); so && so->is_array())
    for (const auto& opt : so->get_array())
      if (opt.is_string() && opt.get_string() == "name=rootless") info.cgroup.rootless = true;
  return info;
}

EngineCgroupInfo parse_engine_info(std::string_view json) {
  try {
    return parse_info(json).cgroup;
  } catch (const ParseError&) {
    return {};
  }
}

std::string parse_docker_root_dir(std::string_view json) {
  std::string dir = parse_info(json).docker_root_dir;
  if (dir.empty()) throw ParseError("info: missing DockerRootDir");
  return dir;
}

VersionInfo parse_version(std::string_view json) {
  const boost::json::value v = parse_bounded(json, "version");
  if (!v.is_object()) throw ParseError("version: not a JSON object");
  const boost::json::object& o = v.get_object();
  return VersionInfo{.version = lenient::string_at(&o, "Version"), .api_version = lenient::string_at(&o, "ApiVersion")};
}

std::optional<std::string> parse_error_message(std::string_view body) {
  std::string error;
  std::optional<boost::json::value> v = try_parse_bounded(body, kAnswerLimits, error);
  if (!v || !v->is_object()) return std::nullopt;
  const boost::json::value* m = v->get_object().if_contains("message");
  if (!m || !m->is_string()) return std::nullopt;
  return std::string(m->get_string());
}

}  // namespace composewatch::docker
