#include "server/backend/backend_registry.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "backends/identity/identity_backend.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sonic::server {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<BackendRegistry> MakeRegistry(const std::filesystem::path& dir) {
  absl::StatusOr<std::unique_ptr<BackendRegistry>> registry =
      BackendRegistry::Create({.backend_directory = dir});
  EXPECT_TRUE(registry.ok()) << registry.status();
  return *std::move(registry);
}

TEST(BackendRegistryTest, IdentityIsBuiltIn) {
  auto registry = MakeRegistry("/nonexistent/backends");
  absl::StatusOr<const SonicBackendApi*> api = registry->Get("identity");
  ASSERT_TRUE(api.ok()) << api.status();
  EXPECT_EQ(*api, backends::IdentityBackendApi());
  EXPECT_STREQ((*api)->name, "identity");
  EXPECT_EQ((*api)->api_version, static_cast<uint32_t>(SONIC_BACKEND_API_VERSION));
}

TEST(BackendRegistryTest, UnknownBackendIsNotFoundAndNamesTheFile) {
  auto registry = MakeRegistry("/nonexistent/backends");
  absl::StatusOr<const SonicBackendApi*> api = registry->Get("tensorflow");
  EXPECT_EQ(api.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(api.status().message(),
              HasSubstr("/nonexistent/backends/libsonic_backend_tensorflow.so"));
}

TEST(BackendRegistryTest, RejectsNamesThatAreNotPlainWords) {
  auto registry = MakeRegistry(SONIC_TEST_PLUGIN_DIR);
  for (const char* name : {"", "../identity", "a/b", "x.so"}) {
    EXPECT_EQ(registry->Get(name).status().code(), absl::StatusCode::kInvalidArgument) << name;
  }
}

TEST(BackendRegistryTest, LibraryWithoutEntryPointIsFailedPrecondition) {
  auto registry = MakeRegistry(SONIC_TEST_PLUGIN_DIR);
  absl::StatusOr<const SonicBackendApi*> api = registry->Get("notabackend");
  EXPECT_EQ(api.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(api.status().message(), HasSubstr("libsonic_backend_notabackend.so"));
  EXPECT_THAT(api.status().message(), HasSubstr("SonicBackendGetApi"));
}

TEST(BackendRegistryTest, OtherApiVersionIsFailedPrecondition) {
  auto registry = MakeRegistry(SONIC_TEST_PLUGIN_DIR);
  absl::StatusOr<const SonicBackendApi*> api = registry->Get("future");
  EXPECT_EQ(api.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(api.status().message(), HasSubstr("version"));
  EXPECT_THAT(api.status().message(), HasSubstr("libsonic_backend_future.so"));
}

TEST(BackendRegistryTest, FileThatIsNotALibraryReportsDlerror) {
  const std::filesystem::path dir =
      std::filesystem::path(testing::TempDir()) / "backend_registry_test_garbage";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "libsonic_backend_garbage.so") << "this is not an ELF file";
  auto registry = MakeRegistry(dir);
  absl::StatusOr<const SonicBackendApi*> api = registry->Get("garbage");
  EXPECT_EQ(api.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(api.status().message(), HasSubstr("libsonic_backend_garbage.so"));
  std::filesystem::remove_all(dir);
}

TEST(BackendRegistryTest, DefaultDirectoryIsLibBesideTheExecutableFolder) {
  // Test executables are in build/bin, like the server.
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe");
  EXPECT_EQ(DefaultBackendDirectory(), exe.parent_path().parent_path() / "lib");
  auto registry = BackendRegistry::Create({});
  ASSERT_TRUE(registry.ok());
  EXPECT_EQ((*registry)->backend_directory(), DefaultBackendDirectory());
}

TEST(BackendRegistryTest, ConcurrentLookupsAgree) {
  auto registry = MakeRegistry(SONIC_TEST_PLUGIN_DIR);
  std::vector<std::thread> threads;
  std::vector<const SonicBackendApi*> seen(8, nullptr);
  for (size_t i = 0; i < seen.size(); ++i) {
    threads.emplace_back([&, i] {
      EXPECT_FALSE(registry->Get("notabackend").ok());
      seen[i] = registry->Get("identity").value_or(nullptr);
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const SonicBackendApi* api : seen) EXPECT_EQ(api, backends::IdentityBackendApi());
}

TEST(BackendRegistryTest, BackendSettingsApplyGlobalThenTheBackendsOwn) {
  auto registry = BackendRegistry::Create(
      {.backend_directory = "/nonexistent/backends",
       .settings = {{"", {{"default-max-batch-size", "4"}, {"shm-size", "1"}}},
                    {"pytorch", {{"shm-size", "2"}, {"threads", "8"}}}}});
  ASSERT_TRUE(registry.ok()) << registry.status();
  EXPECT_EQ((*registry)->SettingsFor("pytorch"),
            (BackendSettings{{"default-max-batch-size", "4"}, {"shm-size", "2"}, {"threads", "8"}}));
  EXPECT_EQ((*registry)->SettingsFor("identity"),
            (BackendSettings{{"default-max-batch-size", "4"}, {"shm-size", "1"}}));
}

// What model_create saw of the settings, through the C boundary.
BackendSettings seen_settings;

SonicBackendError* RecordingModelCreate(const SonicBackendModelSpec* spec, SonicBackendModel**) {
  seen_settings.clear();
  for (uint32_t i = 0; i < spec->backend_config_count; ++i) {
    seen_settings.emplace_back(spec->backend_config_keys[i], spec->backend_config_values[i]);
  }
  return nullptr;  // and no model: BackendModel::Create reports that as an error
}

TEST(BackendModelTest, ModelCreateReceivesTheBackendSettings) {
  SonicBackendApi recording = *backends::IdentityBackendApi();
  recording.model_create = RecordingModelCreate;
  const BackendSettings settings = {{"intra-op-threads", "2"}, {"mode", "fast"}};
  auto model = BackendModel::Create(&recording, "m", 1, "/nonexistent", inference::ModelConfig(),
                                    settings);
  EXPECT_FALSE(model.ok());
  EXPECT_EQ(seen_settings, settings);
}

}  // namespace
}  // namespace sonic::server
