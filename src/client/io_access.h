// Private access to TritonInputData / TritonOutputData for the client's implementation files
// (request building and response reading), which the public API does not expose.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "sonic/client/triton_data.h"

namespace sonic::client::internal {

struct IoAccess {
  static const TensorInfo& Info(const TritonInputData& input) { return input.info_; }
  static const TensorInfo& Info(const TritonOutputData& output) { return output.info_; }
  static const std::vector<std::span<const std::byte>>& EntryBytes(const TritonInputData& input) {
    return input.entry_bytes_;
  }
  // What keeps the memory of EntryBytes() alive, also after the input's reset().
  static const std::shared_ptr<const void>& Keeper(const TritonInputData& input) {
    return input.holder_;
  }
  static const std::vector<Shape>& Shapes(const TritonInputData& input) { return input.shapes_; }
  static void SetBatchSize(TritonInputData& input, size_t size) { input.setBatchSize(size); }
  static void Reset(TritonInputData& input) { input.reset(); }
  static void Reset(TritonOutputData& output) { output.reset(); }
  static void SetContext(TritonInputData& input, std::string context) {
    input.context_ = std::move(context);
  }
  static void SetContext(TritonOutputData& output, std::string context) {
    output.context_ = std::move(context);
  }

  // Output entries are filled in order, then published with Publish().
  static void ClearEntries(TritonOutputData& output, size_t entries) {
    output.reset();
    output.entries_.resize(entries);
  }
  static void SetEntry(TritonOutputData& output, size_t entry, Shape shape,
                       std::span<const std::byte> bytes, std::vector<std::string_view> strings) {
    output.entries_[entry] = {std::move(shape), bytes, std::move(strings)};
  }
  static void Publish(TritonOutputData& output) {
    output.ready_.store(true, std::memory_order_release);
  }
};

}  // namespace sonic::client::internal
