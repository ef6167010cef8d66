#include "demonstrator/models/model_zoo.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "backends/pytorch/torchscript_writer.h"
#include "demonstrator/models/model_export.h"
#include "demonstrator/models/model_shapes.h"
#include "sonic/common/status.h"

namespace sonic::demo::models {
namespace {

using backends::pytorch::TorchScriptModule;

// Adds parameters with deterministic random values: He-uniform weights (variance kept through
// ReLU layers), small uniform biases.
class ParameterMaker {
 public:
  explicit ParameterMaker(TorchScriptModule& module) : module_(module) {}

  // `name`_w [in, out] and `name`_b [out], for x @ w + b.
  void Dense(const std::string& name, int64_t in, int64_t out) {
    Add(name + "_w", {in, out}, std::sqrt(6.0 / static_cast<double>(in)));
    Add(name + "_b", {out}, 0.1);
  }
  // `name`_w [out, in, size, size] and `name`_b [out], for torch.conv2d.
  void Conv(const std::string& name, int64_t in, int64_t out, int64_t size) {
    Add(name + "_w", {out, in, size, size}, std::sqrt(6.0 / static_cast<double>(in * size * size)));
    Add(name + "_b", {out}, 0.1);
  }
  // An embedding table [rows, columns].
  void Table(const std::string& name, int64_t rows, int64_t columns) {
    Add(name, {rows, columns}, 1.0);
  }

 private:
  void Add(const std::string& name, std::vector<int64_t> shape, double bound) {
    module_.parameters.push_back({name, std::move(shape), bound});
  }

  TorchScriptModule& module_;
};

// ---------------------------------------------------------------------------------- ParticleNet

// Channels last inside: points [B, P, 2], x [B, P, C], mask [B, P, 1] (1 = a real constituent).
// Padding is moved far away so that it is nobody's neighbour when a jet has more than k
// constituents, and weighs nothing in the neighbour average otherwise.
constexpr std::string_view kEdgeConv = R"(
def edge_conv(self, points, x, mask, w1, b1, w2, b2, w3, b3, ws, bs):
    B = x.size(0)
    P = x.size(1)
    C = x.size(2)
    shortcut = torch.matmul(x, ws) + bs
    k = min(NEIGHBOURS, P - 1)
    if k < 1:
        return torch.relu(shortcut) * mask
    shifted = points + (1.0 - mask) * 1.0e9
    diff = shifted.unsqueeze(2) - shifted.unsqueeze(1)
    dist = (diff * diff).sum(3)
    idx = torch.topk(dist, k + 1, dim=2, largest=False)[1][:, :, 1:]
    flat = (idx + torch.arange(B).view(B, 1, 1) * P).reshape(-1)
    neighbours = x.reshape(B * P, C).index_select(0, flat).view(B, P, k, C)
    centre = x.unsqueeze(2).expand(B, P, k, C)
    h = torch.cat([centre, neighbours - centre], dim=3)
    h = torch.relu(torch.matmul(h, w1) + b1)
    h = torch.relu(torch.matmul(h, w2) + b2)
    h = torch.relu(torch.matmul(h, w3) + b3)
    real = mask.reshape(B * P, 1).index_select(0, flat).view(B, P, k, 1)
    agg = (h * real).sum(2) / real.sum(2).clamp(min=1.0)
    return torch.relu(agg + shortcut) * mask

def classify(self, points, features, mask):
    x = self.edge_conv(points, features, mask, self.ec1a_w, self.ec1a_b, self.ec1b_w, self.ec1b_b,
                       self.ec1c_w, self.ec1c_b, self.ec1s_w, self.ec1s_b)
    x = self.edge_conv(points, x, mask, self.ec2a_w, self.ec2a_b, self.ec2b_w, self.ec2b_b,
                       self.ec2c_w, self.ec2c_b, self.ec2s_w, self.ec2s_b)
    pooled = (x * mask).sum(1) / mask.sum(1).clamp(min=1.0)
    h = torch.relu(torch.matmul(pooled, self.fc1_w) + self.fc1_b)
    return torch.softmax(torch.matmul(h, self.fc2_w) + self.fc2_b, dim=1)
)";

// CMSSW's layout: channels first, [B, C, 100].
constexpr std::string_view kParticleNetPaddedForward = R"(
def forward(self, pf_points, pf_features, pf_mask):
    return self.classify(pf_points.transpose(1, 2), pf_features.transpose(1, 2),
                         pf_mask.transpose(1, 2))
)";

