// Ensemble models (platform "ensemble"): the data flow of an `ensemble_scheduling` config as a
// graph of steps and tensors, and the checks Triton makes of it.
//
// An ensemble tensor is named by the ensemble: its inputs and outputs, and the intermediate
// tensors that steps write (output_map: composing model output -> ensemble tensor) and read
// (input_map: composing model input -> ensemble tensor). A step runs once every tensor it reads
// exists; each tensor is written once, by the ensemble's request or by one step.
//
// Two stages of validation, as Triton: BuildEnsembleGraph needs only the ensemble's config (at
// config load); ValidateComposingModels needs the composing models' configs (when they are
// loaded). Both return INVALID_ARGUMENT with a message naming the ensemble and what is wrong.
//
// Thread-safe: pure functions and immutable values.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "inference/model_config.pb.h"

namespace sonic::server {

inline constexpr std::string_view kEnsemblePlatform = "ensemble";

// Whether `config` describes an ensemble (platform "ensemble").
bool IsEnsemble(const inference::ModelConfig& config);

struct EnsembleGraph {
  struct Step {
    std::string model_name;
    int64_t model_version = -1;  // -1: the highest ready version at request time
    // (composing model input, ensemble tensor), sorted by the composing model input's name.
    std::vector<std::pair<std::string, std::string>> inputs;
    // (composing model output, ensemble tensor), sorted by the output's name.
    std::vector<std::pair<std::string, std::string>> outputs;
  };
  std::vector<Step> steps;  // in config order
  // Every ensemble tensor -> the steps that read it (ascending).
  std::map<std::string, std::vector<size_t>, std::less<>> readers;
  // Every tensor a step writes -> that step.
  std::map<std::string, size_t, std::less<>> writer;
  // The steps in an order where each runs after every step it reads from (config order among
  // independent steps).
  std::vector<size_t> order;
};

// The graph of an ensemble config, checked: steps name a model and map inputs and outputs; no
// two writers of a tensor and no step writing an ensemble input; every tensor a step reads is
// an ensemble input or written by a step, without cycles; every ensemble output is written;
// every ensemble input and intermediate tensor is read; no instance_group, optimization,
// model_warmup, sequence_batching or input/output reshape (sonic-server does not reshape
// ensemble tensors).
absl::StatusOr<EnsembleGraph> BuildEnsembleGraph(const inference::ModelConfig& config);

// Checks the ensemble against its composing models' configs (`step_models[i]` is the config of
// step i's model): each step maps only inputs and outputs its model has and every non-optional
// input; every use of an ensemble tensor agrees on data type and shape (a -1 matches any size;
// a non-batching model's [-1, d...] matches a batching one's [d...]); a batching composing model
// allows at least the ensemble's max_batch_size.
absl::Status ValidateComposingModels(const inference::ModelConfig& ensemble,
                                     const EnsembleGraph& graph,
                                     std::span<const inference::ModelConfig* const> step_models);

}  // namespace sonic::server
