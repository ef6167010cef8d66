#include "batch_sweep.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

namespace sonic::tools {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(BatchSweepTest, ParsesBatchSizes) {
  auto sizes = ParseBatchSizes("1,2,64");
  ASSERT_TRUE(sizes.ok()) << sizes.status();
  EXPECT_THAT(*sizes, ElementsAre(1, 2, 64));
  for (const char* bad : {"", "1,,2", "0", "4,x", "-2"}) {
    auto parsed = ParseBatchSizes(bad);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_THAT(std::string(ParseBatchSizes("4,x").status().message()), HasSubstr("'x'"));
}

TEST(BatchSweepTest, CsvAndScriptHaveOneLinePerModel) {
  const std::vector<SweepPoint> points = {
      {"a", 1, 2, 100.5, 3.25, true}, {"a", 4, 2, 300, 4, true}, {"b\"x", 1, 2, 90, 3, false}};
  std::ostringstream csv;
  WriteSweepCsv(csv, points);
  EXPECT_EQ(csv.str(),
            "model,batch_size,load,throughput_infer_per_sec,mean_latency_ms,stable\n"
            "a,1,2,100.500,3.250,1\na,4,2,300.000,4.000,1\nb\"x,1,2,90.000,3.000,0\n");
  const std::string script = SweepGnuplotScript("p.csv", "p.png", points, "t");
  EXPECT_THAT(script, HasSubstr("set output \"p.png\""));
  EXPECT_THAT(script, HasSubstr("strcol(1) eq \"a\""));
  EXPECT_THAT(script, HasSubstr("title \"b'x\""));  // a quote would end gnuplot's string
  EXPECT_EQ(PlotSweep("p.png", {}, "t").code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sonic::tools
