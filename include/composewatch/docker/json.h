#pragma once
// The one place engine answers become JSON values: a bounded parse, and the typed getters
// every docker/ parser reads fields with. Only parsers of engine JSON include this (it
// brings boost/json/value.hpp); everyone else takes their parsed types.
//
// Error policy: parse_bounded and the strict getters throw ParseError (container.h) with a
// message that names the answer and the field: "image inspect: Config.Env is not a list".
// try_parse_bounded and the lenient getters never throw.

#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "composewatch/docker/container.h"

namespace composewatch::docker {

// How much of an answer is read at all. Nesting beyond max_depth is never what an engine
// sends, and refusing it keeps the recursive parse and the value's destruction shallow.
struct JsonLimits {
  std::size_t max_bytes;
  std::size_t max_depth;
};
// An answer to a request: the engine client's default body limit (ClientOptions::body_limit).
inline constexpr JsonLimits kAnswerLimits{64 * 1024 * 1024, 64};
// One line of the event stream: the client's default event_line_limit; events are flat.
inline constexpr JsonLimits kEventLimits{1024 * 1024, 16};

// The value, or nullopt with `error` saying why: "larger than 1048576 bytes (1048577)",
// "invalid JSON: <reason>" (depth beyond the limit is one such reason).
std::optional<boost::json::value> try_parse_bounded(std::string_view body, JsonLimits limits, std::string& error);

// The value; throws ParseError("<what>: <error>") where try_parse_bounded gives an error.
boost::json::value parse_bounded(std::string_view body, std::string_view what, JsonLimits limits = kAnswerLimits);

// Strict getters for an answer whose shape is a protocol: a field that is absent or null
// reads as the fallback, a field of another type throws ParseError("<where>: <key> is not …").
namespace strict {

[[noreturn]] void fail(std::string_view where, std::string_view what);

// The field, or nullptr when it is absent or null.
const boost::json::value* field(const boost::json::object& o, std::string_view key);
const boost::json::object& as_object(const boost::json::value& v, std::string_view where);
const boost::json::object* object_at(const boost::json::object& o, std::string_view key, std::string_view where);
const boost::json::array* array_at(const boost::json::object& o, std::string_view key, std::string_view where);
std::string string_at(const boost::json::object& o, std::string_view key, std::string_view where);
// As string_at, and "<where>: missing <key>" when it is absent or empty.
std::string required_string(const boost::json::object& o, std::string_view key, std::string_view where);
// An integer that fits int64.
std::int64_t int_at(const boost::json::object& o, std::string_view key, std::string_view where,
                    std::int64_t fallback);
bool bool_at(const boost::json::object& o, std::string_view key, std::string_view where);
std::vector<std::string> strings_at(const boost::json::object& o, std::string_view key, std::string_view where);
std::map<std::string, std::string> labels_at(const boost::json::object& o, std::string_view key,
                                             std::string_view where);

}  // namespace strict

// Lenient getters for answers read for what they hold, where a missing or odd field is
// "not reported": absent, null or another type give nullptr, "" or false.
namespace lenient {

const boost::json::object* object_at(const boost::json::object* o, std::string_view key);
std::string string_at(const boost::json::object* o, std::string_view key);
bool bool_at(const boost::json::object* o, std::string_view key);

}  // namespace lenient

}  // namespace composewatch::docker
