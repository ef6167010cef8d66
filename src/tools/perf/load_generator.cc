#include "load_generator.h"

#include <algorithm>

namespace sonic::tools {

absl::StatusOr<std::unique_ptr<LoadGenerator>> LoadGenerator::Start(
    InferenceConnection& connection, const std::vector<inference::ModelInferRequest>& requests,
    RequestRecorder& recorder, const LoadSpec& spec) {
  if (requests.empty()) return absl::InvalidArgumentError("a load needs at least one request");
  if (spec.kind == LoadKind::kConcurrency && spec.concurrency < 1) {
    return absl::InvalidArgumentError("concurrency must be at least 1");
  }
  if (spec.kind == LoadKind::kRequestRate && !(spec.request_rate > 0)) {
    return absl::InvalidArgumentError("the request rate must be positive");
  }
  if (spec.max_threads < 1) return absl::InvalidArgumentError("max threads must be at least 1");
  if (spec.think_time < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the think time must not be negative");
  }
  if (spec.think_time > absl::ZeroDuration() &&
      (spec.kind != LoadKind::kConcurrency || spec.async)) {
    return absl::InvalidArgumentError("a think time needs a sync concurrency load");
  }
  if (spec.streaming && !spec.async) {
    return absl::InvalidArgumentError("streaming needs asynchronous requests");
  }
  std::unique_ptr<LoadGenerator> load(new LoadGenerator(connection, requests, recorder, spec));
  LoadGenerator* self = load.get();
  if (spec.streaming) {
    const int streams = spec.kind == LoadKind::kConcurrency ? spec.concurrency : 1;
    for (int i = 0; i < streams; ++i) self->streams_.push_back(InferenceStream::Open(connection));
  }
  if (spec.kind == LoadKind::kConcurrency && spec.async) {
    for (int i = 0; i < spec.concurrency; ++i) {
      self->IssueAsync(/*chain=*/true, static_cast<size_t>(i));
    }
  } else if (spec.kind == LoadKind::kConcurrency) {
    for (int i = 0; i < spec.concurrency; ++i) {
      self->threads_.emplace_back([self] { self->RunBlockingClosedLoop(); });
    }
  } else {
    const int threads = spec.async ? 1 : spec.max_threads;
    for (int i = 0; i < threads; ++i) {
      self->threads_.emplace_back([self, async = spec.async] { self->RunScheduledSends(async); });
    }
  }
  return load;
}

LoadGenerator::LoadGenerator(InferenceConnection& connection,
                             const std::vector<inference::ModelInferRequest>& requests,
                             RequestRecorder& recorder, const LoadSpec& spec)
    : connection_(connection),
      requests_(requests),
      recorder_(recorder),
      spec_(spec),
      load_start_(absl::Now()),
      schedule_(std::max(spec.request_rate, 1e-9), spec.distribution, spec.seed) {}

LoadGenerator::~LoadGenerator() { Stop(); }

void LoadGenerator::Stop() {
  stopping_.store(true);
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
  {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](int* outstanding) { return *outstanding == 0; }, &outstanding_async_));
  }
  for (std::unique_ptr<InferenceStream>& stream : streams_) stream->Close();
  streams_.clear();
}

const inference::ModelInferRequest& LoadGenerator::NextRequest() {
  return requests_[next_request_.fetch_add(1) % requests_.size()];
}

bool LoadGenerator::SleepUntil(absl::Time when) const {
  // In short steps, so that Stop() never waits long for a sender with a distant send time.
  constexpr absl::Duration kStep = absl::Milliseconds(50);
  for (absl::Time now = absl::Now(); now < when; now = absl::Now()) {
    if (stopping_.load()) return false;
    absl::SleepFor(std::min(when - now, kStep));
  }
  return !stopping_.load();
}

void LoadGenerator::IssueAsync(bool chain, size_t slot) {
  {
    absl::MutexLock lock(&mu_);
    ++outstanding_async_;
  }
  auto done = [this, chain, slot](const RequestRecord& record, const absl::Status& status) {
    recorder_.Record(record, status);
    // The next call starts before this one is counted out, so Stop() cannot see zero
    // outstanding while the chain still grows. A slot whose stream has ended stops (its calls
    // would fail at once, and the chain would recurse).
    if (chain && !stopping_.load() && (streams_.empty() || streams_[slot]->open())) {
      IssueAsync(/*chain=*/true, slot);
    }
    absl::MutexLock lock(&mu_);
    --outstanding_async_;
  };
  if (streams_.empty()) {
    connection_.InferAsync(NextRequest(), std::move(done));
  } else {
    streams_[slot]->Infer(NextRequest(), std::move(done));
  }
}

void LoadGenerator::RunBlockingClosedLoop() {
  while (!stopping_.load()) {
    absl::Status status;
    RequestRecord record = connection_.Infer(NextRequest(), &status);
    recorder_.Record(record, status);
    if (spec_.think_time > absl::ZeroDuration() && !SleepUntil(absl::Now() + spec_.think_time)) {
      return;
    }
  }
}

absl::Time LoadGenerator::NextSendTime() {
  absl::MutexLock lock(&mu_);
  return load_start_ + schedule_.Next();
}

void LoadGenerator::RunScheduledSends(bool async) {
  while (SleepUntil(NextSendTime())) {
    if (async) {
      IssueAsync(/*chain=*/false, /*slot=*/0);
    } else {
      absl::Status status;
      RequestRecord record = connection_.Infer(NextRequest(), &status);
      recorder_.Record(record, status);
    }
  }
}

}  // namespace sonic::tools
