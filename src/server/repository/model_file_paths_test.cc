#include "server/repository/model_file_paths.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "server/repository/temp_directory_for_test.h"

namespace sonic::server {
namespace {

namespace fs = std::filesystem;

// <tmp>/models/m/1/model.pt, <tmp>/models/m/labels.txt, and <tmp>/outside/evil.pt beside them.
class ModelFilePathsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.WriteFile("models/m/1/model.pt", "inside");
    dir_.WriteFile("models/m/1/sub/other.pt", "inside");
    dir_.WriteFile("models/m/labels.txt", "a\n");
    dir_.WriteFile("outside/evil.pt", "outside");
  }
  fs::path version() const { return dir_.path() / "models/m/1"; }
  absl::Status Check(const std::string& name) const {
    return CheckPathInside(version(), name, "default_model_filename", "the version directory");
  }

  TempDirectoryForTest dir_;
};

TEST_F(ModelFilePathsTest, PathsInsideTheDirectoryAreAccepted) {
  EXPECT_TRUE(Check("model.pt").ok());
  EXPECT_TRUE(Check("sub/other.pt").ok());
  EXPECT_TRUE(Check("sub/../model.pt").ok());
  EXPECT_TRUE(Check("./model.pt").ok());
  EXPECT_TRUE(Check("missing.pt").ok());  // inside: the backend says it is missing
}

TEST_F(ModelFilePathsTest, AbsoluteAndClimbingPathsAreRefusedWithOneTextWhateverExists) {
  const std::string absolute_existing = (dir_.path() / "outside/evil.pt").string();
  const std::string absolute_missing = (dir_.path() / "outside/missing.pt").string();
  for (const std::string& name :
       {absolute_existing, absolute_missing, std::string("../../../outside/evil.pt"),
        std::string("sub/../../../../outside/evil.pt"), std::string(".."),
        std::string("../1/model.pt"), std::string("model.pt\0x", 10)}) {
    absl::Status status = Check(name);
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << name << ": " << status;
    EXPECT_NE(status.message().find("must be a relative path inside the version directory"),
              std::string::npos)
        << status;
  }
  // The two absolute paths differ only in whether the file exists; so do the refusals' texts
  // apart from the name echoed.
  std::string existing(Check(absolute_existing).message());
  std::string missing(Check(absolute_missing).message());
  existing.replace(existing.find(absolute_existing), absolute_existing.size(), "X");
  missing.replace(missing.find(absolute_missing), absolute_missing.size(), "X");
  EXPECT_EQ(existing, missing);
}

TEST_F(ModelFilePathsTest, SymlinksAreResolvedBeforeTheCheck) {
  fs::create_symlink(dir_.path() / "outside/evil.pt", version() / "link.pt");
  fs::create_symlink(dir_.path() / "outside/missing.pt", version() / "dangling.pt");
  fs::create_directory_symlink(dir_.path() / "outside", version() / "outdir");
  fs::create_symlink("sub/other.pt", version() / "relative_inside.pt");
  fs::create_symlink("../../../outside/evil.pt", version() / "relative_outside.pt");
  fs::create_symlink("loop_b", version() / "loop_a");
  fs::create_symlink("loop_a", version() / "loop_b");
  EXPECT_FALSE(Check("link.pt").ok());
  EXPECT_FALSE(Check("dangling.pt").ok());
  EXPECT_FALSE(Check("outdir/evil.pt").ok());
  // ".." after a link is the parent of the link's target, as the kernel has it.
  EXPECT_FALSE(Check("outdir/../outside/evil.pt").ok());
  EXPECT_TRUE(Check("outdir/../models/m/1/model.pt").ok());
  EXPECT_FALSE(Check("relative_outside.pt").ok());
  EXPECT_FALSE(Check("loop_a").ok());
  EXPECT_TRUE(Check("relative_inside.pt").ok());
  // The directory itself reached through a symlink: its files are inside.
  fs::create_directory_symlink(version(), dir_.path() / "version_link");
  EXPECT_TRUE(CheckPathInside(dir_.path() / "version_link", "model.pt", "f", "d").ok());
}

TEST_F(ModelFilePathsTest, EveryFileTheConfigNamesIsChecked) {
  inference::ModelConfig config;
  config.set_default_model_filename("model.pt");
  (*config.mutable_cc_model_filenames())["8.0"] = "sub/other.pt";
  config.add_output()->set_label_filename("labels.txt");
  EXPECT_TRUE(CheckModelFilesInside(config, version(), "model 'm' version 1").ok());

  inference::ModelConfig bad_cc = config;
  (*bad_cc.mutable_cc_model_filenames())["7.5"] = "/etc/passwd";
  absl::Status status = CheckModelFilesInside(bad_cc, version(), "model 'm' version 1");
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_NE(status.message().find("model 'm' version 1: cc_model_filenames['7.5']"),
            std::string::npos)
      << status;

  inference::ModelConfig bad_labels = config;
  bad_labels.mutable_output(0)->set_label_filename("../../outside/evil.pt");
  status = CheckModelFilesInside(bad_labels, version(), "model 'm' version 1");
  EXPECT_NE(status.message().find("inside the model directory"), std::string::npos) << status;
  // Labels live in the model directory, one above the version directory.
  bad_labels.mutable_output(0)->set_label_filename("1/model.pt");
  EXPECT_TRUE(CheckModelFilesInside(bad_labels, version(), "model 'm' version 1").ok());
}

}  // namespace
}  // namespace sonic::server
