#include "composewatch/metrics/text_writer.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace composewatch::metrics {

Labels::Labels(std::initializer_list<Label> labels) {
  for (const Label& l : labels) add(l.name, l.value);
}

Labels& Labels::add(std::string_view name, std::string_view value) {
  if (size_ == kMax) throw std::length_error("metrics: more than 8 labels on one series");
  items_[size_++] = Label{name, value};
  return *this;
}

Labels Labels::with(std::string_view name, std::string_view value) const {
  Labels l = *this;
  l.add(name, value);
  return l;
}

namespace {

std::string_view type_name(MetricType type) { return type == MetricType::counter ? "counter" : "gauge"; }

// Writes `text` at `p` with backslash, newline and (in label values) the double quote
// escaped; returns the end. At most twice text.size() bytes. Most values need no escape
// and are copied whole after a memchr per special character (string_view::find_first_of
// would call memchr on the set for every character instead).
char* put_escaped(char* p, std::string_view text, bool quote) {
  if (text.empty()) return p;  // (memchr and memcpy may not be given a null pointer)
  const auto has = [&](char c) { return std::memchr(text.data(), c, text.size()) != nullptr; };
  if (!has('\\') && !has('\n') && !(quote && has('"'))) {
    std::memcpy(p, text.data(), text.size());
    return p + text.size();
  }
  for (const char c : text) {
    if (c == '\\' || c == '\n' || (quote && c == '"')) {
      *p++ = '\\';
      *p++ = c == '\n' ? 'n' : c;
    } else {
      *p++ = c;
    }
  }
  return p;
}

char* put(char* p, std::string_view text) {
  if (!text.empty()) std::memcpy(p, text.data(), text.size());
  return p + text.size();
}

// The longest value put_value writes: "-2.225073858507201e-308" is 23 characters.
constexpr std::size_t kMaxValue = 32;

// Writes `value` at `p` (at most kMaxValue bytes); returns the end.
char* put_value(char* p, double value) {
  if (std::isnan(value)) return put(p, "Nan");
  if (std::isinf(value)) return put(p, value < 0 ? "-Inf" : "+Inf");
  // Most values are counts and bytes: whole numbers below 10^15 print as integers, which is
  // what %.16g prints for them ("-0" for negative zero).
  if (value > -1e15 && value < 1e15 && value == std::trunc(value)) {
    if (value == 0 && std::signbit(value)) return put(p, "-0");
    return std::to_chars(p, p + kMaxValue, static_cast<std::int64_t>(value)).ptr;
  }
  // std::to_chars with a precision is printf's %.*g in the C locale.
  auto [end, ec] = std::to_chars(p, p + kMaxValue, value, std::chars_format::general, 16);
  if (ec != std::errc()) throw std::runtime_error("metrics: a value could not be formatted");
  return end;
}

// Grows `out` by up to `bound` bytes, hands `write` the start of the new bytes and keeps
// what it wrote (the end it returns). Within the reserved body, the resize is a memset of
// the bound and no allocation: far cheaper than a std::string::append per piece.
template <class Write>
void append_bounded(std::string& out, std::size_t bound, Write write) {
  const std::size_t at = out.size();
  out.resize(at + bound);
  char* const begin = out.data();
  out.resize(std::size_t(write(begin + at) - begin));
}

}  // namespace

void append_label_value(std::string& out, std::string_view value) {
  append_bounded(out, 2 * value.size(), [&](char* p) { return put_escaped(p, value, true); });
}

void append_value(std::string& out, double value) {
  append_bounded(out, kMaxValue, [&](char* p) { return put_value(p, value); });
}

void TextWriter::family(std::string_view name, std::string_view help, MetricType type, IfEmpty if_empty) {
  name_ = name;
  help_ = help;
  type_ = type;
  samples_ = 0;
  started_ = true;
  head_written_ = false;
  if (if_empty == IfEmpty::write) write_head();
}

void TextWriter::write_head() {
  if (!help_.empty()) {
    out_.append("# HELP ").append(name_).push_back(' ');
    append_bounded(out_, 2 * help_.size(), [&](char* p) { return put_escaped(p, help_, false); });
    out_.push_back('\n');
  }
  out_.append("# TYPE ").append(name_).push_back(' ');
  out_.append(type_name(type_)).push_back('\n');
  head_written_ = true;
}

void TextWriter::sample(const Labels& labels, double value) {
  if (!started_) throw std::logic_error("metrics: a sample before its family");
  if (!head_written_) write_head();
  // name{l="v",...} value\n, with every label value escaped at worst to twice its size.
  std::size_t bound = name_.size() + 2 + 1 + kMaxValue + 1;
  for (const Label& l : labels) bound += l.name.size() + 4 + 2 * l.value.size();
  append_bounded(out_, bound, [&](char* p) {
    p = put(p, name_);
    if (!labels.empty()) {
      char sep = '{';
      for (const Label& l : labels) {
        *p++ = sep;
        p = put(p, l.name);
        *p++ = '=';
        *p++ = '"';
        p = put_escaped(p, l.value, true);
        *p++ = '"';
        sep = ',';
      }
      *p++ = '}';
    }
    *p++ = ' ';
    p = put_value(p, value);
    *p++ = '\n';
    return p;
  });
  ++samples_;
}

}  // namespace composewatch::metrics
