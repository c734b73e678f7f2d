#include "composewatch/docker/api_stats.h"

#include <cctype>

#include "composewatch/docker/json.h"

namespace composewatch::docker {

namespace {

namespace json = boost::json;

const json::value* at(const json::object& o, std::string_view key) { return o.if_contains(key); }

std::optional<std::uint64_t> u64(const json::value* v) {
  if (!v) return std::nullopt;
  if (v->is_uint64()) return v->get_uint64();
  if (v->is_int64() && v->get_int64() >= 0) return std::uint64_t(v->get_int64());
  if (v->is_double() && v->get_double() >= 0) return std::uint64_t(v->get_double());
  return std::nullopt;
}

const json::object* obj(const json::value* v) { return v && v->is_object() ? &v->get_object() : nullptr; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

}  // namespace

std::optional<ResourceStats> parse_api_stats(std::string_view text, std::string_view network_mode) {
  std::string error;
  std::optional<json::value> v = try_parse_bounded(text, kAnswerLimits, error);
  if (!v || !v->is_object()) return std::nullopt;
  const json::object& root = v->get_object();
  const json::object* mem = obj(at(root, "memory_stats"));
  if (!mem || mem->empty()) return std::nullopt;

  ResourceStats s;
  s.memory_usage_bytes = u64(at(*mem, "usage"));
  if (s.memory_usage_bytes) {
    // cgroup v1 engines report total_inactive_file, v2 engines inactive_file.
    std::optional<std::uint64_t> inactive;
    if (const json::object* st = obj(at(*mem, "stats"))) {
      inactive = u64(at(*st, "total_inactive_file"));
      if (!inactive) inactive = u64(at(*st, "inactive_file"));
    }
    s.memory_working_set_bytes = working_set(*s.memory_usage_bytes, inactive);
  }
  if (const json::object* cpu = obj(at(root, "cpu_stats"))) {
    if (const json::object* usage = obj(at(*cpu, "cpu_usage")))
      if (auto ns = u64(at(*usage, "total_usage"))) s.cpu_seconds = double(*ns) / 1e9;
    if (const json::object* thr = obj(at(*cpu, "throttling_data"))) {
      if (auto ns = u64(at(*thr, "throttled_time"))) s.cpu_throttled_seconds = double(*ns) / 1e9;
      s.cpu_periods = u64(at(*thr, "periods"));
      s.cpu_throttled_periods = u64(at(*thr, "throttled_periods"));
    }
  }
  if (const json::object* pids = obj(at(root, "pids_stats"))) s.pids = u64(at(*pids, "current"));
  if (const json::object* blkio = obj(at(root, "blkio_stats"))) {
    const json::value* list = at(*blkio, "io_service_bytes_recursive");
    if (list && list->is_array()) {
      std::uint64_t read = 0, write = 0;
      for (const auto& e : list->get_array()) {
        const json::object* o = obj(&e);
        if (!o) continue;
        const json::value* op = at(*o, "op");
        auto value = u64(at(*o, "value"));
        if (!op || !op->is_string() || !value) continue;
        // "Read"/"Write" on cgroup v1 engines, "read"/"write" on v2.
        if (iequals(op->get_string(), "read")) read += *value;
        else if (iequals(op->get_string(), "write")) write += *value;
      }
      s.blkio_read_bytes = read;
      s.blkio_write_bytes = write;
    } else if (list && list->is_null()) {
      s.blkio_read_bytes = 0;  // the engine sends null when no I/O happened
      s.blkio_write_bytes = 0;
    }
  }
  if (network_mode != "host" && network_mode.substr(0, 10) != "container:") {
    std::uint64_t receive = 0, transmit = 0;
    if (const json::object* nets = obj(at(root, "networks"))) {
      for (const auto& [name, iface] : *nets) {
        if (name == "lo") continue;
        if (const json::object* i = obj(&iface)) {
          receive += u64(at(*i, "rx_bytes")).value_or(0);
          transmit += u64(at(*i, "tx_bytes")).value_or(0);
        }
      }
    }
    s.network_receive_bytes = receive;
    s.network_transmit_bytes = transmit;
  }
  return s;
}

}  // namespace composewatch::docker
