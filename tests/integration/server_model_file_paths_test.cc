// A RepositoryModelLoad 'config' override (or a config.pbtxt) cannot make sonic-server read model
// files from elsewhere on the disk: default_model_filename, cc_model_filenames and label_filename
// resolve (symlinks followed) inside the model's directory, or the load fails (UNAVAILABLE, the
// version loaded before still serving) with one text whatever exists outside. Against the real
// binary.
#include <gmock/gmock.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "integration_test_util.h"
#include "test_models.h"

namespace sonic::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// Beside the repository: <dir>/outside/evil.pt, a copy of torch_mlp's model (or any bytes without
// LibTorch), and a label file there.
class ModelFilePathsTest : public SharedServerTest<ModelFilePathsTest> {
 public:
  static absl::StatusOr<TestServer> StartServer() {
    std::vector<std::string> args = {"--model-control-mode=explicit", "--load-model=identity_fp32",
                                     "--max-instances-per-model=4"};
    if (HaveTorchModels()) args.push_back("--load-model=torch_mlp");
    return StartTestServer(args, [](const fs::path& repository) -> absl::Status {
      const fs::path outside = repository.parent_path() / "outside";
      std::error_code error;
      fs::create_directories(outside, error);
      if (HaveTorchModels()) {
        fs::copy_file(repository / "torch_mlp/1/model.pt", outside / "evil.pt", error);
        if (!error)
          fs::create_symlink(outside / "evil.pt", repository / "torch_mlp/1/link.pt", error);
      } else {
        std::ofstream(outside / "evil.pt") << "not a model";
      }
      std::ofstream(outside / "labels.txt") << "secret\n";
      if (!error) {
        fs::create_symlink(outside / "labels.txt", repository / "identity_fp32/labels.txt", error);
      }
      if (error) return absl::InternalError(absl::StrCat("prepare: ", error.message()));
      return absl::OkStatus();
    });
  }

 protected:
  fs::path outside() const { return server_->dir->path() / "outside"; }

  // Loads `name` with its own (served) config changed by `change`, as a 'config' override.
  grpc::Status LoadChanged(const std::string& name,
                           const std::function<void(inference::ModelConfig&)>& change) {
    absl::StatusOr<inference::ModelConfig> config = GetModelConfig(*stub_, name);
    if (!config.ok()) return grpc::Status(grpc::StatusCode::INTERNAL, "no config of " + name);
    change(*config);
    std::string json;
    if (!google::protobuf::util::MessageToJsonString(*config, &json).ok()) {
      return grpc::Status(grpc::StatusCode::INTERNAL, "cannot write the config as JSON");
    }
    inference::RepositoryModelLoadRequest request;
    request.set_model_name(name);
    (*request.mutable_parameters())["config"].set_string_param(json);
    inference::RepositoryModelLoadResponse response;
    return stub_->RepositoryModelLoad(NewContext().get(), request, &response);
  }

  grpc::Status LoadWithModelFile(const std::string& name, const std::string& file) {
    return LoadChanged(name,
                       [&](inference::ModelConfig& c) { c.set_default_model_filename(file); });
  }

  // A failed reload leaves the version loaded before serving (as Triton): the config from disk,
  // with no file named elsewhere.
  void ExpectServedFromDisk(const std::string& name) {
    EXPECT_TRUE(IsModelReady(*stub_, name));
    absl::StatusOr<inference::ModelConfig> config = GetModelConfig(*stub_, name);
    ASSERT_TRUE(config.ok()) << config.status();
    EXPECT_THAT(config->default_model_filename(), ::testing::AnyOf("", "model.pt"));
    EXPECT_TRUE(config->cc_model_filenames().empty());
    for (const auto& output : config->output()) EXPECT_EQ(output.label_filename(), "");
  }

  // The model back as it is on disk, READY.
  void Restore(const std::string& name) {
    inference::RepositoryModelLoadRequest request;
    request.set_model_name(name);
    inference::RepositoryModelLoadResponse response;
    ASSERT_TRUE(stub_->RepositoryModelLoad(NewContext().get(), request, &response).ok());
    ASSERT_TRUE(IsModelReady(*stub_, name));
  }
};

constexpr char kRefusal[] = "must be a relative path inside the version directory";

