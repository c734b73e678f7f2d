// The text format writer against prometheus-cpp's TextSerializer, the reference: the same
// families give the same bytes (the exposition did not change when the writer replaced it).

#include "composewatch/metrics/text_writer.h"

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

#include <bit>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <sstream>

using namespace composewatch;

namespace {

struct Series {
  std::vector<std::pair<std::string, std::string>> labels;
  double value;
};
struct TestFamily {
  std::string name, help;
  metrics::MetricType type;
  std::vector<Series> series;
};

std::string with_writer(const std::vector<TestFamily>& families) {
  std::string out;
  metrics::TextWriter w(out);
  for (const auto& f : families) {
    w.family(f.name, f.help, f.type);
    for (const auto& s : f.series) {
      metrics::Labels labels;
      for (const auto& [n, v] : s.labels) labels.add(n, v);
      w.sample(labels, s.value);
    }
  }
  return out;
}

std::string with_text_serializer(const std::vector<TestFamily>& families) {
  std::vector<prometheus::MetricFamily> fs;
  for (const auto& f : families) {
    prometheus::MetricFamily pf;
    pf.name = f.name;
    pf.help = f.help;
    pf.type = f.type == metrics::MetricType::counter ? prometheus::MetricType::Counter : prometheus::MetricType::Gauge;
    for (const auto& s : f.series) {
      prometheus::ClientMetric m;
      for (const auto& [n, v] : s.labels) m.label.push_back({n, v});
      (f.type == metrics::MetricType::counter ? m.counter.value : m.gauge.value) = s.value;
      pf.metric.push_back(std::move(m));
    }
    fs.push_back(std::move(pf));
  }
  std::ostringstream os;
  prometheus::TextSerializer().Serialize(os, fs);
  return std::move(os).str();
}

// The values a scrape writes and the awkward ones: counts and bytes, timestamps, seconds,
// fractions, huge and tiny numbers, negative zero, NaN and the infinities.
double random_value(std::mt19937_64& rng) {
  std::uniform_int_distribution<int> kind(0, 9);
  switch (kind(rng)) {
    case 0:
      return double(std::uniform_int_distribution<std::int64_t>(0, 10)(rng));
    case 1:
      return double(std::uniform_int_distribution<std::int64_t>(0, std::int64_t(1) << 40)(rng));
    case 2:
      return double(std::uniform_int_distribution<std::int64_t>(std::numeric_limits<std::int64_t>::min(),
                                                                std::numeric_limits<std::int64_t>::max())(rng));
    case 3:
      return 1.7e9 + std::uniform_real_distribution<double>(0, 1e8)(rng);  // a timestamp
    case 4:
      return std::uniform_real_distribution<double>(0, 1)(rng);
    case 5:
      return std::ldexp(std::uniform_real_distribution<double>(-1, 1)(rng),
                        std::uniform_int_distribution<int>(-1074, 1023)(rng));
    case 6:
      return double(std::uniform_int_distribution<std::int64_t>(999'999'999'999'990, 10'000'000'000'000'010)(rng));
    case 7: {
      const double special[] = {0.0,
                                -0.0,
                                std::numeric_limits<double>::quiet_NaN(),
                                std::numeric_limits<double>::infinity(),
                                -std::numeric_limits<double>::infinity(),
                                std::numeric_limits<double>::max(),
                                std::numeric_limits<double>::lowest(),
                                std::numeric_limits<double>::denorm_min(),
                                1e15,
                                -1e15,
                                1e16,
                                0.1,
                                1e21};
      return special[std::uniform_int_distribution<std::size_t>(0, std::size(special) - 1)(rng)];
    }
    case 8:
      return -double(std::uniform_int_distribution<std::int64_t>(0, 1'000'000)(rng)) / 8;
    default:
      return std::uniform_real_distribution<double>(-1e6, 1e6)(rng);
  }
}

std::string random_label_value(std::mt19937_64& rng) {
  static const std::string alphabet = "abcXYZ019_-./:@ é\"\\\n{}=,";
  std::string v(std::uniform_int_distribution<std::size_t>(0, 24)(rng), ' ');
  for (char& c : v) c = alphabet[std::uniform_int_distribution<std::size_t>(0, alphabet.size() - 1)(rng)];
  return v;
}

}  // namespace

TEST(MetricsTextWriter, WritesWhatTextSerializerWritesForTheSameFamilies) {
  std::mt19937_64 rng(20261206);
  std::vector<TestFamily> families;
  for (int f = 0; f < 300; ++f) {
    TestFamily fam{"composewatch_test_family_" + std::to_string(f),
                   f % 7 == 0 ? "" : "Help of family " + std::to_string(f) + ", with \"quotes\" and é.",
                   f % 2 ? metrics::MetricType::counter : metrics::MetricType::gauge,
                   {}};
    const int n = std::uniform_int_distribution<int>(0, 40)(rng);
    for (int i = 0; i < n; ++i) {
      Series s{{}, random_value(rng)};
      const int labels = std::uniform_int_distribution<int>(0, int(metrics::Labels::kMax))(rng);
      for (int l = 0; l < labels; ++l) s.labels.emplace_back("label_" + std::to_string(l), random_label_value(rng));
      fam.series.push_back(std::move(s));
    }
    families.push_back(std::move(fam));
  }
  const std::string want = with_text_serializer(families);
  const std::string got = with_writer(families);
  ASSERT_EQ(got.size(), want.size());
  EXPECT_EQ(got, want);
}

TEST(MetricsTextWriter, ValuesAreFormattedAsPrintfWithSixteenDigits) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200'000; ++i) {
    const double v = random_value(rng);
    std::string got;
    metrics::append_value(got, v);
    char want[64];
    if (std::isnan(v))
      std::snprintf(want, sizeof want, "Nan");
    else if (std::isinf(v))
      std::snprintf(want, sizeof want, "%s", v < 0 ? "-Inf" : "+Inf");
    else
      std::snprintf(want, sizeof want, "%.16g", v);
    ASSERT_EQ(got, want) << "for the double with bits " << std::hex << std::bit_cast<std::uint64_t>(v);
  }
}

