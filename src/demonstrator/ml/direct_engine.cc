#include "demonstrator/ml/direct_engine.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "sonic/common/status.h"

namespace sonic::demo {
namespace {

std::span<const std::byte> Bytes(const std::vector<float>& values) {
  return std::as_bytes(std::span(values));
}

std::vector<float> Floats(const std::string& bytes, size_t offset, size_t count) {
  std::vector<float> values(count);
  std::memcpy(values.data(), bytes.data() + offset, count * sizeof(float));
  return values;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DirectEngine>> DirectEngine::Create(
    const std::filesystem::path& model_dir) {
  SONIC_ASSIGN_OR_RETURN(std::unique_ptr<server::LocalModel> model,
                         server::LocalModel::Load(model_dir));
  return std::unique_ptr<DirectEngine>(new DirectEngine(std::move(model)));
}

absl::Status DirectEngine::setInput(const NamedInput& input) {
  const std::string what = absl::StrCat("model '", modelName(), "' input '", input.name, "'");
  bool known = false;
  for (const auto& config_input : model_->config().input()) known |= config_input.name() == input.name;
  if (!known) return absl::InvalidArgumentError(absl::StrCat(what, " does not exist"));
  if (!inputs_.empty() && input.shapes.size() != entries_) {
    return absl::InvalidArgumentError(absl::StrCat(what, " has ", input.shapes.size(),
                                                   " entries, other inputs ", entries_));
  }
  if (!input.data || input.data->size() != input.shapes.size()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": one vector of values per entry needed"));
  }
  for (size_t entry = 0; entry < input.shapes.size(); ++entry) {
    SONIC_ASSIGN_OR_RETURN(int64_t elements, ElementCount(input.shapes[entry]));
    if ((*input.data)[entry].size() != static_cast<size_t>(elements)) {
      return absl::InvalidArgumentError(absl::StrCat(what, " entry ", entry, " of shape ",
                                                     ShapeToString(input.shapes[entry]), " has ",
                                                     (*input.data)[entry].size(), " values"));
    }
  }
  entries_ = input.shapes.size();
  inputs_.insert_or_assign(input.name, input);
  return absl::OkStatus();
}

bool DirectEngine::oneRequestPerEntry() const {
  for (const auto& config_input : model_->config().input()) {
    if (config_input.allow_ragged_batch()) return true;
  }
  if (model_->config().max_batch_size() <= 0) return true;
  for (const auto& [name, input] : inputs_) {
    for (const Shape& shape : input.shapes) {
      if (shape != input.shapes.front()) return true;
    }
  }
  return false;
}

void DirectEngine::infer(std::function<void(absl::Status)> done) { done(run()); }

absl::Status DirectEngine::run() {
  outputs_.clear();
  if (entries_ == 0) return absl::OkStatus();
  const bool batched = model_->config().max_batch_size() > 0;
  const size_t max_batch = batched ? static_cast<size_t>(model_->config().max_batch_size()) : 1;
  if (oneRequestPerEntry()) {
    // As a TritonClient's ragged batch: one request per entry. They run together when the model
    // can batch them (ragged inputs, or equal shapes), else one by one.
    bool together = batched;
    for (const auto& config_input : model_->config().input()) {
      auto it = inputs_.find(config_input.name());
      if (it == inputs_.end() || config_input.allow_ragged_batch()) continue;
      for (const Shape& shape : it->second.shapes) together &= shape == it->second.shapes.front();
    }
    const size_t chunk = together ? max_batch : 1;
    for (size_t first = 0; first < entries_; first += chunk) {
      std::vector<server::LocalRequest> requests;
      for (size_t entry = first; entry < std::min(entries_, first + chunk); ++entry) {
        server::LocalRequest& request = requests.emplace_back();
        for (const auto& [name, input] : inputs_) {
          Shape shape = input.shapes[entry];
          if (batched) shape.insert(shape.begin(), 1);
          request.push_back({name, DataType::kFp32, std::move(shape), Bytes((*input.data)[entry])});
        }
      }
      SONIC_RETURN_IF_ERROR(execute(requests, first, /*per_entry=*/true));
    }
    return absl::OkStatus();
  }
  // As a TritonClient's rectangular batch: entries stacked, cut at max_batch_size.
  for (size_t first = 0; first < entries_; first += max_batch) {
    const size_t count = std::min(max_batch, entries_ - first);
    std::vector<std::vector<float>> stacked;
    server::LocalRequest request;
    stacked.reserve(inputs_.size());
    for (const auto& [name, input] : inputs_) {
      std::vector<float>& values = stacked.emplace_back();
      for (size_t entry = first; entry < first + count; ++entry) {
        values.insert(values.end(), (*input.data)[entry].begin(), (*input.data)[entry].end());
      }
      Shape shape = input.shapes.front();
      shape.insert(shape.begin(), static_cast<int64_t>(count));
      request.push_back({name, DataType::kFp32, std::move(shape), Bytes(values)});
    }
    SONIC_RETURN_IF_ERROR(execute({request}, first, /*per_entry=*/false));
  }
  return absl::OkStatus();
}

absl::Status DirectEngine::execute(const std::vector<server::LocalRequest>& requests,
                                   size_t first_entry, bool per_entry) {
  SONIC_ASSIGN_OR_RETURN(auto responses, model_->Execute(requests));
  const bool batched = model_->config().max_batch_size() > 0;
  size_t entry = first_entry;
  for (const std::vector<server::OutputTensor>& response : responses) {
    size_t rows = 1;
    for (const server::OutputTensor& tensor : response) {
      Output& output = outputs_[tensor.name];
      output.shapes.resize(entries_);
      output.values.resize(entries_);
      const size_t elements = tensor.data.size() / sizeof(float);
      Shape shape = tensor.shape;
      if (batched && !shape.empty()) {
        rows = per_entry ? 1 : static_cast<size_t>(shape.front());
        shape.erase(shape.begin());
      }
      const size_t per_row = rows == 0 ? 0 : elements / rows;
      for (size_t row = 0; row < rows; ++row) {
        output.shapes[entry + row] = shape;
        output.values[entry + row] = Floats(tensor.data, row * per_row * sizeof(float), per_row);
      }
    }
    entry += rows;
  }
  return absl::OkStatus();
}

absl::StatusOr<FloatOutput> DirectEngine::output(std::string_view name) const {
  auto it = outputs_.find(name);
  if (it == outputs_.end()) {
    return absl::InvalidArgumentError(absl::StrCat("model '", modelName(), "' has no output '",
                                                   std::string(name), "' in its last result"));
  }
  FloatOutput result;
  result.shapes = it->second.shapes;
  for (const std::vector<float>& values : it->second.values) result.values.emplace_back(values);
  return result;
}

void DirectEngine::reset() {
  inputs_.clear();
  outputs_.clear();
  entries_ = 0;
}

}  // namespace sonic::demo
