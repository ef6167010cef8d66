// `sonic plan`: a deployment plan from measured profiles, a workload and constraints (one YAML
// file; see the README's "Planning a site"). The work is in src/tools/plan; this file maps
// flags to options and writes the table, the YAML and the deployment overlay.
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "commands.h"
#include "plan_deploy.h"
#include "plan_inputs.h"
#include "plan_report.h"
#include "planner.h"
#include "queue_simulation.h"

namespace sonic::cli {
namespace {

struct PlanFlags {
  std::string input;
  std::string out;
  std::string deploy;
  std::string deploy_base = "deploy/kubernetes";
  std::string model_repository;
  bool simulate = false;
  tools::SimulationOptions simulation;
};

int RunPlanCommand(const PlanFlags& flags) {
  absl::StatusOr<tools::PlanInputs> inputs = tools::ReadPlanInputs(flags.input);
  if (!inputs.ok()) {
    PrintError("plan", std::string(inputs.status().message()));
    return inputs.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  absl::StatusOr<tools::Plan> plan = tools::MakePlan(*inputs);
  if (!plan.ok()) {
    PrintError("plan", std::string(plan.status().message()));
    return 1;
  }
  std::vector<tools::SimulatedQueueTime> simulated;
  if (flags.simulate) {
    tools::SimulationOptions options = flags.simulation;
    options.warmup = options.requests / 10;
    absl::StatusOr<std::vector<tools::SimulatedQueueTime>> result =
        tools::SimulatePlan(*plan, options);
    if (!result.ok()) {
      PrintError("plan", absl::StrCat("simulation: ", result.status().message()));
      return 1;
    }
    simulated = *std::move(result);
  }
  std::cout << tools::FormatPlanTable(*plan, simulated);
  if (!flags.out.empty()) {
    std::ofstream out(flags.out, std::ios::trunc);
    out << tools::PlanYaml(*plan, simulated);
    if (!out.flush()) {
      PrintError("plan", "cannot write " + flags.out);
      return 1;
    }
  }
  if (!flags.deploy.empty()) {
    absl::Status written =
        tools::WriteDeployment(*plan, {.base = flags.deploy_base,
                                       .out = flags.deploy,
                                       .device = inputs->constraints.device,
                                       .model_repository = flags.model_repository});
    if (!written.ok()) {
      PrintError("plan", std::string(written.message()));
      return written.code() == absl::StatusCode::kInternal ? 1 : 2;
    }
    std::cout << "deployment overlay in " << flags.deploy << " (kubectl apply -k " << flags.deploy
              << ")\n";
    if (!flags.model_repository.empty()) {
      std::cout << "model configurations in " << flags.deploy
                << "/model-repository: copy them onto the servers' model repository\n";
    } else {
      std::cout << "no --model-repository: instances and batching are not in the deployment\n";
    }
  }
  return 0;
}

}  // namespace

void AddPlanCommand(CLI::App& app, int& exit_code) {
  CLI::App* command = app.add_subcommand(
      "plan", "GPUs, servers and model placement for a workload, from measured profiles");
  auto flags = std::make_shared<PlanFlags>();
  command->add_option("input", flags->input, "plan file: profiles, workload, constraints (YAML)")
      ->required();
  command->add_option("--out", flags->out, "write the plan as YAML to this file");
  CLI::Option* deploy =
      command->add_option("--deploy", flags->deploy,
                          "write a kustomize overlay of --deploy-base here: server replicas, "
                          "--load-model lists and resources per server group");
  command->add_option("--deploy-base", flags->deploy_base,
                      "the scale-out manifests the overlay patches")
      ->capture_default_str();
  command
      ->add_option("--model-repository", flags->model_repository,
                   "with --deploy: the site's model repository; each planned model's "
                   "config.pbtxt with the plan's instances and batching is written as "
                   "configs/sonic-plan.pbtxt under DIR/model-repository")
      ->check(CLI::ExistingDirectory)
      ->needs(deploy);
  command->add_flag("--simulate", flags->simulate,
                    "also simulate each device's queue (discrete events) and show its percentiles");
  command->add_option("--seed", flags->simulation.seed, "the simulation's random seed")
      ->capture_default_str();
  command->add_option("--requests", flags->simulation.requests,
                      "requests simulated per device (after a warm-up of a tenth as many)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  command->callback([flags, &exit_code] { exit_code = RunPlanCommand(*flags); });
}

}  // namespace sonic::cli
