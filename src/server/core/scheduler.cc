#include "server/core/scheduler.h"

#include "absl/strings/str_cat.h"

namespace sonic::server {

Scheduler::Scheduler(const Options& options, std::vector<BackendInstance*> instances)
    : options_(options) {
  workers_.reserve(instances.size());
  for (BackendInstance* instance : instances) {
    workers_.emplace_back([this, instance] { WorkerLoop(instance); });
  }
}

Scheduler::~Scheduler() { Drain(); }

void Scheduler::Enqueue(std::unique_ptr<InferenceRequest> request) {
  {
    absl::MutexLock lock(&mutex_);
    if (accepting_) {
      queue_.push_back(std::move(request));
      return;
    }
  }
  std::move(request->on_complete)(absl::UnavailableError(
      absl::StrCat("model '", options_.config->name(), "' version ", options_.version,
                   " is unloading")));
}

void Scheduler::Drain() {
  {
    absl::MutexLock lock(&mutex_);
    accepting_ = false;
    auto idle = [this]() ABSL_SHARED_LOCKS_REQUIRED(mutex_) {
      return queue_.empty() && running_ == 0;
    };
    mutex_.Await(absl::Condition(&idle));
    stopping_ = true;
  }
  for (std::thread& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
}

size_t Scheduler::pending() const {
  absl::MutexLock lock(&mutex_);
  return queue_.size() + running_;
}

Batch Scheduler::NextBatch() {
  absl::MutexLock lock(&mutex_);
  auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mutex_) {
    return !queue_.empty() || stopping_;
  };
  mutex_.Await(absl::Condition(&ready));
  Batch batch;
  if (queue_.empty()) return batch;
  batch.push_back(std::move(queue_.front()));
  queue_.pop_front();
  running_ += batch.size();
  return batch;
}

void Scheduler::WorkerLoop(BackendInstance* instance) {
  BatchExecutor executor(*options_.config, options_.version, *instance, *options_.stats,
                         *options_.clock);
  while (true) {
    Batch batch = NextBatch();
    if (batch.empty()) return;
    size_t size = batch.size();
    executor.Execute(std::move(batch));
    absl::MutexLock lock(&mutex_);
    running_ -= size;
  }
}

}  // namespace sonic::server
