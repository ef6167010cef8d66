#include "server/repository/model_repository.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>

#include "server/repository/temp_directory_for_test.h"

namespace sonic::server {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::unique_ptr<ModelRepository> CreateOrDie(std::vector<fs::path> roots) {
  absl::StatusOr<std::unique_ptr<ModelRepository>> repository =
      ModelRepository::Create(std::move(roots));
  EXPECT_TRUE(repository.ok()) << repository.status();
  return repository.ok() ? std::move(*repository) : nullptr;
}

std::string FingerprintOrDie(const ModelRepository& repository, std::string_view name) {
  absl::StatusOr<std::string> fingerprint = repository.Fingerprint(name);
  EXPECT_TRUE(fingerprint.ok()) << fingerprint.status();
  return fingerprint.value_or("");
}

TEST(ModelRepositoryTest, CreateRejectsMissingRootsAndFiles) {
  TempDirectoryForTest dir;
  const fs::path file = dir.WriteFile("not_a_dir", "x");
  EXPECT_EQ(ModelRepository::Create({}).status().code(), absl::StatusCode::kInvalidArgument);
  absl::Status missing = ModelRepository::Create({dir.path() / "nope"}).status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(missing.message()), HasSubstr("nope"));
  EXPECT_EQ(ModelRepository::Create({file}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ModelRepository::Create({dir.path(), dir.path() / "."}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ModelRepositoryTest, ListsModelsOfAllRootsSortedSkippingHiddenAndFiles) {
  TempDirectoryForTest a, b;
  a.MakeDirectory("zeta");
  a.MakeDirectory("alpha/1");
  a.MakeDirectory(".git");
  a.WriteFile("README.md", "not a model");
  b.MakeDirectory("mid");
  std::unique_ptr<ModelRepository> repository = CreateOrDie({a.path(), b.path()});
  ASSERT_NE(repository, nullptr);
  EXPECT_THAT(repository->ListModels(), ElementsAre("alpha", "mid", "zeta"));
  // Polling sees models added later.
  b.MakeDirectory("new");
  EXPECT_THAT(repository->ListModels(), ElementsAre("alpha", "mid", "new", "zeta"));
}

TEST(ModelRepositoryTest, ModelDirectoryFindsTheRootThatHasIt) {
  TempDirectoryForTest a, b;
  a.MakeDirectory("one");
  b.MakeDirectory("two");
  std::unique_ptr<ModelRepository> repository = CreateOrDie({a.path(), b.path()});
  ASSERT_NE(repository, nullptr);
  EXPECT_EQ(repository->ModelDirectory("two").value(), b.path() / "two");
  absl::Status missing = repository->ModelDirectory("three").status();
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.message()), HasSubstr("'three'"));
}

TEST(ModelRepositoryTest, ModelInTwoRootsIsAnError) {
  TempDirectoryForTest a, b;
  a.MakeDirectory("dup");
  b.MakeDirectory("dup");
  std::unique_ptr<ModelRepository> repository = CreateOrDie({a.path(), b.path()});
  ASSERT_NE(repository, nullptr);
  EXPECT_THAT(repository->ListModels(), ElementsAre("dup"));
  absl::Status status = repository->ModelDirectory("dup").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(status.message()), HasSubstr("not unique across all model repositories"));
  EXPECT_THAT(std::string(status.message()), HasSubstr(a.path().string()));
  EXPECT_THAT(std::string(status.message()), HasSubstr(b.path().string()));
  EXPECT_EQ(repository->Fingerprint("dup").status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(ModelRepositoryTest, ModelNamesCannotEscapeTheRoots) {
  TempDirectoryForTest dir;
  dir.MakeDirectory("repo/m");
  dir.MakeDirectory("outside");
  std::unique_ptr<ModelRepository> repository = CreateOrDie({dir.path() / "repo"});
  ASSERT_NE(repository, nullptr);
  using namespace std::string_view_literals;
  for (std::string_view name : {""sv, "."sv, ".."sv, "../outside"sv, "m/1"sv, ".hidden"sv,
                                "m\0x"sv}) {
    EXPECT_EQ(repository->ModelDirectory(name).status().code(), absl::StatusCode::kInvalidArgument)
        << name;
  }
}

TEST(ModelRepositoryTest, AConfigThatIsNotARegularFileNeitherThrowsNorBlocks) {
  TempDirectoryForTest dir;
  dir.MakeDirectory("repo/as_directory/config.pbtxt");
  dir.MakeDirectory("repo/as_fifo/1");
  const std::filesystem::path fifo = dir.path() / "repo/as_fifo/config.pbtxt";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::unique_ptr<ModelRepository> repository = CreateOrDie({dir.path() / "repo"});
  ASSERT_NE(repository, nullptr);
  // Reading a directory as a file throws inside the stream; opening a FIFO waits for a writer.
  EXPECT_TRUE(repository->Fingerprint("as_directory").ok());
  EXPECT_TRUE(repository->Fingerprint("as_fifo").ok());
}

TEST(ModelRepositoryTest, ListVersionsKeepsPositiveNumericDirectories) {
  TempDirectoryForTest dir;
  for (const char* name :
       {"10", "2", "1", "0", "-3", "01", "v4", "3a", ".5", "99999999999999999999"}) {
    dir.MakeDirectory(name);
  }
  dir.WriteFile("7", "a file, not a version");
  EXPECT_THAT(ModelRepository::ListVersions(dir.path()), ElementsAre(1, 2, 10));
  EXPECT_THAT(ModelRepository::ListVersions(dir.path() / "missing"), IsEmpty());
}

class FingerprintTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_.WriteFile("m/config.pbtxt", "backend: \"identity\"\n");
    repo_.WriteFile("m/1/model.pt", "weights-v1");
    repo_.MakeDirectory("other/1");
    repository_ = CreateOrDie({repo_.path()});
    ASSERT_NE(repository_, nullptr);
    before_ = FingerprintOrDie(*repository_, "m");
  }

