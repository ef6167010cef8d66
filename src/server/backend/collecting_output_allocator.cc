#include "server/backend/collecting_output_allocator.h"

#include <cstdlib>

namespace sonic::server {

void CollectingOutputAllocator::FreeAligned::operator()(std::byte* p) const { std::free(p); }

void* CollectingOutputAllocator::Allocate(std::string_view name, DataType type,
                                          std::span<const int64_t> shape, uint64_t byte_size) {
  if (outputs_.find(name) != outputs_.end()) return nullptr;
  constexpr size_t kAlignment = 64;
  // aligned_alloc needs a non-zero multiple of the alignment.
  const size_t rounded = (static_cast<size_t>(byte_size) + kAlignment) / kAlignment * kAlignment;
  auto* memory = static_cast<std::byte*>(std::aligned_alloc(kAlignment, rounded));
  if (memory == nullptr) return nullptr;
  buffers_.emplace_back(memory);
  outputs_.emplace(std::string(name),
                   Output{type, Shape(shape.begin(), shape.end()),
                          std::span<std::byte>(memory, static_cast<size_t>(byte_size))});
  return memory;
}

const CollectingOutputAllocator::Output* CollectingOutputAllocator::Find(
    std::string_view name) const {
  auto it = outputs_.find(name);
  return it == outputs_.end() ? nullptr : &it->second;
}

void CollectingOutputAllocator::Clear() {
  outputs_.clear();
  buffers_.clear();
}

}  // namespace sonic::server
