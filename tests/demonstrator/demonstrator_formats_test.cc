// The demonstrator job with its models as ONNX (onnxruntime backend) and TensorFlow (tensorflow
// backend) through SONIC against a running sonic-server, validated against direct inference in
// the job's process on the same runtimes (the server's own backend plugins, loaded by name).
#include <gtest/gtest.h>

#include <cstdlib>
#include <set>

#include "absl/strings/str_cat.h"
#include "demonstrator/job/job.h"
#include "generated_models_server.h"

namespace sonic::demo {
namespace {

using ::sonic::testing::ServerProcess;

// TensorFlow is opened with RTLD_DEEPBIND, which AddressSanitizer refuses (tf_library.h): a
// sanitized build runs DeepMET as ONNX instead.
#ifdef SONIC_TEST_TENSORFLOW
constexpr char kDeepMetModel[] = "deepmet_tf";
#else
constexpr char kDeepMetModel[] = "deepmet_onnx";
#endif

TEST(DemonstratorFormatsTest, OnnxAndTensorFlowModelsThroughSonicEqualDirectInference) {
  unsetenv(service::kServerAddressEnv);
  models::GenerateOptions options;
  options.onnx = true;
#ifdef SONIC_TEST_TENSORFLOW
  options.tensorflow = true;
#endif
  absl::StatusOr<GeneratedModelServer> started =
      StartOnGeneratedModels("sonic-demo-formats", options);
  ASSERT_TRUE(started.ok()) << started.status();
  const ServerProcess& server = *started->server;

  absl::StatusOr<JobConfig> config = ParseJobConfig(absl::StrCat(R"(
source: {events: 6, seed: 77}
threads: 2
concurrent_events: 4
modules:
  - {type: pf_isolation, label: isolation, cones: 2}
  - {type: particlenet, label: particlenet, model: particlenet_ragged_onnx}
  - {type: particlenet, label: particlenet8, model: particlenet_padded_onnx, jets: ak8}
  - {type: deeptau, label: deeptau, model: deeptau_onnx}
  - {type: deepmet, label: deepmet, model: )",
                                                                 kDeepMetModel, "}\n"),
                                                    started->dir->path());
  ASSERT_TRUE(config.ok()) << config.status();
  config->mode = InferenceMode::kSonic;
  config->service.servers.push_back({"test", server.address(), {}});
  JobOptions job_options;
  job_options.validate = true;
  auto result = RunJob(*config, job_options);
  ASSERT_TRUE(result.ok()) << result.status() << "\nsonic-server's log:\n" << server.Log();
  ASSERT_TRUE(result->validation.has_value());
  EXPECT_EQ(result->validation->reference, InferenceMode::kDirect);
  EXPECT_TRUE(result->validation->passed());
  std::set<std::string> modules;
  for (const QuantityComparison& row : result->validation->quantities) {
    modules.insert(row.module);
    EXPECT_EQ(row.mismatched_objects, 0u) << row.module << "." << row.quantity;
    EXPECT_LE(row.largest_difference, 1e-5) << row.module << "." << row.quantity;
    if (row.module != "particlenet8") {  // few events have AK8 jets
      EXPECT_GT(row.objects_compared, 0u) << row.module << "." << row.quantity;
    }
  }
  EXPECT_EQ(modules, (std::set<std::string>{"deepmet", "deeptau", "particlenet", "particlenet8"}));
}

}  // namespace
}  // namespace sonic::demo
