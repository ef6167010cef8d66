// The fil backend against the real sonic-server: tiny XGBoost models trained here with XGBoost's
// C API (regression, binary and 3-class classification), saved in XGBoost's JSON and binary
// formats with Triton FIL configs, served, and compared with XGBoosterPredict called directly on
// the same files (within 1e-5). A model file XGBoost cannot read and a model_type this build
// lacks leave those models UNAVAILABLE with their reasons while the others serve.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <xgboost/c_api.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "integration_test_util.h"
#include "sonic/common/status.h"

namespace sonic::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr int kFeatures = 4;

// `rows` rows of kFeatures values in [-1, 1) from `seed`, every 7th value missing (NaN).
std::vector<float> Rows(int rows, unsigned seed) {
  std::mt19937 generator(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> values(static_cast<size_t>(rows) * kFeatures);
  for (size_t i = 0; i < values.size(); ++i) {
    values[i] = i % 7 == 3 ? std::nanf("") : uniform(generator);
  }
  return values;
}

std::string LastError() { return XGBGetLastError(); }

#define XGB_OR_RETURN(call)                                                              \
  do {                                                                                   \
    if ((call) != 0) return absl::InternalError(absl::StrCat(#call, ": ", LastError())); \
  } while (false)

// Trains `objective` for 10 rounds on 256 rows whose labels come from `label` and saves the
// booster to `file` (XGBoost picks JSON for ".json", its binary format otherwise).
absl::Status Train(const std::string& objective, int classes,
                   const std::function<float(const float*)>& label, const fs::path& file) {
  constexpr int kRows = 256;
  std::vector<float> x = Rows(kRows, 17);
  std::vector<float> y(kRows);
  for (int i = 0; i < kRows; ++i) {
    std::vector<float> row(x.begin() + i * kFeatures, x.begin() + (i + 1) * kFeatures);
    for (float& v : row) v = std::isnan(v) ? 0.0f : v;
    y[i] = label(row.data());
  }
  DMatrixHandle train = nullptr;
  XGB_OR_RETURN(XGDMatrixCreateFromMat(x.data(), kRows, kFeatures, std::nanf(""), &train));
  BoosterHandle booster = nullptr;
  absl::Status status = [&]() -> absl::Status {
    XGB_OR_RETURN(XGDMatrixSetFloatInfo(train, "label", y.data(), kRows));
    XGB_OR_RETURN(XGBoosterCreate(&train, 1, &booster));
    XGB_OR_RETURN(XGBoosterSetParam(booster, "objective", objective.c_str()));
    XGB_OR_RETURN(XGBoosterSetParam(booster, "max_depth", "3"));
    XGB_OR_RETURN(XGBoosterSetParam(booster, "nthread", "1"));
    if (classes > 0) {
      XGB_OR_RETURN(XGBoosterSetParam(booster, "num_class", std::to_string(classes).c_str()));
    }
    for (int round = 0; round < 10; ++round) {
      XGB_OR_RETURN(XGBoosterUpdateOneIter(booster, round, train));
    }
    std::error_code error;
    fs::create_directories(file.parent_path(), error);
    XGB_OR_RETURN(XGBoosterSaveModel(booster, file.c_str()));
    return absl::OkStatus();
  }();
  if (booster != nullptr) XGBoosterFree(booster);
  XGDMatrixFree(train);
  return status;
}

// XGBoosterPredict (normal prediction) of the model in `file` on `rows`.
absl::StatusOr<std::vector<float>> PredictDirectly(const fs::path& file,
                                                   const std::vector<float>& rows) {
  BoosterHandle booster = nullptr;
  DMatrixHandle data = nullptr;
  XGB_OR_RETURN(XGBoosterCreate(nullptr, 0, &booster));
  std::vector<float> result;
  absl::Status status = [&]() -> absl::Status {
    XGB_OR_RETURN(XGBoosterLoadModel(booster, file.c_str()));
    XGB_OR_RETURN(XGDMatrixCreateFromMat(rows.data(), rows.size() / kFeatures, kFeatures,
                                         std::nanf(""), &data));
    bst_ulong length = 0;
    const float* values = nullptr;
    XGB_OR_RETURN(XGBoosterPredict(booster, data, 0, 0, 0, &length, &values));
    result.assign(values, values + length);
    return absl::OkStatus();
  }();
  if (data != nullptr) XGDMatrixFree(data);
  XGBoosterFree(booster);
  if (!status.ok()) return status;
  return result;
}

// A Triton FIL config: input__0 FP32 [kFeatures] -> output__0 FP32 [width], batched up to 64.
std::string FilConfig(const std::string& name, const std::string& model_type, int width,
                      const std::string& parameters = "") {
  return absl::StrCat("name: \"", name, "\"\nbackend: \"fil\"\nmax_batch_size: 64\n",
                      "input [ { name: \"input__0\" data_type: TYPE_FP32 dims: [ ", kFeatures,
                      " ] } ]\n", "output [ { name: \"output__0\" data_type: TYPE_FP32 dims: [ ",
                      width, " ] } ]\n", "instance_group [ { kind: KIND_AUTO count: 1 } ]\n",
                      "parameters { key: \"model_type\" value { string_value: \"", model_type,
                      "\" } }\n", parameters);
}

std::string Parameter(const std::string& key, const std::string& value) {
  return absl::StrCat("parameters { key: \"", key, "\" value { string_value: \"", value,
                      "\" } }\n");
}

absl::Status WriteModel(const fs::path& repository, const std::string& name,
                        const std::string& config) {
  return WriteFileAtomically(repository / name / "config.pbtxt", config);
}

absl::Status WriteRepository(const fs::path& repository) {
  // Regression, saved as XGBoost JSON.
  SONIC_RETURN_IF_ERROR(Train(
      "reg:squarederror", 0, [](const float* x) { return 2 * x[0] - x[2] + 0.5f * x[1] * x[3]; },
      repository / "regression/1/xgboost.json"));
  SONIC_RETURN_IF_ERROR(
      WriteModel(repository, "regression", FilConfig("regression", "xgboost_json", 1)));
  // Binary classification in XGBoost's binary format, served as class ids (threshold 0.3) and
  // as [1 - p, p].
  for (const std::string name : {"binary_class", "binary_proba"}) {
    SONIC_RETURN_IF_ERROR(Train(
        "binary:logistic", 0, [](const float* x) { return x[0] + 0.5f * x[1] > 0 ? 1.0f : 0.0f; },
        repository / name / "1/xgboost.model"));
  }
  SONIC_RETURN_IF_ERROR(
      WriteModel(repository, "binary_class",
                 FilConfig("binary_class", "xgboost", 1,
                           Parameter("output_class", "true") + Parameter("threshold", "0.3"))));
  SONIC_RETURN_IF_ERROR(WriteModel(
      repository, "binary_proba",
      FilConfig("binary_proba", "xgboost", 2,
                Parameter("output_class", "true") + Parameter("predict_proba", "true"))));
  // Three classes (softprob), as probabilities and as class ids; default_model_filename used.
  for (const std::string name : {"multiclass_proba", "multiclass_class"}) {
    SONIC_RETURN_IF_ERROR(Train(
        "multi:softprob", 3,
        [](const float* x) { return static_cast<float>((x[0] > 0) + (x[1] > 0.3f)); },
        repository / name / "1/model.json"));
  }
  const std::string named = "default_model_filename: \"model.json\"\n";
  SONIC_RETURN_IF_ERROR(WriteModel(
      repository, "multiclass_proba",
      FilConfig("multiclass_proba", "xgboost_json", 3,
                named + Parameter("output_class", "true") + Parameter("predict_proba", "true"))));
  SONIC_RETURN_IF_ERROR(WriteModel(
      repository, "multiclass_class",
      FilConfig("multiclass_class", "xgboost_json", 1, named + Parameter("output_class", "true"))));
  // Broken: not XGBoost JSON; a format this build lacks.
  SONIC_RETURN_IF_ERROR(
      WriteFileAtomically(repository / "broken/1/xgboost.json", "{\"learner\": 42}"));
  SONIC_RETURN_IF_ERROR(WriteModel(repository, "broken", FilConfig("broken", "xgboost_json", 1)));
  SONIC_RETURN_IF_ERROR(WriteFileAtomically(repository / "lgbm/1/model.txt", "tree\n"));
  return WriteModel(repository, "lgbm", FilConfig("lgbm", "lightgbm", 1));
}

class ServerFilTest : public SharedServerTest<ServerFilTest> {
 public:
  static absl::StatusOr<TestServer> StartServer() {
    std::vector<std::string> args = {"--model-control-mode=explicit"};
    for (const char* model : {"regression", "binary_class", "binary_proba", "multiclass_proba",
                              "multiclass_class", "broken", "lgbm"}) {
      args.push_back(absl::StrCat("--load-model=", model));
    }
    return StartTestServer(args, WriteRepository, /*write_test_models=*/false);
  }

 protected:
  static constexpr int kRows = 23;

  // The served output of `model` for Rows(kRows, 99), and XGBoost's own prediction on them.
  void Serve(const std::string& model, const std::string& file, int width,
             std::vector<float>* served, std::vector<float>* direct) {
    const std::vector<float> rows = Rows(kRows, 99);
    inference::ModelInferResponse response;
    grpc::Status status =
        Infer(*stub_, Fp32Request(model, "input__0", {kRows, kFeatures}, rows), &response);
    ASSERT_TRUE(status.ok()) << model << ": " << status.error_message();
    ASSERT_EQ(response.outputs_size(), 1);
    EXPECT_THAT(response.outputs(0).shape(), ::testing::ElementsAre(kRows, width));
    const std::string* raw = RawOutput(response, "output__0");
    ASSERT_NE(raw, nullptr);
    *served = FromRaw<float>(*raw);
    ASSERT_EQ(served->size(), static_cast<size_t>(kRows * width));
    absl::StatusOr<std::vector<float>> predicted =
        PredictDirectly(server_->repository() / model / "1" / file, rows);
    ASSERT_TRUE(predicted.ok()) << predicted.status();
    *direct = *std::move(predicted);
  }
};

TEST_F(ServerFilTest, RegressionValuesEqualXgboostsOwn) {
  std::vector<float> served, direct;
  ASSERT_NO_FATAL_FAILURE(Serve("regression", "xgboost.json", 1, &served, &direct));
  ASSERT_EQ(direct.size(), served.size());
  for (size_t i = 0; i < served.size(); ++i) EXPECT_NEAR(served[i], direct[i], 1e-5) << i;
}

TEST_F(ServerFilTest, BinaryClassesUseTheThreshold) {
  std::vector<float> served, direct;
  ASSERT_NO_FATAL_FAILURE(Serve("binary_class", "xgboost.model", 1, &served, &direct));
  ASSERT_EQ(direct.size(), served.size());
  int ones = 0;
  for (size_t i = 0; i < served.size(); ++i) {
    EXPECT_EQ(served[i], direct[i] > 0.3f ? 1.0f : 0.0f) << i << ": p = " << direct[i];
    ones += served[i] == 1.0f;
  }
  EXPECT_GT(ones, 0);
  EXPECT_LT(ones, kRows);
}

TEST_F(ServerFilTest, BinaryProbabilitiesComeInPairs) {
  std::vector<float> served, direct;
  ASSERT_NO_FATAL_FAILURE(Serve("binary_proba", "xgboost.model", 2, &served, &direct));
  ASSERT_EQ(direct.size() * 2, served.size());
  for (size_t i = 0; i < direct.size(); ++i) {
    EXPECT_NEAR(served[2 * i], 1 - direct[i], 1e-5) << i;
    EXPECT_NEAR(served[2 * i + 1], direct[i], 1e-5) << i;
  }
}

TEST_F(ServerFilTest, MulticlassProbabilitiesAndClassIds) {
  std::vector<float> served, direct;
  ASSERT_NO_FATAL_FAILURE(Serve("multiclass_proba", "model.json", 3, &served, &direct));
  ASSERT_EQ(direct.size(), served.size());
  for (size_t i = 0; i < served.size(); ++i) EXPECT_NEAR(served[i], direct[i], 1e-5) << i;

  std::vector<float> classes;
  ASSERT_NO_FATAL_FAILURE(Serve("multiclass_class", "model.json", 1, &classes, &direct));
  ASSERT_EQ(direct.size(), classes.size() * 3);
  for (size_t row = 0; row < classes.size(); ++row) {
    const auto best = std::max_element(direct.begin() + row * 3, direct.begin() + row * 3 + 3);
    EXPECT_EQ(classes[row], static_cast<float>(best - (direct.begin() + row * 3))) << row;
  }
}

TEST_F(ServerFilTest, BrokenModelsAreUnavailableWithTheirReasonsWhileOthersServe) {
  absl::StatusOr<inference::RepositoryIndexResponse> index = GetIndex(*stub_);
  ASSERT_TRUE(index.ok()) << index.status();
  std::map<std::string, inference::RepositoryIndexResponse::ModelIndex> rows;
  for (const auto& row : index->models()) rows[row.name()] = row;
  EXPECT_EQ(rows["broken"].state(), "UNAVAILABLE");
  EXPECT_THAT(rows["broken"].reason(), HasSubstr("cannot load"));
  EXPECT_THAT(rows["broken"].reason(), HasSubstr("xgboost.json"));
  EXPECT_EQ(rows["lgbm"].state(), "UNAVAILABLE");
  EXPECT_THAT(rows["lgbm"].reason(), HasSubstr("'lightgbm' is not supported by this build"));
  EXPECT_EQ(rows["regression"].state(), "READY");
  EXPECT_TRUE(IsModelReady(*stub_, "regression"));
}

TEST_F(ServerFilTest, ARowOfTheWrongWidthIsRefused) {
  inference::ModelInferResponse response;
  grpc::Status status = Infer(
      *stub_, Fp32Request("regression", "input__0", {2, kFeatures - 1}, std::vector<float>(6)),
      &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_TRUE(IsModelReady(*stub_, "regression"));
}

}  // namespace
}  // namespace sonic::testing
