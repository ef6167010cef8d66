// Fuzz target: config.pbtxt text through what the server does with it: ParseModelConfig,
// NormalizeModelConfig, ValidateModelConfig. Beyond not crashing (the sanitizers' part):
// normalizing is idempotent, and a config that validated still validates once normalized again
// (the ModelConfig RPC returns the normalized config, which clients send back in load requests).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "google/protobuf/util/message_differencer.h"
#include "inference/model_config.pb.h"
#include "server/repository/model_config_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<inference::ModelConfig> config =
      sonic::server::ParseModelConfig(text, "fuzzed");
  if (!config.ok()) return 0;
  sonic::server::NormalizeModelConfig(*config);
  const bool valid = sonic::server::ValidateModelConfig(*config).ok();

  inference::ModelConfig again = *config;
  sonic::server::NormalizeModelConfig(again);
  if (!google::protobuf::util::MessageDifferencer::Equals(*config, again)) {
    std::abort();  // normalizing twice changed the config
  }
  if (valid && !sonic::server::ValidateModelConfig(again).ok()) std::abort();
  return 0;
}
