// The demonstrator job's configuration, read from YAML:
//
//   source:                       # synthetic ttbar-like events (events/ttbar_generator.h)
//     events: 200
//     seed: 12345
//     first_event: 0
//   threads: 2                    # framework threads
//   concurrent_events: 4          # events in flight (framework streams)
//   mode: sonic                   # sonic | direct
//   models: ../build/models       # the model repository, relative to this file
//   client:                       # defaults for every SONIC module
//     mode: Async                 # Sync | Async | PseudoAsync
//     allowed_tries: 3            # attempts per dispatch (retries: the service's retry_policy)
//     retry_chain:                # instead of allowed_tries: where each retry goes, in order
//       - {target: same_server, tries: 1}      # same_server | another_server | fallback |
//       - {target: another_server, tries: 1}   # resolver (the retry_policy); tries default 1
//       - {target: fallback, tries: 1}
//     timeout_ms: 0               # 0: the automatic deadline (triton_client.h), from the
//                                 # model's observed latency
//     compression: none           # none | deflate | gzip
//     shared_memory: auto         # auto | off
//   service:                      # TritonService (sonic/service/service_config.h's format)
//     fallback: {enabled: true}
//   modules:                      # run in this order on every event
//     - {type: pf_isolation, label: isolation, cones: 20}
//     - {type: particlenet, label: particlenet, model: particlenet_ragged, jets: ak4}
//     - {type: deeptau, label: deeptau}
//     - {type: deepmet, label: deepmet}
//
// Module types and their keys (besides type, label, and `client` overrides for ML modules):
//   particlenet   model (particlenet_ragged), inputs ragged|padded (from the model's name),
//                 jets ak4|ak8 (ak4)
//   deepmet       model (deepmet)
//   deeptau       model (deeptau)
//   pf_echo       model (required), input (INPUT0), output (OUTPUT0): an identity model
//   pf_isolation  cones (10): the non-ML reconstruction stand-in
// Unknown keys, types and values are INVALID_ARGUMENT naming the key and line.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "sonic/client/triton_client.h"
#include "sonic/service/service_config.h"

namespace sonic::demo {

enum class InferenceMode { kDirect, kSonic };
std::string_view InferenceModeName(InferenceMode mode);  // "direct", "sonic"
absl::StatusOr<InferenceMode> ParseInferenceMode(std::string_view text);

struct ClientSettings {
  client::SonicMode mode = client::SonicMode::kAsync;
  int allowed_tries = 3;
  client::RetryChain retry_chain;  // empty: allowed_tries
  uint64_t timeout_ms = 0;
  client::Compression compression = client::Compression::kNone;
  client::SharedMemoryMode shared_memory = client::SharedMemoryMode::kAuto;
};

struct ModuleConfig {
  std::string type;
  std::string label;
  std::string model;  // ML modules only; the type's default when not given
  ClientSettings client;
  // Type-specific keys, as text (checked by the module factory).
  std::map<std::string, std::string> parameters;
};

struct JobConfig {
  uint64_t events = 100;
  uint64_t seed = 1;
  uint64_t first_event = 0;
  int threads = 1;
  int concurrent_events = 1;
  InferenceMode mode = InferenceMode::kSonic;
  std::filesystem::path models;
  ClientSettings client;
  service::ServiceConfig service;
  std::vector<ModuleConfig> modules;
};

// Parses YAML text; relative paths (models) are taken from `base_dir`.
absl::StatusOr<JobConfig> ParseJobConfig(std::string_view yaml,
                                         const std::filesystem::path& base_dir);

// Reads and parses a file (relative paths from its folder). NOT_FOUND when unreadable.
absl::StatusOr<JobConfig> LoadJobConfig(const std::filesystem::path& file);

}  // namespace sonic::demo
