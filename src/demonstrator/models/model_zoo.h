// `sonic models generate`: the demonstrator's models, defined in C++ (TorchScript source held
// here, compiled by LibTorch through backends/pytorch/torchscript_writer.h; weights drawn from a
// seeded generator: nothing is downloaded),
// written as a Triton model repository: <out>/<model>/config.pbtxt and <out>/<model>/1/model.pt.
//
// - particlenet_padded / particlenet_ragged: two EdgeConv blocks (k = 16 nearest neighbours,
//   channels 32 and 64; edge features [x_i, x_j - x_i] through three dense layers, averaged over
//   the real neighbours, plus a shortcut), masked global average pooling, dense 128, softmax over
//   5 classes. Both blocks build their graph in (delta eta, delta phi) (ParticleNet proper uses
//   the learned features for the second block), so a jet's scores depend only on its own
//   constituents whatever else is in the batch. The padded variant takes 100 constituent slots
//   with a mask (as CMSSW does); the ragged one takes every jet's constituents one after another
//   (allow_ragged_batch) and the jet boundaries from a batch_input. For a jet of at most 100
//   constituents both variants give the same scores.
// - deepmet: per candidate, embeddings of charge (3 x 2), type (5 x 4) and from_pv (4 x 2) joined
//   with five normalised continuous features, dense 64, 64, a sigmoid weight; MET = -sum w p_T.
//   Ragged: every event's candidates one after another; weights are scattered back per event
//   (batch_output BATCH_SCATTER_WITH_INPUT_SHAPE).
// - deeptau: dense 32 on the tau features; the inner grid through a 1x1 convolution to 32
//   channels and five 3x3 convolutions (11 -> 1 cells), the outer grid through a 1x1 and ten 3x3
//   (21 -> 1); dense 64 on the three joined; softmax over 4 classes.
// Every config: backend pytorch, max_batch_size 64, dynamic batching, one CPU instance with one
// LibTorch thread (INTRA_OP_THREAD_COUNT 1).
//
// On request, the same models with the same weights in other formats (names in model_shapes.h),
// the same tensors and configs but for the platform and its thread settings (one thread):
// ONNX (particlenet_padded_onnx, particlenet_ragged_onnx, deepmet_onnx, deeptau_onnx; platform
// onnxruntime_onnx) and a TensorFlow GraphDef (deepmet_tf; tensorflow_graphdef). The weights drawn
// for TorchScript are handed to export_models.py (beside this file), run by the Python of the
// project's virtual environment (the onnx and tensorflow packages); see model_export.h.
//
// Thread-compatible (LibTorch's own global state aside); call from one thread at a time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sonic::demo::models {

// The TorchScript models GenerateModels writes, in order.
std::vector<std::string> ModelNames();

struct GenerateOptions {
  // Formats written besides TorchScript (always written: the others take its weights).
  bool onnx = false;
  bool tensorflow = false;
  // The Python interpreter that writes them; empty: $SONIC_PYTHON_HOME/bin/python, else, for
  // code inside the build folder, the build's virtual environment's (ExportRequest).
  std::filesystem::path python;
  // The exporter script; empty: the source tree's export_models.py inside the build folder, the
  // installed one elsewhere (ExportRequest).
  std::filesystem::path exporter;
};

struct GenerateReport {
  std::vector<std::string> written;  // model names, in the order written
  // One line per format asked for but not written, saying why (no Python environment, a package
  // missing from it, no exporter script).
  std::vector<std::string> skipped;
};

// Writes every model under `out` (created if missing), replacing existing files of those models.
// The same seed always gives the same weights. A format whose Python environment is missing is
// skipped (listed in the report), not an error. INTERNAL when a file cannot be written or the
// exporter fails (its output's end in the message); INVALID_ARGUMENT with LibTorch's message when
// a model's source does not compile.
absl::StatusOr<GenerateReport> GenerateModels(const std::filesystem::path& out, uint64_t seed,
                                              const GenerateOptions& options);

// The TorchScript models only (GenerateOptions' defaults).
absl::Status GenerateModels(const std::filesystem::path& out, uint64_t seed);

// Whether `repository` holds every model of ModelNames() (config.pbtxt and 1/model.pt).
bool HasModels(const std::filesystem::path& repository);

}  // namespace sonic::demo::models
