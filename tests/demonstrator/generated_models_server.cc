#include "generated_models_server.h"

#include "absl/strings/str_cat.h"

namespace sonic::demo {

absl::StatusOr<GeneratedModelServer> StartOnGeneratedModels(
    std::string_view prefix, const models::GenerateOptions& options) {
  GeneratedModelServer started;
  absl::StatusOr<std::unique_ptr<testing::TempDirectory>> dir =
      testing::TempDirectory::Create(prefix);
  if (!dir.ok()) return dir.status();
  started.dir = *std::move(dir);
  absl::StatusOr<models::GenerateReport> generated =
      models::GenerateModels(started.models(), 2026, options);
  if (!generated.ok()) return generated.status();
  if (!generated->skipped.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("a model format was not generated: ", generated->skipped.front()));
  }
  testing::ServerProcess::Options server_options;
  server_options.args = {"--model-repository", started.models().string()};
  absl::StatusOr<std::unique_ptr<testing::ServerProcess>> server =
      testing::ServerProcess::Start(server_options);
  if (!server.ok()) return server.status();
  started.server = *std::move(server);
  return started;
}

}  // namespace sonic::demo