// Every jet's constituents one after another; jet_offsets: the element counts of pf_points
// accumulated, with a leading zero (2 elements per constituent). Padded here to the longest jet.
constexpr std::string_view kParticleNetRaggedForward = R"(
def forward(self, pf_points, pf_features, jet_offsets):
    points = pf_points.reshape(-1, COORDINATES)
    features = pf_features.reshape(-1, FEATURES)
    offsets = torch.div(jet_offsets.long(), COORDINATES, rounding_mode='floor')
    counts = offsets[1:] - offsets[:-1]
    jets = counts.size(0)
    width = 1
    if jets > 0:
        width = max(1, int(counts.max().item()))
    jet = torch.repeat_interleave(torch.arange(jets), counts)
    slot = torch.arange(points.size(0)) - offsets.index_select(0, jet)
    padded_points = torch.zeros([jets, width, COORDINATES])
    padded_points.index_put_([jet, slot], points)
    padded_features = torch.zeros([jets, width, FEATURES])
    padded_features.index_put_([jet, slot], features)
    mask = torch.zeros([jets, width, 1])
    mask.index_put_([jet, slot], torch.ones([points.size(0), 1]))
    return self.classify(padded_points, padded_features, mask)
)";

std::string WithConstants(std::string_view source) {
  return absl::StrReplaceAll(std::string(source),
                             {{"NEIGHBOURS", absl::StrCat(kParticleNetNeighbours)},
                              {"COORDINATES", absl::StrCat(kParticleNetCoordinates)},
                              {"FEATURES", absl::StrCat(kParticleNetFeatures)}});
}

TorchScriptModule ParticleNet(bool ragged, uint64_t seed) {
  TorchScriptModule module{ragged ? "ParticleNetRagged" : "ParticleNetPadded", {}, seed, {}};
  ParameterMaker make(module);
  const int64_t c1 = 32, c2 = 64;
  make.Dense("ec1a", 2 * kParticleNetFeatures, c1);
  make.Dense("ec1b", c1, c1);
  make.Dense("ec1c", c1, c1);
  make.Dense("ec1s", kParticleNetFeatures, c1);
  make.Dense("ec2a", 2 * c1, c2);
  make.Dense("ec2b", c2, c2);
  make.Dense("ec2c", c2, c2);
  make.Dense("ec2s", c1, c2);
  make.Dense("fc1", c2, 128);
  make.Dense("fc2", 128, kParticleNetClasses);
  module.methods = {WithConstants(kEdgeConv),
                    WithConstants(ragged ? kParticleNetRaggedForward : kParticleNetPaddedForward)};
  return module;
}

// ---------------------------------------------------------------------------------- DeepMET

// pf_cont: (pt, eta, phi, puppi, dxy, dz) per candidate; pf_cat: (charge + 1, type, from_pv);
// event_offsets: pf_cat's element counts accumulated with a leading zero (3 per candidate).
constexpr std::string_view kDeepMetForward = R"(
def forward(self, pf_cont, pf_cat, event_offsets):
    cont = pf_cont.reshape(-1, 6)
    cat = pf_cat.reshape(-1, 3).long()
    offsets = torch.div(event_offsets.long(), 3, rounding_mode='floor')
    counts = offsets[1:] - offsets[:-1]
    pt = cont[:, 0]
    phi = cont[:, 2]
    x = torch.stack([torch.log1p(pt), cont[:, 1] / 2.5, cont[:, 3],
                     torch.tanh(cont[:, 4] * 50.0), torch.tanh(cont[:, 5] * 10.0)], dim=1)
    x = torch.cat([x, self.charge_table.index_select(0, cat[:, 0]),
                   self.type_table.index_select(0, cat[:, 1]),
                   self.pv_table.index_select(0, cat[:, 2])], dim=1)
    h = torch.relu(torch.matmul(x, self.fc1_w) + self.fc1_b)
    h = torch.relu(torch.matmul(h, self.fc2_w) + self.fc2_b)
    weights = torch.sigmoid(torch.matmul(h, self.out_w) + self.out_b).reshape(-1)
    event = torch.repeat_interleave(torch.arange(counts.size(0)), counts)
    p = torch.stack([weights * pt * torch.cos(phi), weights * pt * torch.sin(phi)], dim=1)
    met = torch.zeros([counts.size(0), 2]).index_add_(0, event, -p)
    return (met, weights)
)";

