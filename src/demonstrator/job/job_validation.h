// Validation of a job: the ML products of two runs over the same events (SONIC and direct)
// compared object by object, value by value. Thread-compatible (values).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "demonstrator/job/job_config.h"
#include "demonstrator/ml/ml_producers.h"

namespace sonic::demo {

// Per ML module label, per event number: the module's product.
using ProductStore = std::map<std::string, std::map<uint64_t, MlProduct>>;

// Two runs' ML outputs compared for one quantity of one module.
struct QuantityComparison {
  std::string module;    // label
  std::string objects;   // "ak4 jets", "taus", "events"
  std::string quantity;  // "scores", "met", ...
  uint64_t objects_compared = 0;
  uint64_t values_compared = 0;
  double largest_difference = 0;  // |a - b| / max(1, |a|, |b|)
  // Objects whose value counts differ, or that one run has and the other not.
  uint64_t mismatched_objects = 0;
};

struct Validation {
  InferenceMode reference = InferenceMode::kDirect;
  double tolerance = 0;
  uint64_t events = 0;
  std::vector<QuantityComparison> quantities;
  // Every quantity within `tolerance` (NaN never is) with no mismatched object, and at least one
  // quantity compared.
  bool passed() const;
};

// Compares every product of `measured` with the same module's product of the same event in
// `reference` (missing there: its objects count as mismatched), one row per module and quantity.
Validation Validate(const ProductStore& measured, const ProductStore& reference,
                    InferenceMode reference_mode, double tolerance, uint64_t events);

}  // namespace sonic::demo
