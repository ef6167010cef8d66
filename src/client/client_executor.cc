#include "client_executor.h"

#include <pthread.h>

#include <algorithm>

namespace sonic::client::internal {

ClientExecutor::ClientExecutor(const Options& options) : capacity_(options.capacity) {
  for (int i = 0; i < std::max(1, options.threads); ++i) {
    threads_.emplace_back([this] {
      pthread_setname_np(pthread_self(), "sonic-client");
      Run();
    });
  }
}

ClientExecutor::~ClientExecutor() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  for (std::thread& thread : threads_) thread.join();
}

bool ClientExecutor::Post(std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  if (stop_ || tasks_.size() + delayed_.size() >= capacity_) return false;
  tasks_.push_back(std::move(task));
  return true;
}

bool ClientExecutor::PostAfter(absl::Duration delay, std::function<void()> task) {
  if (delay <= absl::ZeroDuration()) return Post(std::move(task));
  absl::MutexLock lock(&mu_);
  if (stop_ || tasks_.size() + delayed_.size() >= capacity_) return false;
  delayed_.emplace(absl::Now() + delay, std::move(task));
  ++delayed_version_;
  return true;
}

void ClientExecutor::TakeDueTasks() {
  const absl::Time now = absl::Now();
  while (!delayed_.empty() && (stop_ || delayed_.begin()->first <= now)) {
    tasks_.push_back(std::move(delayed_.begin()->second));
    delayed_.erase(delayed_.begin());
  }
}

void ClientExecutor::Run() {
  struct Wait {
    ClientExecutor* executor;
    uint64_t version;
  };
  while (true) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&mu_);
      while (true) {
        TakeDueTasks();
        if (!tasks_.empty() || stop_) break;
        const absl::Time due = delayed_.empty() ? absl::InfiniteFuture() : delayed_.begin()->first;
        Wait wait{this, delayed_version_};
        mu_.AwaitWithDeadline(absl::Condition(
                                  +[](Wait* w) ABSL_NO_THREAD_SAFETY_ANALYSIS {
                                    ClientExecutor* e = w->executor;
                                    return e->stop_ || !e->tasks_.empty() ||
                                           e->delayed_version_ != w->version;
                                  },
                                  &wait),
                              due);
      }
      if (tasks_.empty()) return;  // stopping, nothing left
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

ClientExecutor& ClientExecutor::Retries() {
  static ClientExecutor* const retries = new ClientExecutor({.threads = 4, .capacity = 4096});
  return *retries;
}

ClientExecutor& ClientExecutor::Completions() {
  static ClientExecutor* const completions = new ClientExecutor({.threads = 2, .capacity = 4096});
  return *completions;
}

}  // namespace sonic::client::internal