TorchScriptModule DeepMet(uint64_t seed) {
  TorchScriptModule module{"DeepMet", {}, seed, {}};
  ParameterMaker make(module);
  make.Table("charge_table", 3, 2);
  make.Table("type_table", 5, 4);
  make.Table("pv_table", 4, 2);
  make.Dense("fc1", 5 + 2 + 4 + 2, 64);
  make.Dense("fc2", 64, 64);
  make.Dense("out", 64, 1);
  module.methods = {std::string(kDeepMetForward)};
  return module;
}

// ---------------------------------------------------------------------------------- DeepTau

// A 1x1 convolution to `channels`, then 3x3 convolutions without padding down to one cell.
std::string GridTower(ParameterMaker& make, const std::string& name, int64_t cells,
                      int64_t channels, std::string& source) {
  const std::string var = name.substr(0, 1);
  make.Conv(name + "0", kCellChannels, channels, 1);
  absl::StrAppend(&source, "    ", var, " = ", name, "_grid.permute(0, 3, 1, 2)\n");
  absl::StrAppend(&source, "    ", var, " = torch.relu(torch.conv2d(", var, ", self.", name,
                  "0_w, self.", name, "0_b))\n");
  for (int64_t layer = 1; cells > 1; ++layer, cells -= 2) {
    const std::string conv = absl::StrCat(name, layer);
    make.Conv(conv, channels, channels, 3);
    absl::StrAppend(&source, "    ", var, " = torch.relu(torch.conv2d(", var, ", self.", conv,
                    "_w, self.", conv, "_b))\n");
  }
  return var;
}

TorchScriptModule DeepTau(uint64_t seed) {
  TorchScriptModule module{"DeepTau", {}, seed, {}};
  ParameterMaker make(module);
  const int64_t channels = 32, tau_hidden = 32;
  make.Dense("tau", kDeepTauFeatures, tau_hidden);
  std::string source = "def forward(self, tau_features, inner_grid, outer_grid):\n";
  absl::StrAppend(&source,
                  "    t = torch.relu(torch.matmul(tau_features, self.tau_w) + self.tau_b)\n");
  const std::string inner = GridTower(make, "inner", kInnerCells, channels, source);
  const std::string outer = GridTower(make, "outer", kOuterCells, channels, source);
  make.Dense("fc1", tau_hidden + 2 * channels, 64);
  make.Dense("fc2", 64, kDeepTauClasses);
  absl::StrAppend(&source, "    h = torch.cat([t, ", inner, ".flatten(1), ", outer,
                  ".flatten(1)], dim=1)\n",
                  "    h = torch.relu(torch.matmul(h, self.fc1_w) + self.fc1_b)\n",
                  "    return torch.softmax(torch.matmul(h, self.fc2_w) + self.fc2_b, dim=1)\n");
  module.methods = {std::move(source)};
  return module;
}

// ---------------------------------------------------------------------------------- configs

constexpr std::string_view kCommonConfig = R"(max_batch_size: 64
dynamic_batching { }
instance_group [ { kind: KIND_CPU count: 1 } ]
)";

enum class Format { kTorchScript, kOnnx, kTensorFlow };

// The platform and one compute thread, in each runtime's own parameters.
std::string_view RuntimeConfig(Format format) {
  switch (format) {
    case Format::kOnnx:
      return R"(platform: "onnxruntime_onnx"
parameters { key: "intra_op_thread_count" value { string_value: "1" } }
parameters { key: "inter_op_thread_count" value { string_value: "1" } }
)";
    case Format::kTensorFlow:
      return R"(platform: "tensorflow_graphdef"
parameters { key: "TF_NUM_INTRA_THREADS" value { string_value: "1" } }
parameters { key: "TF_NUM_INTER_THREADS" value { string_value: "1" } }
)";
    case Format::kTorchScript:
      break;
  }
  return R"(backend: "pytorch"
parameters { key: "INTRA_OP_THREAD_COUNT" value { string_value: "1" } }
)";
}

std::string Config(std::string_view name, Format format, std::string_view body) {
  return absl::StrCat("name: \"", std::string(name), "\"\n", std::string(RuntimeConfig(format)),
                      std::string(kCommonConfig), std::string(body));
}

