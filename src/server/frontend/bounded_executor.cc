#include "server/frontend/bounded_executor.h"

#include <algorithm>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"

namespace sonic::server {

BoundedExecutor::~BoundedExecutor() {
  std::vector<std::thread> threads;
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
    threads.swap(threads_);
  }
  for (std::thread& thread : threads) thread.join();
}

absl::Status BoundedExecutor::Submit(absl::AnyInvocable<void() &&> task) {
  absl::MutexLock lock(&mutex_);
  if (queue_.size() >= idle_ + options_.max_queued) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "too many ", options_.what, " at once: ", options_.max_queued,
        " wait already (the limit) behind ", options_.threads, " running; retry later"));
  }
  if (idle_ <= queue_.size() && threads_.size() < std::max<size_t>(options_.threads, 1)) {
    try {
      threads_.emplace_back([this] { Work(); });
    } catch (const std::system_error& error) {
      if (threads_.empty()) {
        return absl::ResourceExhaustedError(absl::StrCat(
            "cannot start a thread for ", options_.what, ": ", error.what(), "; retry later"));
      }
    }
  }
  queue_.push_back(std::move(task));
  return absl::OkStatus();
}

void BoundedExecutor::Work() {
  while (true) {
    absl::AnyInvocable<void() &&> task;
    {
      absl::MutexLock lock(&mutex_);
      ++idle_;
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
        return !queue_.empty() || stopping_;
      };
      mutex_.Await(absl::Condition(&ready));
      --idle_;
      if (queue_.empty()) return;  // stopping, and every accepted task has run
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    std::move(task)();
  }
}

}  // namespace sonic::server
