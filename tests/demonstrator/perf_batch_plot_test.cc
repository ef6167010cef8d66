// `sonic perf --batch-sizes ... --compare-model ... --plot`: the TorchScript and ONNX versions of
// the padded ParticleNet measured through the real sonic-server at two batch sizes, the PNG
// written by gnuplot and its CSV holding one measured row per model and batch size. No speed is
// judged: count windows end only once requests have ended, however slow the build (a sanitized
// TorchScript's first calls outlast short time windows).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "generated_models_server.h"
#include "gnuplot.h"

namespace sonic::demo {
namespace {

std::string ReadFile(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(PerfBatchPlotTest, PlotsThroughputAgainstBatchSizeForEachModel) {
  if (tools::FindGnuplot().empty()) GTEST_SKIP() << "gnuplot is not installed: no plot to check";
  models::GenerateOptions options;
  options.onnx = true;
  absl::StatusOr<GeneratedModelServer> started = StartOnGeneratedModels("sonic-perf-plot", options);
  ASSERT_TRUE(started.ok()) << started.status();

  const std::filesystem::path png = started->dir->path() / "particlenet.png";
  const std::filesystem::path log = started->dir->path() / "perf.log";
  const std::string command = absl::StrCat(
      std::string(std::getenv("SONIC_BUILD_DIR")), "/bin/sonic perf -m particlenet_padded ",
      "--compare-model particlenet_padded_onnx --batch-sizes 1,4 -u ", started->server->address(),
      " --measurement-mode count_windows --measurement-request-count 5 -r 3 -s 200 --plot ",
      png.string(), " > ", log.string(), " 2>&1");
  ASSERT_EQ(std::system(command.c_str()), 0) << ReadFile(log);

  const std::string image = ReadFile(png);
  ASSERT_GE(image.size(), 8u) << ReadFile(log);
  EXPECT_EQ(image.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));

  std::filesystem::path csv = png;
  csv.replace_extension(".csv");
  const std::vector<std::string> lines = absl::StrSplit(ReadFile(csv), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 5u) << ReadFile(csv);
  EXPECT_EQ(lines[0], "model,batch_size,load,throughput_infer_per_sec,mean_latency_ms,stable");
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"particlenet_padded", "1"},
      {"particlenet_padded", "4"},
      {"particlenet_padded_onnx", "1"},
      {"particlenet_padded_onnx", "4"}};
  for (size_t row = 0; row < expected.size(); ++row) {
    const std::vector<std::string> fields = absl::StrSplit(lines[row + 1], ',');
    ASSERT_EQ(fields.size(), 6u) << lines[row + 1];
    EXPECT_EQ(fields[0], expected[row].first);
    EXPECT_EQ(fields[1], expected[row].second);
    double throughput = 0;
    ASSERT_TRUE(absl::SimpleAtod(fields[3], &throughput)) << lines[row + 1];
    EXPECT_GT(throughput, 0) << lines[row + 1];
  }
  // The text report names each measurement.
  EXPECT_THAT(ReadFile(log), ::testing::HasSubstr("Model particlenet_padded_onnx, batch size 4"));
}

}  // namespace
}  // namespace sonic::demo