std::string ParticleNetPaddedConfig(std::string_view name = kParticleNetPadded,
                                    Format format = Format::kTorchScript) {
  return Config(name, format,
                absl::StrCat("input [\n"
                             "  { name: \"pf_points\" data_type: TYPE_FP32 dims: [ ",
                             kParticleNetCoordinates, ", ", kParticleNetMaxConstituents,
                             " ] },\n"
                             "  { name: \"pf_features\" data_type: TYPE_FP32 dims: [ ",
                             kParticleNetFeatures, ", ", kParticleNetMaxConstituents,
                             " ] },\n"
                             "  { name: \"pf_mask\" data_type: TYPE_FP32 dims: [ 1, ",
                             kParticleNetMaxConstituents,
                             " ] }\n]\n"
                             "output [ { name: \"scores\" data_type: TYPE_FP32 dims: [ ",
                             kParticleNetClasses, " ] } ]\n"));
}

std::string ParticleNetRaggedConfig(std::string_view name = kParticleNetRagged,
                                    Format format = Format::kTorchScript) {
  return Config(
      name, format,
      absl::StrCat(
          "input [\n"
          "  { name: \"pf_points\" data_type: TYPE_FP32 dims: [ -1, ",
          kParticleNetCoordinates,
          " ] allow_ragged_batch: true },\n"
          "  { name: \"pf_features\" data_type: TYPE_FP32 dims: [ -1, ",
          kParticleNetFeatures,
          " ] allow_ragged_batch: true }\n]\n"
          "batch_input [ { kind: BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO "
          "target_name: \"jet_offsets\" data_type: TYPE_INT32 source_input: \"pf_points\" } ]\n"
          "output [ { name: \"scores\" data_type: TYPE_FP32 dims: [ ",
          kParticleNetClasses,
          " ] } ]\n"
          // The server refuses a jet whose points and features disagree, and a jet of
          // more than 1024 constituents (the kNN's memory grows as their square).
          "parameters { key: \"equal_variable_dims\" value { string_value: "
          "\"pf_points,pf_features\" } }\n"
          "parameters { key: \"max_input_elements\" value { string_value: \"",
          kParticleNetFeatures * kParticleNetMaxRaggedConstituents, "\" } }\n"));
}

std::string DeepMetConfig(std::string_view name = kDeepMet, Format format = Format::kTorchScript) {
  return Config(
      name, format,
      absl::StrCat(
          "input [\n"
          "  { name: \"pf_cont\" data_type: TYPE_FP32 dims: [ -1, ",
          kDeepMetContinuous,
          " ] allow_ragged_batch: true },\n"
          "  { name: \"pf_cat\" data_type: TYPE_FP32 dims: [ -1, ",
          kDeepMetCategorical,
          " ] allow_ragged_batch: true }\n]\n"
          "batch_input [ { kind: BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO "
          "target_name: \"event_offsets\" data_type: TYPE_INT32 source_input: \"pf_cat\" } ]\n"
          "output [\n"
          "  { name: \"met\" data_type: TYPE_FP32 dims: [ 2 ] },\n"
          "  { name: \"weights\" data_type: TYPE_FP32 dims: [ -1 ] }\n]\n"
          "batch_output [ { target_name: \"weights\" kind: BATCH_SCATTER_WITH_INPUT_SHAPE "
          "source_input: \"pf_cat\" } ]\n"
          "parameters { key: \"equal_variable_dims\" value { string_value: "
          "\"pf_cont,pf_cat\" } }\n"));
}

std::string DeepTauConfig(std::string_view name = kDeepTau, Format format = Format::kTorchScript) {
  return Config(name, format,
                absl::StrCat("input [\n"
                             "  { name: \"tau_features\" data_type: TYPE_FP32 dims: [ ",
                             kDeepTauFeatures,
                             " ] },\n"
                             "  { name: \"inner_grid\" data_type: TYPE_FP32 dims: [ ",
                             kInnerCells, ", ", kInnerCells, ", ", kCellChannels,
                             " ] },\n"
                             "  { name: \"outer_grid\" data_type: TYPE_FP32 dims: [ ",
                             kOuterCells, ", ", kOuterCells, ", ", kCellChannels,
                             " ] }\n]\n"
                             "output [ { name: \"scores\" data_type: TYPE_FP32 dims: [ ",
                             kDeepTauClasses, " ] } ]\n"));
}

absl::Status WriteText(const std::filesystem::path& file, const std::string& text) {
  std::error_code error;
  std::filesystem::create_directories(file.parent_path(), error);
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (error || !out) return absl::InternalError(absl::StrCat("cannot write ", file.string()));
  return absl::OkStatus();
}

absl::Status WriteModel(const std::filesystem::path& out, std::string_view name,
                        const std::string& config, const TorchScriptModule& module) {
  const std::filesystem::path dir = out / std::string(name);
  SONIC_RETURN_IF_ERROR(WriteText(dir / "config.pbtxt", config));
  return backends::pytorch::WriteTorchScriptModule(module, dir / "1" / "model.pt");
}

}  // namespace

