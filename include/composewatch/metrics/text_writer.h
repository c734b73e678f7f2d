#pragma once
// The Prometheus text exposition format 0.0.4, written straight into a caller's buffer.
//
// Why not prometheus::TextSerializer: it takes a vector of MetricFamily, so every series
// is first built as a ClientMetric (a vector of label strings, a heap allocation or more per
// series) and then written through std::ostream insertions. At a scrape of 200 containers
// (~5,500 series) that cost more than the reading of the cgroup files it reports. Here a
// collector writes each family whole, its samples straight after its # HELP and # TYPE
// lines, with labels passed as views: a scrape allocates nothing per series, and the
// buffer is sized once from the previous body (Exposition). The bytes are those
// TextSerializer writes for the same families (tests/unit/metrics/text_writer_test.cpp
// compares the two), except that # HELP text is escaped as the format asks (backslash and
// newline), which TextSerializer 1.0 does not do.
//
// Not thread-safe; one writer per buffer. Label views must stay valid until sample()
// returns (a temporary std::string in the call's full expression is fine).

#include <array>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>

namespace composewatch::metrics {

// The family types composewatch exports (no summaries or histograms).
enum class MetricType { counter, gauge };

struct Label {
  std::string_view name;
  std::string_view value;
};

// A series' labels, as views: at most kMax, no allocation.
class Labels {
 public:
  static constexpr std::size_t kMax = 8;

  Labels() = default;
  // Throws std::length_error beyond kMax labels.
  Labels(std::initializer_list<Label> labels);

  // Appends one label. Throws std::length_error beyond kMax labels.
  Labels& add(std::string_view name, std::string_view value);
  // A copy with one label more.
  Labels with(std::string_view name, std::string_view value) const;

  const Label* begin() const { return items_.data(); }
  const Label* end() const { return items_.data() + size_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  std::array<Label, kMax> items_{};
  std::size_t size_ = 0;
};

class TextWriter {
 public:
  // Whether a family with no sample is written (its # HELP and # TYPE lines alone) or left out.
  enum class IfEmpty { write, omit };

  explicit TextWriter(std::string& out) : out_(out) {}

  // Starts the next family; the previous one is complete. `name` and `help` must stay
  // valid until the next family() (collectors pass literals).
  void family(std::string_view name, std::string_view help, MetricType type, IfEmpty if_empty = IfEmpty::write);
  // One sample of the current family. Throws std::logic_error before the first family().
  void sample(const Labels& labels, double value);
  void sample(double value) { sample(Labels{}, value); }

  // Samples written in the current family.
  std::size_t samples() const { return samples_; }

 private:
  void write_head();

  std::string& out_;
  std::string_view name_, help_;
  MetricType type_ = MetricType::gauge;
  bool head_written_ = true;  // no family yet
  bool started_ = false;
  std::size_t samples_ = 0;
};

// A value as the text format writes it: integers exactly (up to 16 digits), other numbers
// with 16 significant digits (printf's %.16g, as TextSerializer), NaN as "Nan", infinities
// as "+Inf"/"-Inf".
void append_value(std::string& out, double value);

// A label value with backslash, double quote and newline escaped.
void append_label_value(std::string& out, std::string_view value);

}  // namespace composewatch::metrics
