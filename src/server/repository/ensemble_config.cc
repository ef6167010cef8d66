#include "server/repository/ensemble_config.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sonic/common/status.h"

namespace sonic::server {
namespace {

using inference::ModelConfig;

template <typename... Args>
absl::Status Invalid(const ModelConfig& config, const Args&... args) {
  return absl::InvalidArgumentError(
      absl::StrCat("model '", config.name(), "': ensemble_scheduling: ", args...));
}

std::string StepName(const EnsembleGraph& graph, size_t step) {
  return absl::StrCat("step[", step, "] (model '", graph.steps[step].model_name, "')");
}

template <typename Tensors>
bool Has(const Tensors& tensors, std::string_view name) {
  return std::any_of(tensors.begin(), tensors.end(),
                     [&](const auto& tensor) { return tensor.name() == name; });
}

absl::Status CheckEnsembleFields(const ModelConfig& config) {
  const char* const fields[] = {"instance_group",    "optimization", "model_warmup",
                                "sequence_batching", "batch_input",  "batch_output"};
  const bool set[] = {config.instance_group_size() > 0, config.has_optimization(),
                      config.model_warmup_size() > 0,   config.has_sequence_batching(),
                      config.batch_input_size() > 0,    config.batch_output_size() > 0};
  for (size_t i = 0; i < std::size(fields); ++i) {
    if (set[i]) {
      return absl::InvalidArgumentError(absl::StrCat("model '", config.name(), "': ", fields[i],
                                                     " must not be set for an ensemble"));
    }
  }
  if (!config.backend().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", config.name(), "': backend must not be set for an ensemble, got '",
                     config.backend(), "'"));
  }
  auto reshaped = [](const auto& tensor) { return tensor.has_reshape(); };
  if (std::any_of(config.input().begin(), config.input().end(), reshaped) ||
      std::any_of(config.output().begin(), config.output().end(), reshaped)) {
    return absl::UnimplementedError(
        absl::StrCat("model '", config.name(),
                     "': reshape of an ensemble's input or output is not supported "
                     "by sonic-server"));
  }
  if (!config.has_ensemble_scheduling() || config.ensemble_scheduling().step_size() == 0) {
    return Invalid(config, "an ensemble must list at least one step");
  }
  return absl::OkStatus();
}

// The steps as read from the config, with each tensor's writer and readers.
absl::Status ReadSteps(const ModelConfig& config, EnsembleGraph& graph) {
  const auto& steps = config.ensemble_scheduling().step();
  for (int i = 0; i < steps.size(); ++i) {
    const auto& step = steps[i];
    EnsembleGraph::Step& read = graph.steps.emplace_back();
    read.model_name = step.model_name();
    read.model_version = step.model_version();
    const std::string name = StepName(graph, static_cast<size_t>(i));
    if (step.model_name().empty()) return Invalid(config, "step[", i, "]: model_name is empty");
    if (step.model_version() != -1 && step.model_version() < 1) {
      return Invalid(config, name,
                     ": model_version must be -1 (the latest version) or a "
                     "version number, got ",
                     step.model_version());
    }
    if (step.input_map().empty()) return Invalid(config, name, ": input_map is empty");
    if (step.output_map().empty()) return Invalid(config, name, ": output_map is empty");
    read.inputs.assign(step.input_map().begin(), step.input_map().end());
    read.outputs.assign(step.output_map().begin(), step.output_map().end());
    std::sort(read.inputs.begin(), read.inputs.end());
    std::sort(read.outputs.begin(), read.outputs.end());
    for (const auto& [model_input, tensor] : read.inputs) {
      std::vector<size_t>& readers = graph.readers[tensor];
      if (readers.empty() || readers.back() != static_cast<size_t>(i)) readers.push_back(i);
    }
    for (const auto& [model_output, tensor] : read.outputs) {
      if (Has(config.input(), tensor)) {
        return Invalid(config, name, ": output '", model_output, "' writes ensemble input '",
                       tensor, "'; ensemble inputs come only from the request");
      }
      auto [it, inserted] = graph.writer.emplace(tensor, static_cast<size_t>(i));
      if (!inserted) {
        return Invalid(config, "ensemble tensor '", tensor, "' is written by ",
                       StepName(graph, it->second), " and by ", name,
                       "; a tensor can be written only once");
      }
    }
  }
  return absl::OkStatus();
}

