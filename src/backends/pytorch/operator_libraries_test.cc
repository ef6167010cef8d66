#include "backends/pytorch/operator_libraries.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "server/repository/temp_directory_for_test.h"

namespace sonic::backends::pytorch {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

// LibTorch 1.13's text for a module calling an operator nobody registered (trace shortened).
constexpr char kTorchUnknownOp[] =
    "\nUnknown builtin op: torch_scatter::segment_sum_csr.\n"
    "Could not find any similar ops to torch_scatter::segment_sum_csr. This op may not exist or "
    "may not be currently supported in TorchScript.\n:\n  File \"code/__torch__/gnn.py\", line 12\n"
    "    _0 = torch.ops.torch_scatter.segment_sum_csr(x, ptr, None)\n"
    "         ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~ <--- HERE\n";

TEST(UnknownOperatorReasonTest, NamesTheOperatorOnOneLine) {
  std::optional<std::string> reason = UnknownOperatorReason(kTorchUnknownOp);
  ASSERT_TRUE(reason.has_value());
  EXPECT_EQ(*reason,
            "unknown TorchScript operator 'torch_scatter::segment_sum_csr': load the library that "
            "registers it with the model parameter OPERATOR_LIBRARIES or "
            "--backend-config=pytorch,operator-libraries=<absolute path>");
  EXPECT_EQ(reason->find('\n'), std::string::npos);
}

TEST(UnknownOperatorReasonTest, OtherMessagesAreLeftAlone) {
  EXPECT_FALSE(UnknownOperatorReason("PytorchStreamReader failed reading zip archive").has_value());
  EXPECT_FALSE(UnknownOperatorReason("Unknown builtin op: .").has_value());
}

// <tmp>/m/1 (the version directory) with a file that is not a library, and <tmp>/outside.
class LoadOperatorLibrariesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.WriteFile("m/1/not_a_library.so", "text");
    dir_.WriteFile("outside/lib.so", "text");
    version_ = (dir_.path() / "m/1").string();
    spec_.name = "m";
    spec_.version = 1;
    spec_.version_path = version_.c_str();
  }
  absl::Status Load(const std::string& model_parameter) {
    inference::ModelConfig config;
    if (!model_parameter.empty()) {
      (*config.mutable_parameters())["OPERATOR_LIBRARIES"].set_string_value(model_parameter);
    }
    return LoadOperatorLibraries(spec_, config, "pytorch model 'm'");
  }

  server::TempDirectoryForTest dir_;
  std::string version_;
  SonicBackendModelSpec spec_{};
};

TEST_F(LoadOperatorLibrariesTest, NothingToLoadIsFine) {
  EXPECT_TRUE(Load("").ok());
  EXPECT_TRUE(Load(" : ").ok());
}

TEST_F(LoadOperatorLibrariesTest, ModelConfigPathsStayInTheVersionDirectory) {
  ASSERT_EQ(
      ::symlink((dir_.path() / "outside/lib.so").c_str(), (dir_.path() / "m/1/link.so").c_str()),
      0);
  for (const std::string& path : {(dir_.path() / "outside/lib.so").string(),
                                  std::string("../../outside/lib.so"), std::string("link.so")}) {
    absl::Status status = Load(path);
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << path << ": " << status;
    EXPECT_THAT(status.message(), HasSubstr("pytorch model 'm': parameter OPERATOR_LIBRARIES "
                                            "entry"));
    EXPECT_THAT(status.message(),
                HasSubstr("must be a relative path inside the version directory"));
  }
}

TEST_F(LoadOperatorLibrariesTest, ALibraryThatCannotBeLoadedSaysWhy) {
  absl::Status missing = Load("missing.so");
  EXPECT_TRUE(absl::IsFailedPrecondition(missing)) << missing;
  EXPECT_THAT(missing.message(), HasSubstr("cannot load operator library"));
  EXPECT_THAT(missing.message(), HasSubstr("missing.so"));
  EXPECT_THAT(missing.message(), HasSubstr("No such file"));
  absl::Status garbage = Load("not_a_library.so");
  EXPECT_TRUE(absl::IsFailedPrecondition(garbage)) << garbage;
  EXPECT_THAT(garbage.message(), HasSubstr("not_a_library.so"));
}

TEST_F(LoadOperatorLibrariesTest, BackendConfigPathsMustBeAbsolute) {
  const char* keys[] = {"operator-libraries"};
  const char* relative[] = {"lib.so"};
  spec_.backend_config_keys = keys;
  spec_.backend_config_values = relative;
  spec_.backend_config_count = 1;
  absl::Status status = Load("");
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("'lib.so' is not an absolute path"));
  const std::string absolute_missing = (dir_.path() / "nowhere.so").string();
  const char* absolute[] = {absolute_missing.c_str()};
  spec_.backend_config_values = absolute;
  status = Load("");
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr(absolute_missing));
  EXPECT_THAT(status.message(), Not(HasSubstr("OPERATOR_LIBRARIES")));
}

}  // namespace
}  // namespace sonic::backends::pytorch
