#include "server/core/response_order.h"

namespace sonic::server {

uint64_t ResponseOrder::Reserve() {
  absl::MutexLock lock(&mutex_);
  return next_reserved_++;
}

void ResponseOrder::Complete(uint64_t position, absl::AnyInvocable<void() &&> deliver) {
  mutex_.Lock();
  ready_.emplace(position, std::move(deliver));
  // One thread at a time delivers, in order, everything that became deliverable.
  if (delivering_) {
    mutex_.Unlock();
    return;
  }
  delivering_ = true;
  while (!ready_.empty() && ready_.begin()->first == next_delivered_) {
    auto next = std::move(ready_.begin()->second);
    ready_.erase(ready_.begin());
    ++next_delivered_;
    mutex_.Unlock();
    std::move(next)();
    mutex_.Lock();
  }
  delivering_ = false;
  mutex_.Unlock();
}

}  // namespace sonic::server
