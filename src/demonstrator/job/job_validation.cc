#include "demonstrator/job/job_validation.h"

#include <algorithm>
#include <cmath>

namespace sonic::demo {
namespace {

// Adds the comparison of `a` (measured run) and `b` (reference) for one event to `rows`.
void Compare(const std::string& label, const MlProduct& a, const MlProduct* b,
             std::map<std::string, QuantityComparison>& rows) {
  for (const auto& [quantity, objects] : a.quantities) {
    QuantityComparison& row = rows[quantity];
    row.module = label;
    row.objects = a.objects;
    row.quantity = quantity;
    const std::vector<std::vector<float>>* other = nullptr;
    if (b != nullptr) {
      auto it = b->quantities.find(quantity);
      if (it != b->quantities.end()) other = &it->second;
    }
    const size_t count = other == nullptr ? 0 : other->size();
    row.mismatched_objects += std::max(objects.size(), count) - std::min(objects.size(), count);
    for (size_t i = 0; i < std::min(objects.size(), count); ++i) {
      const std::vector<float>& x = objects[i];
      const std::vector<float>& y = (*other)[i];
      ++row.objects_compared;
      if (x.size() != y.size()) {
        ++row.mismatched_objects;
        continue;
      }
      for (size_t v = 0; v < x.size(); ++v) {
        const double scale = std::max({1.0, std::abs(double{x[v]}), std::abs(double{y[v]})});
        const double difference = std::abs(double{x[v]} - double{y[v]}) / scale;
        row.largest_difference =
            std::max(row.largest_difference, std::isnan(difference) ? INFINITY : difference);
        ++row.values_compared;
      }
    }
  }
}

}  // namespace

Validation Validate(const ProductStore& measured, const ProductStore& reference,
                    InferenceMode reference_mode, double tolerance, uint64_t events) {
  Validation validation{reference_mode, tolerance, events, {}};
  for (const auto& [label, by_event] : measured) {
    std::map<std::string, QuantityComparison> rows;
    auto ref = reference.find(label);
    for (const auto& [event, product] : by_event) {
      const MlProduct* other = nullptr;
      if (ref != reference.end()) {
        auto it = ref->second.find(event);
        if (it != ref->second.end()) other = &it->second;
      }
      Compare(label, product, other, rows);
    }
    for (auto& [quantity, row] : rows) validation.quantities.push_back(std::move(row));
  }
  return validation;
}

bool Validation::passed() const {
  for (const QuantityComparison& row : quantities) {
    if (row.mismatched_objects > 0 || !(row.largest_difference <= tolerance)) return false;
  }
  return !quantities.empty();
}

}  // namespace sonic::demo
