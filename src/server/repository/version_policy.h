// Which of a model's version directories a ModelVersionPolicy selects for serving.
#pragma once

#include <cstdint>
#include <vector>

#include "inference/model_config.pb.h"

namespace sonic::server {

// Returns the versions of `available` (any order, duplicates ignored) that `policy` serves,
// sorted ascending:
// - latest { num_versions: N }: the N highest (all of them when fewer exist);
// - all: every available version;
// - specific { versions: [...] }: the listed versions that are available (a listed version that
//   is missing is simply not served; the caller reports it if it cares);
// - no policy chosen: as latest { num_versions: 1 } (Triton's default).
// Pure function; thread-safe.
std::vector<int64_t> SelectVersions(const inference::ModelVersionPolicy& policy,
                                    std::vector<int64_t> available);

}  // namespace sonic::server
