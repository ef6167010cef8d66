// The setup the demonstrator's format tests share: the demonstrator's models generated into a
// temporary repository (models::GenerateModels, in the formats asked for) and a sonic-server
// started on it. Not thread-safe; owns both, the server stopped and the folder removed when
// destroyed (server first).
#pragma once

#include <filesystem>
#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "demonstrator/models/model_zoo.h"
#include "server_process.h"

namespace sonic::demo {

struct GeneratedModelServer {
  std::unique_ptr<testing::TempDirectory> dir;  // the repository is dir/models
  std::unique_ptr<testing::ServerProcess> server;

  std::filesystem::path models() const { return dir->path() / "models"; }
};

// Generates the models (seed 2026) under a new temporary folder named after `prefix` and starts
// a server on them. FAILED_PRECONDITION naming the format when a format asked for was skipped
// (its Python environment is missing); otherwise the generator's or ServerProcess::Start's error.
absl::StatusOr<GeneratedModelServer> StartOnGeneratedModels(
    std::string_view prefix, const models::GenerateOptions& options);

}  // namespace sonic::demo
