#include "composewatch/docker/info.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace composewatch::docker {

EngineCgroupInfo parse_engine_info(std::string_view json) {
  EngineCgroupInfo info;
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(json, ec);
  if (ec || !v.is_object()) return info;
  const auto& o = v.get_object();
  if (auto* d = o.if_contains("CgroupDriver"); d && d->is_string()) info.driver = std::string(d->get_string());
  if (auto* d = o.if_contains("CgroupVersion"); d && d->is_string()) info.version = std::string(d->get_string());
  if (auto* so = o.if_contains("SecurityOptions"); so && so->is_array())
    for (const auto& opt : so->get_array())
      if (opt.is_string() && opt.get_string() == "name=rootless") info.rootless = true;
  return info;
}

}  // namespace composewatch::docker
