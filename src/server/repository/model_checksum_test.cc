#include "server/repository/model_checksum.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "server/repository/temp_directory_for_test.h"

namespace sonic::server {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// RFC 1321, appendix A.5.
TEST(Md5Test, MatchesTheRfcTestSuite) {
  EXPECT_EQ(Md5Hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Md5Hex("a"), "0cc175b9c0f1b6a831c399e269772661");
  EXPECT_EQ(Md5Hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(Md5Hex("message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
  EXPECT_EQ(Md5Hex("abcdefghijklmnopqrstuvwxyz"), "c3fcd3d76192e4007dfb496cca67e13b");
  EXPECT_EQ(Md5Hex("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
            "d174ab98d277d9f5a5611c2c9f419d9f");
  EXPECT_EQ(Md5Hex("1234567890123456789012345678901234567890"
                   "1234567890123456789012345678901234567890"),
            "57edf4a22be3c955ac49da2e2107b67a");
}

TEST(Md5Test, AFileLargerThanOneReadBlockHasTheDigestOfItsContents) {
  TempDirectoryForTest dir;
  std::string contents;
  for (int i = 0; contents.size() < (3u << 20) + 17; ++i) contents += std::to_string(i);
  const fs::path file = dir.WriteFile("big.bin", contents);
  absl::StatusOr<std::string> digest = FileMd5Hex(file);
  ASSERT_TRUE(digest.ok()) << digest.status();
  EXPECT_EQ(*digest, Md5Hex(contents));
  EXPECT_TRUE(absl::IsNotFound(FileMd5Hex(dir.path() / "missing").status()));
  EXPECT_TRUE(absl::IsNotFound(FileMd5Hex(dir.path()).status()));  // a directory
}

// <tmp>/models/m/1/weights ("abc"), <tmp>/models/m/config.pbtxt, <tmp>/outside/evil.
class ModelChecksumTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.WriteFile("models/m/1/weights", "abc");
    dir_.WriteFile("models/m/config.pbtxt", "name: \"m\"");
    dir_.WriteFile("outside/evil", "abc");
  }
  fs::path model_dir() const { return dir_.path() / "models/m"; }

  // A config with one agent `name` holding `parameters`.
  static inference::ModelConfig Config(
      const std::vector<std::pair<std::string, std::string>>& parameters,
      const std::string& name = "checksum") {
    inference::ModelConfig config;
    config.set_name("m");
    auto* agent = config.mutable_model_repository_agents()->add_agents();
    agent->set_name(name);
    for (const auto& [key, value] : parameters) (*agent->mutable_parameters())[key] = value;
    return config;
  }
  absl::Status Verify(const inference::ModelConfig& config) const {
    return VerifyModelChecksums(config, model_dir(), "model 'm' version 1");
  }

  TempDirectoryForTest dir_;
};

constexpr char kAbc[] = "900150983cd24fb0d6963f7d28e17f72";

TEST_F(ModelChecksumTest, MatchingDigestsPass) {
  EXPECT_TRUE(Verify(inference::ModelConfig()).ok());
  EXPECT_TRUE(Verify(Config({{"MD5:1/weights", kAbc}})).ok());
  EXPECT_TRUE(Verify(Config({{"md5:1/weights", "900150983CD24FB0D6963F7D28E17F72"}})).ok());
  EXPECT_TRUE(
      Verify(Config({{"MD5:1/weights", kAbc}, {"MD5:config.pbtxt", Md5Hex("name: \"m\"")}})).ok());
}

TEST_F(ModelChecksumTest, AMismatchNamesTheFileAndBothDigests) {
  absl::Status status = Verify(Config({{"MD5:1/weights", "d41d8cd98f00b204e9800998ecf8427e"}}));
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("model 'm' version 1: checksum agent: MD5 mismatch"));
  EXPECT_THAT(status.message(), HasSubstr("'1/weights'"));
  EXPECT_THAT(status.message(), HasSubstr("expects d41d8cd98f00b204e9800998ecf8427e"));
  EXPECT_THAT(status.message(), HasSubstr(std::string("has ") + kAbc));
}

TEST_F(ModelChecksumTest, AMissingFileFailsNamingIt) {
  absl::Status status = Verify(Config({{"MD5:1/model.pt", kAbc}}));
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("'1/model.pt'"));
  EXPECT_THAT(status.message(), HasSubstr("does not exist"));
  status = Verify(Config({{"MD5:1", kAbc}}));  // a directory
  EXPECT_THAT(status.message(), HasSubstr("not a regular file"));
}

TEST_F(ModelChecksumTest, FilesOutsideTheModelDirectoryAreRefused) {
  ASSERT_EQ(::symlink((dir_.path() / "outside/evil").c_str(), (model_dir() / "link").c_str()), 0);
  for (const std::string& file : {std::string("../../outside/evil"),
                                  (dir_.path() / "outside/evil").string(), std::string("link")}) {
    absl::Status status = Verify(Config({{"MD5:" + file, kAbc}}));
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << file << ": " << status;
    EXPECT_THAT(status.message(), HasSubstr("must be a relative path inside the model directory"));
  }
}

// TritonService's fallback server links the version directories into a model directory of its
// own: files in a linked version directory are inside, links out of it are not.
TEST_F(ModelChecksumTest, AVersionDirectoryMayBeALink) {
  dir_.WriteFile("linked/m/config.pbtxt", "name: \"m\"");
  const fs::path linked = dir_.path() / "linked/m";
  ASSERT_EQ(::symlink((model_dir() / "1").c_str(), (linked / "1").c_str()), 0);
  EXPECT_TRUE(VerifyModelChecksums(Config({{"MD5:1/weights", kAbc}}), linked, "m").ok());
  ASSERT_EQ(::symlink((dir_.path() / "outside/evil").c_str(), (model_dir() / "1/evil").c_str()), 0);
  absl::Status status = VerifyModelChecksums(Config({{"MD5:1/evil", kAbc}}), linked, "m");
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("file '1/evil' must be a relative path inside the "
                                          "model directory"));
  status = VerifyModelChecksums(Config({{"MD5:1/../../m/1/weights", kAbc}}), linked, "m");
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
}

TEST_F(ModelChecksumTest, MalformedParametersAndOtherAgentsAreRefused) {
  absl::Status status = Verify(Config({{"1/weights", kAbc}}));
  EXPECT_THAT(status.message(), HasSubstr("is not '<algorithm>:<file>'"));
  status = Verify(Config({{"SHA256:1/weights", kAbc}}));
  EXPECT_THAT(status.message(), HasSubstr("algorithm 'SHA256'"));
  EXPECT_THAT(status.message(), HasSubstr("only MD5"));
  status = Verify(Config({{"MD5:1/weights", "abc"}}));
  EXPECT_THAT(status.message(), HasSubstr("not 32 hex digits"));
  status = Verify(Config({}, "decrypt"));
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
  EXPECT_THAT(status.message(), HasSubstr("repository agent 'decrypt' is not available"));
}

}  // namespace
}  // namespace sonic::server