TEST_F(ModelFilePathsTest, ModelFilesOutsideTheVersionDirectoryAreRefused) {
  const std::string model = HaveTorchModels() ? "torch_mlp" : "identity_fp32";
  for (const std::string& file :
       {(outside() / "evil.pt").string(), std::string("../../../outside/evil.pt"),
        std::string("../../identity_fp32/1/../../../outside/evil.pt")}) {
    SCOPED_TRACE(file);
    grpc::Status status = LoadWithModelFile(model, file);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(kRefusal));
    ExpectServedFromDisk(model);
  }
  if (HaveTorchModels()) {
    grpc::Status link = LoadWithModelFile(model, "link.pt");  // a symlink to outside/evil.pt
    EXPECT_EQ(link.error_code(), grpc::StatusCode::UNAVAILABLE) << link.error_message();
    EXPECT_THAT(link.error_message(), HasSubstr(kRefusal));
  }
  grpc::Status cc = LoadChanged(model, [&](inference::ModelConfig& c) {
    (*c.mutable_cc_model_filenames())["8.0"] = (outside() / "evil.pt").string();
  });
  EXPECT_THAT(cc.error_message(), HasSubstr("cc_model_filenames['8.0']"));
  EXPECT_THAT(cc.error_message(), HasSubstr(kRefusal));

  // The model's own file, named explicitly, is fine.
  grpc::Status inside = LoadWithModelFile(model, "model.pt");
  EXPECT_TRUE(inside.ok()) << inside.error_message();
  EXPECT_TRUE(IsModelReady(*stub_, model));
  Restore(model);
}

TEST_F(ModelFilePathsTest, TheRefusalDoesNotTellWhetherAFileExistsOutside) {
  const std::string model = HaveTorchModels() ? "torch_mlp" : "identity_fp32";
  const std::string existing = (outside() / "evil.pt").string();
  const std::string missing = (outside() / "nothing.pt").string();
  std::string with_file = LoadWithModelFile(model, existing).error_message();
  std::string without_file = LoadWithModelFile(model, missing).error_message();
  ASSERT_NE(with_file.find(existing), std::string::npos) << with_file;
  ASSERT_NE(without_file.find(missing), std::string::npos) << without_file;
  with_file.replace(with_file.find(existing), existing.size(), "PATH");
  without_file.replace(without_file.find(missing), missing.size(), "PATH");
  EXPECT_EQ(with_file, without_file);
  Restore(model);
}

TEST_F(ModelFilePathsTest, LabelFilesOutsideTheModelDirectoryAreRefused) {
  for (const std::string& labels :
       {(outside() / "labels.txt").string(), std::string("../outside/labels.txt"),
        std::string("labels.txt")}) {  // a symlink to outside
    SCOPED_TRACE(labels);
    grpc::Status status = LoadChanged("identity_fp32", [&](inference::ModelConfig& c) {
      c.mutable_output(0)->set_label_filename(labels);
    });
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr("must be a relative path inside the model"));
    ExpectServedFromDisk("identity_fp32");
  }
  Restore("identity_fp32");
}

// The server's bounds hold for a config override as for config.pbtxt: instances
// (--max-instances-per-model), the batcher's queue delay, the identity backend's execution delay.
TEST_F(ModelFilePathsTest, OverridesAreHeldToTheServersLimits) {
  grpc::Status instances = LoadChanged("identity_fp32", [](inference::ModelConfig& c) {
    c.clear_instance_group();
    c.add_instance_group()->set_count(5);
  });
  EXPECT_EQ(instances.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << instances.error_message();
  EXPECT_THAT(instances.error_message(), HasSubstr("--max-instances-per-model"));

  grpc::Status queue_delay = LoadChanged("identity_fp32", [](inference::ModelConfig& c) {
    c.mutable_dynamic_batching()->set_max_queue_delay_microseconds(1'000'000'000'000'000);
  });
  EXPECT_EQ(queue_delay.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << queue_delay.error_message();
  EXPECT_THAT(queue_delay.error_message(), HasSubstr("max_queue_delay_microseconds"));

  grpc::Status execute_delay = LoadChanged("identity_fp32", [](inference::ModelConfig& c) {
    (*c.mutable_parameters())["execute_delay_ms"].set_string_value("1000000000");
  });
  EXPECT_FALSE(execute_delay.ok());
  EXPECT_THAT(execute_delay.error_message(), HasSubstr("execute_delay_ms"));
  ExpectServedFromDisk("identity_fp32");
}

}  // namespace
}  // namespace sonic::testing