  TempDirectoryForTest repo_;
  std::unique_ptr<ModelRepository> repository_;
  std::string before_;
};

TEST_F(FingerprintTest, StableWhenNothingChanges) {
  EXPECT_FALSE(before_.empty());
  EXPECT_EQ(FingerprintOrDie(*repository_, "m"), before_);
  // Other models do not matter.
  repo_.WriteFile("other/1/model.pt", "x");
  EXPECT_EQ(FingerprintOrDie(*repository_, "m"), before_);
  EXPECT_NE(FingerprintOrDie(*repository_, "other"), before_);
}

TEST_F(FingerprintTest, ChangesWithConfigContent) {
  const fs::path config = repo_.path() / "m/config.pbtxt";
  const fs::file_time_type mtime = fs::last_write_time(config);
  repo_.WriteFile("m/config.pbtxt", "backend: \"pytorch\"\n");  // same size
  fs::last_write_time(config, mtime);                           // same mtime
  EXPECT_NE(FingerprintOrDie(*repository_, "m"), before_);
}

TEST_F(FingerprintTest, ChangesWhenAVersionIsAdded) {
  repo_.MakeDirectory("m/2");
  const std::string with_two = FingerprintOrDie(*repository_, "m");
  EXPECT_NE(with_two, before_);
  fs::remove(repo_.path() / "m/2");
  EXPECT_NE(FingerprintOrDie(*repository_, "m"), with_two);
}

TEST_F(FingerprintTest, ChangesWhenAFileChangesSize) {
  repo_.WriteFile("m/1/model.pt", "weights-v1-retrained");
  EXPECT_NE(FingerprintOrDie(*repository_, "m"), before_);
}

TEST_F(FingerprintTest, ChangesWhenAFileIsTouched) {
  const fs::path model = repo_.path() / "m/1/model.pt";
  fs::last_write_time(model, fs::last_write_time(model) + std::chrono::seconds(5));
  EXPECT_NE(FingerprintOrDie(*repository_, "m"), before_);
}

TEST_F(FingerprintTest, ChangesWhenAFileIsAdded) {
  repo_.WriteFile("m/1/extra.txt", "");
  EXPECT_NE(FingerprintOrDie(*repository_, "m"), before_);
}

TEST_F(FingerprintTest, UnknownModelIsNotFound) {
  EXPECT_EQ(repository_->Fingerprint("ghost").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace sonic::server
