#include "server/repository/version_policy.h"

#include <algorithm>

namespace sonic::server {

std::vector<int64_t> SelectVersions(const inference::ModelVersionPolicy& policy,
                                    std::vector<int64_t> available) {
  std::sort(available.begin(), available.end());
  available.erase(std::unique(available.begin(), available.end()), available.end());
  switch (policy.policy_choice_case()) {
    case inference::ModelVersionPolicy::kAll:
      return available;
    case inference::ModelVersionPolicy::kSpecific: {
      std::vector<int64_t> selected;
      for (int64_t version : available) {
        const auto& wanted = policy.specific().versions();
        if (std::find(wanted.begin(), wanted.end(), version) != wanted.end()) {
          selected.push_back(version);
        }
      }
      return selected;
    }
    case inference::ModelVersionPolicy::kLatest:
    case inference::ModelVersionPolicy::POLICY_CHOICE_NOT_SET:
      break;
  }
  const size_t count = policy.has_latest() ? policy.latest().num_versions() : 1;
  if (available.size() > count) {
    available.erase(available.begin(), available.end() - static_cast<std::ptrdiff_t>(count));
  }
  return available;
}

}  // namespace sonic::server
