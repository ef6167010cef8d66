// An OutputAllocator that keeps every output in memory it owns, for running a backend directly
// (tests, the direct-inference path of the demonstrator) rather than inside the request path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "server/backend/backend_model.h"
#include "sonic/common/data_type.h"
#include "sonic/common/shape.h"

namespace sonic::server {

// Thread-compatible: one Execute at a time may use it (it is not locked). Buffers are 64-byte
// aligned and stay valid until the allocator is destroyed or Clear() is called.
class CollectingOutputAllocator : public OutputAllocator {
 public:
  struct Output {
    DataType type = DataType::kInvalid;
    Shape shape;
    std::span<std::byte> bytes;  // Points into memory owned by the allocator.
  };

  // Accepts any output once; a second allocation of the same name is refused (nullptr).
  void* Allocate(std::string_view name, DataType type, std::span<const int64_t> shape,
                 uint64_t byte_size) override;

  // The output allocated under `name`, or nullptr.
  const Output* Find(std::string_view name) const;

  // The output's elements copied out as T; nullopt when absent or of another type.
  template <typename T>
  std::optional<std::vector<T>> Values(std::string_view name) const;

  const std::map<std::string, Output, std::less<>>& outputs() const { return outputs_; }
  void Clear();

 private:
  struct FreeAligned {
    void operator()(std::byte* p) const;
  };
  std::map<std::string, Output, std::less<>> outputs_;
  std::vector<std::unique_ptr<std::byte, FreeAligned>> buffers_;
};

template <typename T>
std::optional<std::vector<T>> CollectingOutputAllocator::Values(std::string_view name) const {
  const Output* output = Find(name);
  if (output == nullptr || output->type != DataTypeOf<T>()) return std::nullopt;
  std::vector<T> values(output->bytes.size() / sizeof(T));
  if (!values.empty()) std::memcpy(values.data(), output->bytes.data(), values.size() * sizeof(T));
  return values;
}

}  // namespace sonic::server
