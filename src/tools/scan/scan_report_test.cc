#include "scan_report.h"

#include <gtest/gtest.h>

#include <sstream>

namespace sonic::tools {
namespace {

TEST(ScanReportTest, CsvAndAnswer) {
  ScanPoint one{.jobs = 1, .threads = 4, .total_throughput = 20, .per_job_throughput = 20,
                .min_job_throughput = 20, .mean_latency_ms = 50.0};
  ScanPoint two = one;
  two.jobs = 2;
  two.mean_latency_ms.reset();
  std::ostringstream out;
  WriteScanCsv(out, {one, two});
  EXPECT_EQ(out.str(),
            "jobs,threads,total_throughput,per_job_throughput,min_job_throughput,mean_latency_ms\n"
            "1,4,20.000,20.000,20.000,50.000\n"
            "2,4,20.000,20.000,20.000,\n");
  Saturation saturation{.sustained_jobs = 115, .saturated = true, .saturated_at = 120,
                        .peak_throughput = 1150};
  EXPECT_EQ(SaturationAnswer(saturation, 4, "model m", 0.1),
            "this server sustains about 115 jobs of 4 threads for model m (peak 1150.0 events/s; "
            "per-job throughput fell by more than 10% at 120 jobs)");
  saturation.saturated = false;
  saturation.saturated_at.reset();
  EXPECT_NE(SaturationAnswer(saturation, 4, "w", 0.1).find("at least 115 jobs"),
            std::string::npos);
}

TEST(ScanReportTest, GnuplotScriptNamesItsFilesAndTheKnee) {
  Saturation saturation{.sustained_jobs = 7, .saturated = true, .saturated_at = 8,
                        .peak_throughput = 1};
  std::vector<ScanPoint> points(2);
  points[0].jobs = 1;
  points[1].jobs = 41;
  std::string script =
      GnuplotScript("/tmp/a.csv", "/tmp/a.png", points, saturation, "t \"q\"");
  EXPECT_NE(script.find("set output \"/tmp/a.png\""), std::string::npos);
  EXPECT_NE(script.find("plot \"/tmp/a.csv\""), std::string::npos);
  EXPECT_NE(script.find("set arrow from 7, graph 0 to 7"), std::string::npos);
  EXPECT_NE(script.find("set xtics 4\n"), std::string::npos);
  EXPECT_NE(script.find("set title \"t 'q'\""), std::string::npos);
}

}  // namespace
}  // namespace sonic::tools
