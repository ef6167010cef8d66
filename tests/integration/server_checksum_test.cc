// The checksum repository agent against the real sonic-server: a model whose config lists the
// right MD5 of its files loads; a wrong digest or a missing file leaves that model UNAVAILABLE
// with the file and digests in its reason, while the other models serve. A reload after the file
// is fixed makes it READY.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "absl/strings/str_cat.h"
#include "integration_test_util.h"
#include "sonic/common/status.h"

namespace sonic::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// RFC 1321's digests of "abc" and "".
constexpr char kAbcMd5[] = "900150983cd24fb0d6963f7d28e17f72";
constexpr char kEmptyMd5[] = "d41d8cd98f00b204e9800998ecf8427e";

// An identity model `name` with 1/weights holding `weights` (none when nullptr) and a checksum
// agent expecting `digest` for it.
absl::Status WriteModel(const fs::path& repository, const std::string& name, const char* weights,
                        const std::string& digest) {
  const std::string config =
      absl::StrCat("name: \"", name, "\"\nbackend: \"identity\"\nmax_batch_size: 8\n",
                   "input [ { name: \"INPUT0\" data_type: TYPE_FP32 dims: [ -1 ] } ]\n",
                   "output [ { name: \"OUTPUT0\" data_type: TYPE_FP32 dims: [ -1 ] } ]\n",
                   "model_repository_agents { agents [ { name: \"checksum\",\n",
                   "  parameters { key: \"MD5:1/weights\", value: \"", digest, "\" } } ] }\n");
  SONIC_RETURN_IF_ERROR(WriteFileAtomically(repository / name / "config.pbtxt", config));
  std::error_code error;
  fs::create_directories(repository / name / "1", error);
  if (error) return absl::InternalError(error.message());
  if (weights == nullptr) return absl::OkStatus();
  return WriteFileAtomically(repository / name / "1" / "weights", weights);
}

class ServerChecksumTest : public SharedServerTest<ServerChecksumTest> {
 public:
  static absl::StatusOr<TestServer> StartServer() {
    return StartTestServer(
        {"--model-control-mode=explicit", "--load-model=identity_fp32", "--load-model=good",
         "--load-model=mismatch", "--load-model=missing", "--load-model=fixable"},
        [](const fs::path& repository) -> absl::Status {
          SONIC_RETURN_IF_ERROR(WriteModel(repository, "good", "abc", kAbcMd5));
          SONIC_RETURN_IF_ERROR(WriteModel(repository, "mismatch", "abc", kEmptyMd5));
          SONIC_RETURN_IF_ERROR(WriteModel(repository, "fixable", "", kAbcMd5));
          return WriteModel(repository, "missing", nullptr, kAbcMd5);
        });
  }

 protected:
  std::map<std::string, inference::RepositoryIndexResponse::ModelIndex> Rows() {
    std::map<std::string, inference::RepositoryIndexResponse::ModelIndex> rows;
    absl::StatusOr<inference::RepositoryIndexResponse> index = GetIndex(*stub_);
    EXPECT_TRUE(index.ok()) << index.status();
    if (index.ok()) {
      for (const auto& row : index->models()) rows[row.name()] = row;
    }
    return rows;
  }

  void ExpectServes(const std::string& model) {
    inference::ModelInferResponse response;
    grpc::Status status =
        Infer(*stub_, Fp32Request(model, "INPUT0", {1, 2}, {1.5f, -2}), &response);
    ASSERT_TRUE(status.ok()) << model << ": " << status.error_message();
    const std::string* output = RawOutput(response, "OUTPUT0");
    ASSERT_NE(output, nullptr);
    EXPECT_EQ(FromRaw<float>(*output), (std::vector<float>{1.5f, -2}));
  }
};

TEST_F(ServerChecksumTest, AModelWithTheRightDigestServes) {
  EXPECT_TRUE(IsModelReady(*stub_, "good"));
  ExpectServes("good");
}

TEST_F(ServerChecksumTest, AWrongDigestLeavesTheModelUnavailableNamingFileAndDigests) {
  auto rows = Rows();
  EXPECT_EQ(rows["mismatch"].state(), "UNAVAILABLE");
  const std::string& reason = rows["mismatch"].reason();
  EXPECT_THAT(reason, HasSubstr("MD5 mismatch for file '1/weights'"));
  EXPECT_THAT(reason, HasSubstr(absl::StrCat("config expects ", kEmptyMd5)));
  EXPECT_THAT(reason, HasSubstr(absl::StrCat("file has ", kAbcMd5)));
  EXPECT_FALSE(IsModelReady(*stub_, "mismatch"));
  ExpectServes("identity_fp32");
  ExpectServes("good");
}

TEST_F(ServerChecksumTest, AMissingFileLeavesTheModelUnavailable) {
  auto rows = Rows();
  EXPECT_EQ(rows["missing"].state(), "UNAVAILABLE");
  EXPECT_THAT(rows["missing"].reason(), HasSubstr("cannot verify '1/weights'"));
  EXPECT_THAT(rows["missing"].reason(), HasSubstr("does not exist"));
  ExpectServes("identity_fp32");
}

TEST_F(ServerChecksumTest, AModelLoadsOnceItsFileMatches) {
  EXPECT_FALSE(IsModelReady(*stub_, "fixable"));
  const fs::path weights = server_->repository() / "fixable" / "1" / "weights";
  ASSERT_TRUE(WriteFileAtomically(weights, "abc").ok());
  inference::RepositoryModelLoadRequest request;
  request.set_model_name("fixable");
  inference::RepositoryModelLoadResponse response;
  grpc::Status status = stub_->RepositoryModelLoad(NewContext().get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(IsModelReady(*stub_, "fixable"));
  ExpectServes("fixable");
}

}  // namespace
}  // namespace sonic::testing
