#include "composewatch/docker/info.h"

#include "composewatch/docker/json.h"

namespace composewatch::docker {

EngineCgroupInfo parse_engine_info(std::string_view json) {
  EngineCgroupInfo info;
  std::string error;
  std::optional<boost::json::value> v = try_parse_bounded(json, kAnswerLimits, error);
  if (!v || !v->is_object()) return info;
  const auto& o = v->get_object();
  if (auto* d = o.if_contains("CgroupDriver"); d && d->is_string()) info.driver = std::string(d->get_string());
  if (auto* d = o.if_contains("CgroupVersion"); d && d->is_string()) info.version = std::string(d->get_string());
  if (auto* so = o.if_contains("SecurityOptions"); so && so->is_array())
    for (const auto& opt : so->get_array())
      if (opt.is_string() && opt.get_string() == "name=rootless") info.rootless = true;
  return info;
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
