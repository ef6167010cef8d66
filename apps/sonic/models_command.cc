// `sonic models generate --out DIR [--seed N]`: writes the demonstrator's models (model_zoo.h),
// through the direct-inference plugin, which holds the LibTorch-linked generator.
#include <iostream>

#include "commands.h"
#include "demonstrator/direct/direct_plugin.h"

namespace sonic::cli {

void AddModelsCommand(CLI::App& app, int& exit_code) {
  CLI::App* models = app.add_subcommand("models", "The demonstrator's models");
  models->require_subcommand(1);
  CLI::App* generate = models->add_subcommand(
      "generate",
      "Build the ParticleNet-, DeepMET- and DeepTau-like models with LibTorch and write them as a "
      "Triton model repository; with the same weights also as ONNX models and a TensorFlow "
      "DeepMET (written by the project's Python environment)");
  struct Flags {
    std::string out;
    uint64_t seed = 2026;
    std::vector<std::string> formats = {"torchscript", "onnx", "tensorflow"};
  };
  auto flags = std::make_shared<Flags>();
  generate->add_option("--out", flags->out, "Model repository to write (created if missing)")
      ->required();
  generate->add_option("--seed", flags->seed, "Seed of the weights")->capture_default_str();
  generate
      ->add_option("--formats", flags->formats,
                   "Formats to write, comma-separated (TorchScript always: the others take its "
                   "weights)")
      ->delimiter(',')
      ->check(CLI::IsMember({"torchscript", "onnx", "tensorflow"}))
      ->capture_default_str();
  generate->callback([flags, &exit_code] {
    absl::StatusOr<const demo::DirectPluginApi*> plugin = demo::LoadDirectPlugin();
    absl::Status status = plugin.status();
    if (status.ok() && (*plugin)->generate_models == nullptr) {
      status = absl::FailedPreconditionError(
          "this build has no model generator: it was configured without LibTorch "
          "(SONIC_WITH_TORCH=OFF)");
    }
    demo::models::GenerateOptions options;
    for (const std::string& format : flags->formats) {
      options.onnx |= format == "onnx";
      options.tensorflow |= format == "tensorflow";
    }
    absl::StatusOr<demo::models::GenerateReport> report;
    if (status.ok()) {
      report = (*plugin)->generate_models(flags->out, flags->seed, options);
      status = report.status();
    }
    if (!status.ok()) {
      PrintError("models generate", std::string(status.message()));
      exit_code = 1;
      return;
    }
    for (const std::string& name : report->written) {
      std::cout << "wrote " << (std::filesystem::path(flags->out) / name).string() << "\n";
    }
    for (const std::string& line : report->skipped) std::cerr << "skipped: " << line << "\n";
  });
}

}  // namespace sonic::cli
