// `sonic models generate --out DIR [--seed N]`: writes the demonstrator's models (model_zoo.h).
#include <iostream>

#include "commands.h"
#include "demonstrator/models/model_zoo.h"

namespace sonic::cli {

void AddModelsCommand(CLI::App& app, int& exit_code) {
  CLI::App* models = app.add_subcommand("models", "The demonstrator's models");
  models->require_subcommand(1);
  CLI::App* generate = models->add_subcommand(
      "generate",
      "Build the ParticleNet-, DeepMET- and DeepTau-like models with LibTorch and write them as a "
      "Triton model repository");
  struct Flags {
    std::string out;
    uint64_t seed = 2026;
  };
  auto flags = std::make_shared<Flags>();
  generate->add_option("--out", flags->out, "Model repository to write (created if missing)")
      ->required();
  generate->add_option("--seed", flags->seed, "Seed of the weights")->capture_default_str();
  generate->callback([flags, &exit_code] {
    absl::Status status = demo::models::GenerateModels(flags->out, flags->seed);
    if (!status.ok()) {
      PrintError("models generate", std::string(status.message()));
      exit_code = 1;
      return;
    }
    for (const std::string& name : demo::models::ModelNames()) {
      std::cout << "wrote " << (std::filesystem::path(flags->out) / name).string() << "\n";
    }
  });
}

}  // namespace sonic::cli
