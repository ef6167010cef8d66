// Time sources for the server core. Timing decides behaviour in the scheduler (queue delays,
// timeouts), so it reads time through a Clock that tests replace with a manual one.
#pragma once

#include <chrono>
#include <cstdint>

namespace sonic::server {

// Thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic nanoseconds (steady clock); only differences are meaningful.
  virtual uint64_t NowNs() const = 0;
  // Milliseconds since the Unix epoch, for `last_inference`.
  virtual uint64_t NowEpochMs() const = 0;
};

class SystemClock final : public Clock {
 public:
  uint64_t NowNs() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  uint64_t NowEpochMs() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  // The process-wide instance.
  static const SystemClock& Get() {
    static const SystemClock clock;
    return clock;
  }
};

}  // namespace sonic::server
