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

// Appends `text` with backslash, newline and (in label values) the double quote escaped.
// Most values need no escape and are appended whole after a memchr per special character;
// string_view::find_first_of would call memchr on the set for every character instead.
void append_escaped(std::string& out, std::string_view text, bool quote) {
  if (text.empty()) return;  // (memchr may not be given a null pointer)
  const auto has = [&](char c) { return std::memchr(text.data(), c, text.size()) != nullptr; };
  if (!has('\\') && !has('\n') && !(quote && has('"'))) {
    out.append(text);
    return;
  }
  std::size_t from = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '\\' && c != '\n' && !(quote && c == '"')) continue;
    out.append(text.data() + from, i - from);
    out.push_back('\\');
    out.push_back(c == '\n' ? 'n' : c);
    from = i + 1;
  }
  out.append(text.data() + from, text.size() - from);
}

}  // namespace

void append_label_value(std::string& out, std::string_view value) { append_escaped(out, value, true); }

void append_value(std::string& out, double value) {
  char buf[32];
  if (std::isnan(value)) {
    out.append("Nan");
    return;
  }
  if (std::isinf(value)) {
    out.append(value < 0 ? "-Inf" : "+Inf");
    return;
  }
  // Most values are counts and bytes: whole numbers below 10^15 print as integers, which is
  // what %.16g prints for them ("-0" for negative zero).
  if (value > -1e15 && value < 1e15 && value == std::trunc(value)) {
    if (value == 0 && std::signbit(value)) {
      out.append("-0");
      return;
    }
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<std::int64_t>(value));
    out.append(buf, end);
    return;
  }
  // std::to_chars with a precision is printf's %.*g in the C locale.
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::general, 16);
  if (ec != std::errc()) throw std::runtime_error("metrics: a value could not be formatted");
  out.append(buf, end);
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
    append_escaped(out_, help_, false);
    out_.push_back('\n');
  }
  out_.append("# TYPE ").append(name_).push_back(' ');
  out_.append(type_name(type_)).push_back('\n');
  head_written_ = true;
}

void TextWriter::sample(const Labels& labels, double value) {
  if (!started_) throw std::logic_error("metrics: a sample before its family");
  if (!head_written_) write_head();
  out_.append(name_);
  if (!labels.empty()) {
    char sep = '{';
    for (const Label& l : labels) {
      out_.push_back(sep);
      out_.append(l.name).append("=\"");
      append_label_value(out_, l.value);
      out_.push_back('"');
      sep = ',';
    }
    out_.push_back('}');
  }
  out_.push_back(' ');
  append_value(out_, value);
  out_.push_back('\n');
  ++samples_;
}

}  // namespace composewatch::metrics