std::vector<std::string> ModelNames() {
  return {std::string(kParticleNetPadded), std::string(kParticleNetRagged), std::string(kDeepMet),
          std::string(kDeepTau)};
}

absl::StatusOr<GenerateReport> GenerateModels(const std::filesystem::path& out, uint64_t seed,
                                              const GenerateOptions& options) {
  // The two ParticleNet variants share their weights (the same seed).
  const TorchScriptModule particlenet_padded = ParticleNet(false, seed);
  const TorchScriptModule deepmet = DeepMet(seed + 1);
  const TorchScriptModule deeptau = DeepTau(seed + 2);
  SONIC_RETURN_IF_ERROR(
      WriteModel(out, kParticleNetPadded, ParticleNetPaddedConfig(), particlenet_padded));
  SONIC_RETURN_IF_ERROR(
      WriteModel(out, kParticleNetRagged, ParticleNetRaggedConfig(), ParticleNet(true, seed)));
  SONIC_RETURN_IF_ERROR(WriteModel(out, kDeepMet, DeepMetConfig(), deepmet));
  SONIC_RETURN_IF_ERROR(WriteModel(out, kDeepTau, DeepTauConfig(), deeptau));
  GenerateReport report{ModelNames(), {}};
  ExportRequest request{options.python, options.exporter, {}, out, {}};
  if (options.onnx) request.formats.push_back("onnx");
  if (options.tensorflow) request.formats.push_back("tensorflow");
  if (request.formats.empty()) return report;

  std::string weights_dir = (std::filesystem::temp_directory_path() / "sonic-weights-XXXXXX");
  if (mkdtemp(weights_dir.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("cannot create ", weights_dir, ": ", strerror(errno)));
  }
  request.weights = weights_dir;
  absl::StatusOr<ExportResult> exported = [&]() -> absl::StatusOr<ExportResult> {
    SONIC_RETURN_IF_ERROR(WriteWeights(particlenet_padded, request.weights, "particlenet"));
    SONIC_RETURN_IF_ERROR(WriteWeights(deepmet, request.weights, "deepmet"));
    SONIC_RETURN_IF_ERROR(WriteWeights(deeptau, request.weights, "deeptau"));
    return RunExporter(request);
  }();
  std::error_code ignored;
  std::filesystem::remove_all(weights_dir, ignored);
  if (!exported.ok()) return exported.status();

  const std::map<std::string_view, std::string> configs = {
      {kParticleNetPaddedOnnx, ParticleNetPaddedConfig(kParticleNetPaddedOnnx, Format::kOnnx)},
      {kParticleNetRaggedOnnx, ParticleNetRaggedConfig(kParticleNetRaggedOnnx, Format::kOnnx)},
      {kDeepMetOnnx, DeepMetConfig(kDeepMetOnnx, Format::kOnnx)},
      {kDeepTauOnnx, DeepTauConfig(kDeepTauOnnx, Format::kOnnx)},
      {kDeepMetTf, DeepMetConfig(kDeepMetTf, Format::kTensorFlow)}};
  for (const std::string& format : request.formats) {
    if (auto skipped = exported->skipped.find(format); skipped != exported->skipped.end()) {
      report.skipped.push_back(absl::StrCat(format == "onnx" ? "ONNX" : "TensorFlow",
                                            " models not written: ", skipped->second));
      continue;
    }
    for (const std::string& name : exported->written[format]) {
      auto config = configs.find(name);
      if (config == configs.end()) {
        return absl::InternalError(
            absl::StrCat("the exporter wrote an unknown model '", name, "'"));
      }
      SONIC_RETURN_IF_ERROR(WriteText(out / name / "config.pbtxt", config->second));
      report.written.push_back(name);
    }
  }
  return report;
}

absl::Status GenerateModels(const std::filesystem::path& out, uint64_t seed) {
  return GenerateModels(out, seed, GenerateOptions{}).status();
}

bool HasModels(const std::filesystem::path& repository) {
  for (const std::string& name : ModelNames()) {
    std::error_code error;
    if (!std::filesystem::is_regular_file(repository / name / "config.pbtxt", error) ||
        !std::filesystem::is_regular_file(repository / name / "1" / "model.pt", error)) {
      return false;
    }
  }
  return true;
}

}  // namespace sonic::demo::models