// A cycle among `remaining` steps (each reads a tensor that another remaining step writes), as
// "step[0] (model 'a') reads 'x' from step[1] (model 'b'), which reads 'y' from step[0] ...".
std::string DescribeCycle(const EnsembleGraph& graph, const std::set<std::string>& available,
                          size_t start) {
  std::vector<size_t> path;
  std::vector<std::string> via;
  size_t step = start;
  while (std::find(path.begin(), path.end(), step) == path.end()) {
    path.push_back(step);
    for (const auto& [model_input, tensor] : graph.steps[step].inputs) {
      if (!available.contains(tensor)) {
        via.push_back(tensor);
        step = graph.writer.find(tensor)->second;
        break;
      }
    }
  }
  const size_t first =
      static_cast<size_t>(std::find(path.begin(), path.end(), step) - path.begin());
  std::string text = StepName(graph, path[first]);
  for (size_t i = first; i < path.size(); ++i) {
    const size_t next = i + 1 < path.size() ? path[i + 1] : path[first];
    absl::StrAppend(&text, " reads '", via[i], "' from ", StepName(graph, next),
                    i + 1 < path.size() ? ", which" : "");
  }
  return text;
}

// Orders the steps so that each runs after the steps it reads from; a step that can never run
// is an error naming why.
absl::Status OrderSteps(const ModelConfig& config, EnsembleGraph& graph) {
  std::set<std::string> available;
  for (const auto& input : config.input()) available.insert(input.name());
  for (size_t step = 0; step < graph.steps.size(); ++step) {
    for (const auto& [model_input, tensor] : graph.steps[step].inputs) {
      if (!available.contains(tensor) && !graph.writer.contains(tensor)) {
        return Invalid(config, StepName(graph, step), ": input '", model_input,
                       "' reads ensemble tensor '", tensor,
                       "', which is neither an ensemble input nor written by any step");
      }
    }
  }
  std::vector<bool> done(graph.steps.size(), false);
  for (bool progress = true; progress;) {
    progress = false;
    for (size_t step = 0; step < graph.steps.size(); ++step) {
      if (done[step]) continue;
      const auto& inputs = graph.steps[step].inputs;
      if (!std::all_of(inputs.begin(), inputs.end(),
                       [&](const auto& input) { return available.contains(input.second); })) {
        continue;
      }
      done[step] = progress = true;
      graph.order.push_back(step);
      for (const auto& [model_output, tensor] : graph.steps[step].outputs) available.insert(tensor);
    }
  }
  for (size_t step = 0; step < graph.steps.size(); ++step) {
    if (!done[step]) {
      return Invalid(config, "the steps form a cycle: ", DescribeCycle(graph, available, step));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckTensorsUsed(const ModelConfig& config, const EnsembleGraph& graph) {
  for (const auto& output : config.output()) {
    if (!graph.writer.contains(output.name())) {
      return Invalid(config, "ensemble output '", output.name(), "' is not written by any step");
    }
  }
  for (const auto& input : config.input()) {
    if (!graph.readers.contains(input.name())) {
      return Invalid(config, "ensemble input '", input.name(), "' is not read by any step");
    }
  }
  for (const auto& [tensor, step] : graph.writer) {
    if (!graph.readers.contains(tensor) && !Has(config.output(), tensor)) {
      return Invalid(config, "ensemble tensor '", tensor, "' written by ", StepName(graph, step),
                     " is neither read by a step nor an ensemble output");
    }
  }
  return absl::OkStatus();
}

// One use of an ensemble tensor: its type and dims there, and whether that side batches.
struct TensorUse {
  int32_t data_type = 0;
  std::vector<int64_t> dims;
  bool batching = false;
  std::string origin;  // "ensemble 'e'" or "model 'm'"

  std::vector<int64_t> FullDims() const {
    std::vector<int64_t> full;
    if (batching) full.push_back(-1);
    full.insert(full.end(), dims.begin(), dims.end());
    return full;
  }
};

bool SameDimsWithWildcard(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] != b[i] && a[i] != -1 && b[i] != -1) return false;
  }
  return true;
}

std::string DimsText(const std::vector<int64_t>& dims) {
  return absl::StrCat("[", absl::StrJoin(dims, ","), "]");
}

// Records `use` of `tensor`, or says how it disagrees with an earlier use.
absl::Status AddUse(const ModelConfig& ensemble, std::map<std::string, TensorUse>& uses,
                    const std::string& tensor, TensorUse use) {
  auto [it, inserted] = uses.emplace(tensor, use);
  if (inserted) return absl::OkStatus();
  const TensorUse& seen = it->second;
  if (seen.data_type != use.data_type) {
    return Invalid(ensemble, "ensemble tensor '", tensor, "' has data type ",
                   inference::DataType_Name(static_cast<inference::DataType>(seen.data_type)),
                   " in ", seen.origin, " but ",
                   inference::DataType_Name(static_cast<inference::DataType>(use.data_type)),
                   " in ", use.origin);
  }
  if (!SameDimsWithWildcard(seen.dims, use.dims) &&
      !SameDimsWithWildcard(seen.FullDims(), use.FullDims())) {
    return Invalid(ensemble, "ensemble tensor '", tensor, "' has shape ", DimsText(seen.FullDims()),
                   " in ", seen.origin, " but ", DimsText(use.FullDims()), " in ", use.origin);
  }
  return absl::OkStatus();
}

