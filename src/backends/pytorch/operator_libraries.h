// Operator libraries: shared libraries that register TorchScript operators with TORCH_LIBRARY
// (PyTorch Geometric's torch_scatter and torch_sparse, a user's own ops), loaded before a model
// that calls them. Triton's users get the same with LD_PRELOAD; here they are named in either
//  - the model config's parameter OPERATOR_LIBRARIES: paths relative to the model's version
//    directory, colon-separated as in LD_PRELOAD, each confined to that directory (symlinks
//    resolved): the config can come from a client's load request, so it names no file elsewhere;
//  - the server's --backend-config=pytorch,operator-libraries=<paths>: absolute paths,
//    colon-separated, loaded before every pytorch model (an administrator's choice).
// Each is opened with dlopen(RTLD_NOW | RTLD_GLOBAL) and never closed: its operators are then
// registered for the whole process, every model included, as with LD_PRELOAD. Two different
// files registering the same TORCH_LIBRARY namespace abort the process inside dlopen (LibTorch
// throws from the library's initializer), so a library is named once per server, not copied
// into several models.
//
// Thread-safe: loads are serialized by a process-wide lock.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "inference/model_config.pb.h"
#include "sonic/backend/backend_api.h"

namespace sonic::backends::pytorch {

// The config parameter and the --backend-config key.
inline constexpr char kOperatorLibrariesParameter[] = "OPERATOR_LIBRARIES";
inline constexpr char kOperatorLibrariesBackendConfig[] = "operator-libraries";

// Loads the libraries the backend config, then the model config, name (see above). Errors,
// prefixed with `context` (the model): INVALID_ARGUMENT for a model config path outside the
// version directory or a backend-config path that is not absolute; FAILED_PRECONDITION when
// dlopen fails (dlerror's text: a missing file, a missing dependency, an ABI mismatch).
absl::Status LoadOperatorLibraries(const SonicBackendModelSpec& spec,
                                   const inference::ModelConfig& config, std::string_view context);

// When `torch_message` (torch::jit::load's error) says that an operator is unknown, one line
// naming it and how to load its library; nullopt for any other message.
std::optional<std::string> UnknownOperatorReason(std::string_view torch_message);

}  // namespace sonic::backends::pytorch
