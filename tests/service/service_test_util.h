// What the TritonService integration tests share: a test model repository in a temporary folder,
// servers on repositories of chosen models, services on them, an identity round trip, and
// process checks. Header-only; not thread-safe (one fixture per test).
#pragma once

#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client_test_util.h"
#include "sonic/common/status.h"
#include "sonic/service/triton_service.h"
#include "test_models.h"

namespace sonic::service::testing {

inline std::filesystem::path ServerBinary() {
  return std::filesystem::path(std::getenv("SONIC_BUILD_DIR")) / "bin" / "sonic-server";
}

// Whether process `pid` is gone (or a zombie nobody reaped yet).
inline bool ProcessGone(pid_t pid) {
  if (kill(pid, 0) != 0) return true;
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');
  return paren == std::string::npos || text.substr(paren + 2, 1) == "Z";
}

// The value after `flag` on the command line of process `pid`; "" when not there.
inline std::string CommandLineValue(pid_t pid, const std::string& flag) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/cmdline"));
  std::vector<std::string> args;
  for (std::string arg; std::getline(in, arg, '\0');) args.push_back(arg);
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == flag) return args[i + 1];
  }
  return "";
}

// Sends `values` to INPUT0 of an identity model and checks OUTPUT0 comes back the same.
inline absl::Status RoundTrip(client::TritonClient& client, const std::vector<float>& values) {
  client.reset();
  SONIC_RETURN_IF_ERROR(sonic::testing::SendFp32(client, "INPUT0", {values}));
  SONIC_RETURN_IF_ERROR(sonic::testing::DispatchAndWait(client));
  SONIC_ASSIGN_OR_RETURN(auto outputs, sonic::testing::ReadFp32(client, "OUTPUT0"));
  if (outputs.size() != 1 || outputs[0] != values) {
    return absl::InternalError("outputs differ from inputs");
  }
  return absl::OkStatus();
}

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(std::getenv("SONIC_BUILD_DIR"), nullptr);
    auto dir = sonic::testing::TempDirectory::Create("sonic-service");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = std::move(*dir);
    ASSERT_TRUE(sonic::testing::WriteTestRepository(all()).ok());
  }
  std::filesystem::path all() const { return dir_->path() / "all"; }
  ModelDeclaration Model(const std::string& name) const { return {name, all() / name, ""}; }

  // A server on a repository of `models`: name in the repository -> model directory (linked).
  std::unique_ptr<sonic::testing::ServerProcess> StartServer(
      const std::string& name,
      const std::vector<std::pair<std::string, std::filesystem::path>>& models) {
    const auto repository = dir_->path() / name;
    std::filesystem::create_directories(repository);
    for (const auto& [model, directory] : models) {
      std::filesystem::create_directory_symlink(directory, repository / model);
    }
    return StartServer(repository);
  }

  // A server on the model repository `repository`.
  std::unique_ptr<sonic::testing::ServerProcess> StartServer(
      const std::filesystem::path& repository) {
    sonic::testing::ServerProcess::Options options;
    options.args = {"--model-repository", repository.string()};
    auto server = sonic::testing::ServerProcess::Start(options);
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? std::move(*server) : nullptr;
  }

  std::unique_ptr<TritonService> CreateService(const ServiceConfig& config,
                                               std::function<void(std::string_view)> log = {}) {
    auto service = TritonService::Create({config, false, std::move(log)});
    EXPECT_TRUE(service.ok()) << service.status();
    return service.ok() ? std::move(*service) : nullptr;
  }

  static ServiceConfig WithFallback() {
    ServiceConfig config;
    config.fallback.enabled = true;
    config.fallback.binary = ServerBinary();
    config.fallback.device = FallbackDevice::kCpu;
    return config;
  }

  std::unique_ptr<sonic::testing::TempDirectory> dir_;
};

}  // namespace sonic::service::testing