template <typename Tensors>
const auto* FindTensor(const Tensors& tensors, std::string_view name) {
  for (const auto& tensor : tensors) {
    if (tensor.name() == name) return &tensor;
  }
  return static_cast<decltype(&*tensors.begin())>(nullptr);
}

absl::Status ValidateStep(const ModelConfig& ensemble, const EnsembleGraph& graph, size_t index,
                          const ModelConfig& model, std::map<std::string, TensorUse>& uses) {
  const EnsembleGraph::Step& step = graph.steps[index];
  const std::string name = StepName(graph, index);
  if (model.max_batch_size() != 0 && model.max_batch_size() < ensemble.max_batch_size()) {
    return Invalid(ensemble, "the ensemble's max_batch_size is ", ensemble.max_batch_size(),
                   " but ", name, " allows at most ", model.max_batch_size());
  }
  const bool batching = model.max_batch_size() > 0;
  const std::string origin = absl::StrCat("model '", model.name(), "'");
  for (const auto& [model_input, tensor] : step.inputs) {
    const auto* input = FindTensor(model.input(), model_input);
    if (input == nullptr) {
      return Invalid(ensemble, name, ": input_map names '", model_input,
                     "', which is not an input of model '", model.name(), "'");
    }
    SONIC_RETURN_IF_ERROR(AddUse(
        ensemble, uses, tensor,
        {input->data_type(), {input->dims().begin(), input->dims().end()}, batching, origin}));
  }
  for (const auto& input : model.input()) {
    const bool mapped = std::any_of(step.inputs.begin(), step.inputs.end(),
                                    [&](const auto& pair) { return pair.first == input.name(); });
    if (!mapped && !input.optional()) {
      return Invalid(ensemble, name, ": input '", input.name(), "' of model '", model.name(),
                     "' is not mapped to any ensemble tensor");
    }
  }
  for (const auto& [model_output, tensor] : step.outputs) {
    const auto* output = FindTensor(model.output(), model_output);
    if (output == nullptr) {
      return Invalid(ensemble, name, ": output_map names '", model_output,
                     "', which is not an output of model '", model.name(), "'");
    }
    SONIC_RETURN_IF_ERROR(AddUse(
        ensemble, uses, tensor,
        {output->data_type(), {output->dims().begin(), output->dims().end()}, batching, origin}));
  }
  return absl::OkStatus();
}

}  // namespace

bool IsEnsemble(const ModelConfig& config) { return config.platform() == kEnsemblePlatform; }

absl::StatusOr<EnsembleGraph> BuildEnsembleGraph(const ModelConfig& config) {
  SONIC_RETURN_IF_ERROR(CheckEnsembleFields(config));
  EnsembleGraph graph;
  SONIC_RETURN_IF_ERROR(ReadSteps(config, graph));
  SONIC_RETURN_IF_ERROR(OrderSteps(config, graph));
  SONIC_RETURN_IF_ERROR(CheckTensorsUsed(config, graph));
  return graph;
}

absl::Status ValidateComposingModels(const ModelConfig& ensemble, const EnsembleGraph& graph,
                                     std::span<const ModelConfig* const> step_models) {
  if (step_models.size() != graph.steps.size()) {
    return absl::InternalError("ValidateComposingModels: one config per step is required");
  }
  std::map<std::string, TensorUse> uses;
  const bool batching = ensemble.max_batch_size() > 0;
  const std::string origin = absl::StrCat("ensemble '", ensemble.name(), "'");
  for (const auto& input : ensemble.input()) {
    uses.emplace(
        input.name(),
        TensorUse{input.data_type(), {input.dims().begin(), input.dims().end()}, batching, origin});
  }
  for (const auto& output : ensemble.output()) {
    uses.emplace(
        output.name(),
        TensorUse{
            output.data_type(), {output.dims().begin(), output.dims().end()}, batching, origin});
  }
  for (size_t step : graph.order) {
    SONIC_RETURN_IF_ERROR(ValidateStep(ensemble, graph, step, *step_models[step], uses));
  }
  return absl::OkStatus();
}

}  // namespace sonic::server