TEST(MetricsTextWriter, EscapesHelpAsTheFormatAsks) {
  // TextSerializer 1.0 writes help verbatim, so a newline in it would break the exposition.
  std::string out;
  metrics::TextWriter w(out);
  w.family("x", "a\\b\nc \"d\"", metrics::MetricType::gauge);
  w.sample({{"l", "a\\b\nc\"d"}}, 1);
  EXPECT_EQ(out, "# HELP x a\\\\b\\nc \"d\"\n# TYPE x gauge\nx{l=\"a\\\\b\\nc\\\"d\"} 1\n");
}

TEST(MetricsTextWriter, AFamilyLeftOutWhenEmptyIsWrittenAtItsFirstSample) {
  std::string out;
  metrics::TextWriter w(out);
  w.family("gone", "Never sampled.", metrics::MetricType::gauge, metrics::TextWriter::IfEmpty::omit);
  w.family("kept_total", "Sampled.", metrics::MetricType::counter, metrics::TextWriter::IfEmpty::omit);
  w.sample({{"a", "1"}}, 2);
  w.sample({{"a", "2"}}, 3);
  EXPECT_EQ(w.samples(), 2u);
  w.family("empty", "Written without samples.", metrics::MetricType::gauge);
  EXPECT_EQ(out,
            "# HELP kept_total Sampled.\n# TYPE kept_total counter\nkept_total{a=\"1\"} 2\nkept_total{a=\"2\"} 3\n"
            "# HELP empty Written without samples.\n# TYPE empty gauge\n");
}

TEST(MetricsTextWriter, RefusesASampleWithoutAFamilyAndMoreLabelsThanItHolds) {
  std::string out;
  metrics::TextWriter w(out);
  EXPECT_THROW(w.sample(1), std::logic_error);
  metrics::Labels l;
  for (std::size_t i = 0; i < metrics::Labels::kMax; ++i) l.add("l", "v");
  EXPECT_THROW(l.add("one", "more"), std::length_error);
  EXPECT_THROW(l.with("one", "more"), std::length_error);
  EXPECT_TRUE(out.empty());
}
