#include "sonic/framework/event.h"

namespace sonic::framework {

std::vector<std::string> Event::labels() const {
  std::vector<std::string> labels;
  labels.reserve(products_.size());
  for (const auto& [label, product] : products_) labels.push_back(label);
  return labels;
}

}  // namespace sonic::framework
