// An event as the modules of a job see it: its number and the products that the source and the
// modules put into it, each under a label, of any type.
//
//   event.put("ak4_jets", std::move(jets));
//   SONIC_ASSIGN_OR_RETURN(const Jets* jets, event.get<Jets>("ak4_jets"));
//
// Thread-compatible: the framework hands an event to one module at a time.
#pragma once

#include <any>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace sonic::framework {

class Event {
 public:
  explicit Event(uint64_t id) : id_(id) {}

  uint64_t id() const { return id_; }

  // Stores `product` under `label`, replacing what was there.
  template <typename T>
  void put(std::string label, T product) {
    products_.insert_or_assign(std::move(label), std::any(std::move(product)));
  }

  // The product under `label`. NOT_FOUND when there is none, FAILED_PRECONDITION when it is not
  // a T. The pointer is valid until the product is replaced or the event destroyed.
  template <typename T>
  absl::StatusOr<const T*> get(std::string_view label) const {
    auto it = products_.find(label);
    if (it == products_.end()) {
      return absl::NotFoundError(
          absl::StrCat("event ", id_, " has no product '", std::string(label), "'"));
    }
    const T* product = std::any_cast<T>(&it->second);
    if (product == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "event ", id_, " product '", std::string(label), "' is not of the requested type"));
    }
    return product;
  }

  // The labels of every product, sorted.
  std::vector<std::string> labels() const;

 private:
  uint64_t id_;
  std::map<std::string, std::any, std::less<>> products_;
};

}  // namespace sonic::framework
