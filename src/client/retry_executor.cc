#include "retry_executor.h"

#include <pthread.h>

#include <algorithm>

namespace sonic::client::internal {

RetryExecutor::RetryExecutor(const Options& options) : capacity_(options.capacity) {
  for (int i = 0; i < std::max(1, options.threads); ++i) {
    threads_.emplace_back([this] {
      pthread_setname_np(pthread_self(), "sonic-retry");
      Run();
    });
  }
}

RetryExecutor::~RetryExecutor() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  for (std::thread& thread : threads_) thread.join();
}

bool RetryExecutor::Post(std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  if (stop_ || tasks_.size() >= capacity_) return false;
  tasks_.push_back(std::move(task));
  return true;
}

void RetryExecutor::Run() {
  while (true) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](RetryExecutor* e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(e->mu_) {
            return e->stop_ || !e->tasks_.empty();
          },
          this));
      if (tasks_.empty()) return;  // stopping, nothing left
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

RetryExecutor& RetryExecutor::Shared() {
  static RetryExecutor* const shared = new RetryExecutor(Options());
  return *shared;
}

}  // namespace sonic::client::internal
