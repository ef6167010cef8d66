// FuzzInput: reads typed values off a fuzzer's input bytes, front to back, for targets whose
// input is a sequence of decisions (which file to create, which region to register) rather than
// one message. Reading past the end gives zeros and empty strings, so every input, however
// short, is a valid sequence of decisions: the fuzzer never wastes a run on a rejected input.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace sonic::fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  bool empty() const { return offset_ >= size_; }

  // An integer of sizeof(T) bytes (little-endian), zero-padded at the end of the input.
  template <typename T>
  T Integer() {
    T value = 0;
    const size_t n = std::min(sizeof(T), size_ - std::min(offset_, size_));
    std::memcpy(&value, data_ + offset_, n);
    offset_ += sizeof(T);
    return value;
  }

  // A number in [0, count); 0 when count is 0.
  size_t Below(size_t count) { return count == 0 ? 0 : Integer<uint16_t>() % count; }

  bool Bool() { return (Integer<uint8_t>() & 1) != 0; }

  // A string of at most max_length bytes: its length comes first (one byte).
  std::string String(size_t max_length) {
    const size_t length = std::min<size_t>(Integer<uint8_t>(), max_length);
    const size_t available = size_ - std::min(offset_, size_);
    std::string value(reinterpret_cast<const char*>(data_ + std::min(offset_, size_)),
                      std::min(length, available));
    offset_ += length;
    return value;
  }

  // Everything not read yet.
  std::string_view Rest() const {
    if (offset_ >= size_) return {};
    return {reinterpret_cast<const char*>(data_ + offset_), size_ - offset_};
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t offset_ = 0;
};

}  // namespace sonic::fuzz
