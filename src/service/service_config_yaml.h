// For configs that embed a service section (a job's YAML): ParseServiceConfig on a node already
// parsed, with the same format and errors (service_config.h); line numbers are the document's.
#pragma once

#include <yaml-cpp/yaml.h>

#include "absl/status/statusor.h"
#include "sonic/service/service_config.h"

namespace sonic::service {

absl::StatusOr<ServiceConfig> ParseServiceConfigNode(const YAML::Node& root);

}  // namespace sonic::service
