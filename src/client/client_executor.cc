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
  if (stop_ || tasks_.size() >= capacity_) return false;
  tasks_.push_back(std::move(task));
  return true;
}

void ClientExecutor::Run() {
  while (true) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](ClientExecutor* e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(e->mu_) {
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

ClientExecutor& ClientExecutor::Retries() {
  static ClientExecutor* const retries = new ClientExecutor({.threads = 4, .capacity = 4096});
  return *retries;
}

ClientExecutor& ClientExecutor::Completions() {
  static ClientExecutor* const completions = new ClientExecutor({.threads = 2, .capacity = 4096});
  return *completions;
}

}  // namespace sonic::client::internal
