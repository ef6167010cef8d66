#include "server/trace/trace_manager.h"

#include <utility>

#include "sonic/common/status.h"

namespace sonic::server {

// One trace setting in effect: its values, the sampling counters and the finished traces not yet
// written. Replaced, never changed, when settings change; traces in flight keep the one that
// sampled them, so they are written where and how it says.
class TraceSettingState final : public TraceSink {
 public:
  TraceSettingState(const TraceSettingValues& values, std::shared_ptr<TraceFileWriter> writer)
      : values_(values), writer_(std::move(writer)), count_(values.count) {}

  ~TraceSettingState() override {
    absl::MutexLock lock(&mutex_);
    if (buffered_ == 0 || !writer_) return;
    if (values_.log_frequency != 0) {
      writer_->WriteIndexed(buffer_);
    } else {
      writer_->WriteMain(buffer_);
    }
  }

  // The values, with trace_count as what is left of it.
  TraceSettingValues Current() const {
    absl::MutexLock lock(&mutex_);
    TraceSettingValues values = values_;
    values.count = count_;
    return values;
  }

  bool MayTrace() const {
    absl::MutexLock lock(&mutex_);
    return CanTrace();
  }

  // Whether to trace the next request of this setting; counts it.
  bool TakeSample() {
    absl::MutexLock lock(&mutex_);
    if (!CanTrace()) return false;
    if (++seen_ % values_.rate != 0) return false;
    if (count_ > 0) --count_;
    ++created_;
    return true;
  }

  void Collect(std::string json_objects) override {
    std::string batch;
    {
      absl::MutexLock lock(&mutex_);
      ++collected_;
      if (!json_objects.empty()) {
        if (buffered_ != 0) buffer_ += ',';
        buffer_ += json_objects;
        ++buffered_;
      }
      const bool count_done = count_ == 0 && collected_ == created_;
      const bool frequency_due = values_.log_frequency != 0 && buffered_ >= values_.log_frequency;
      if (buffered_ != 0 && (count_done || frequency_due)) {
        batch.swap(buffer_);
        buffered_ = 0;
      }
    }
    if (!batch.empty()) writer_->WriteIndexed(batch);
  }

 private:
  bool CanTrace() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    return values_.timestamps && values_.rate != 0 && writer_ != nullptr && count_ != 0;
  }

  const TraceSettingValues values_;
  const std::shared_ptr<TraceFileWriter> writer_;  // null without a trace file
  mutable absl::Mutex mutex_;
  int32_t count_ ABSL_GUARDED_BY(mutex_);
  uint64_t seen_ ABSL_GUARDED_BY(mutex_) = 0;
  uint64_t created_ ABSL_GUARDED_BY(mutex_) = 0;
  uint64_t collected_ ABSL_GUARDED_BY(mutex_) = 0;
  std::string buffer_ ABSL_GUARDED_BY(mutex_);
  uint32_t buffered_ ABSL_GUARDED_BY(mutex_) = 0;
};

TraceManager::TraceManager(const TraceSettingValues& startup) : startup_(startup) {
  absl::MutexLock lock(&mutex_);
  global_.state = std::make_shared<TraceSettingState>(startup, Writer(startup.file));
  UpdateAnyTracing();
}

TraceManager::~TraceManager() = default;

std::shared_ptr<TraceFileWriter> TraceManager::Writer(const std::string& path) {
  if (path.empty()) return nullptr;
  std::weak_ptr<TraceFileWriter>& slot = writers_[path];
  std::shared_ptr<TraceFileWriter> writer = slot.lock();
  if (!writer) {
    writer = std::make_shared<TraceFileWriter>(path);
    slot = writer;
  }
  return writer;
}

void TraceManager::UpdateAnyTracing() {
  bool any = global_.state->MayTrace();
  for (const auto& [name, entry] : models_) any = any || entry.state->MayTrace();
  any_tracing_.store(any, std::memory_order_relaxed);
}

std::shared_ptr<Trace> TraceManager::Sample(std::string_view model_name) {
  if (!any_tracing_.load(std::memory_order_relaxed)) return nullptr;
  std::shared_ptr<TraceSettingState> state;
  {
    absl::ReaderMutexLock lock(&mutex_);
    auto it = models_.find(model_name);
    state = it == models_.end() ? global_.state : it->second.state;
  }
  if (!state->TakeSample()) return nullptr;
  return std::make_shared<Trace>(next_id_.fetch_add(1, std::memory_order_relaxed),
                                 std::string(model_name), std::move(state));
}

TraceSettingMap TraceManager::Get(const std::string& model_name) const {
  absl::ReaderMutexLock lock(&mutex_);
  auto it = models_.find(model_name);
  return ToTraceSettingMap((it == models_.end() ? global_ : it->second).state->Current());
}

TraceSettingValues TraceManager::Merge(const TraceSettingValues& base,
                                       const TraceSettingValues& own, const Specified& specified) {
  TraceSettingValues values = base;
  if (specified.level) values.timestamps = own.timestamps;
  if (specified.rate) values.rate = own.rate;
  if (specified.count) values.count = own.count;
  if (specified.log_frequency) values.log_frequency = own.log_frequency;
  return values;
}

absl::StatusOr<TraceManager::Entry> TraceManager::Derive(const Entry* current,
                                                         const TraceSettingValues& base,
                                                         const TraceSettingUpdate& update) {
  Specified specified = current ? current->specified : Specified{};
  TraceSettingValues own = current ? current->state->Current() : base;
  auto apply = [](const auto& change, bool& is_specified, auto& value) {
    if (change.clear) is_specified = false;
    if (change.value) {
      is_specified = true;
      value = *change.value;
    }
  };
  apply(update.level, specified.level, own.timestamps);
  apply(update.rate, specified.rate, own.rate);
  apply(update.count, specified.count, own.count);
  apply(update.log_frequency, specified.log_frequency, own.log_frequency);
  const TraceSettingValues values = Merge(base, own, specified);
  if (values.timestamps && values.rate == 0) {
    return absl::InvalidArgumentError(
        "Attempting to set invalid trace setting: sample rate must be non-zero (trace_rate 0 "
        "with trace_level TIMESTAMPS)");
  }
  if (values.timestamps && values.file.empty()) {
    return absl::InvalidArgumentError(
        "Attempting to set invalid trace setting: trace file name is not given (start the "
        "server with --trace-config triton,file=PATH)");
  }
  return Entry{std::make_shared<TraceSettingState>(values, Writer(values.file)), specified};
}

absl::StatusOr<TraceSettingMap> TraceManager::Update(const std::string& model_name,
                                                     const TraceSettingMap& settings) {
  SONIC_ASSIGN_OR_RETURN(const TraceSettingUpdate update, ParseTraceSettingUpdate(settings));
  std::vector<Entry> replaced;  // destroyed after the lock is released: they write their traces
  return UpdateLocked(model_name, update, replaced);
}

absl::StatusOr<TraceSettingMap> TraceManager::UpdateLocked(const std::string& model_name,
                                                           const TraceSettingUpdate& update,
                                                           std::vector<Entry>& replaced) {
  absl::MutexLock lock(&mutex_);
  if (model_name.empty()) {
    SONIC_ASSIGN_OR_RETURN(Entry global, Derive(&global_, startup_, update));
    const TraceSettingValues base = global.state->Current();
    std::map<std::string, Entry, std::less<>> models;
    for (const auto& [name, entry] : models_) {
      SONIC_ASSIGN_OR_RETURN(models[name], Derive(&entry, base, TraceSettingUpdate{}));
    }
    replaced.push_back(std::exchange(global_, std::move(global)));
    for (auto& [name, entry] : models_) replaced.push_back(std::move(entry));
    models_ = std::move(models);
  } else {
    auto it = models_.find(model_name);
    SONIC_ASSIGN_OR_RETURN(Entry entry, Derive(it == models_.end() ? nullptr : &it->second,
                                               global_.state->Current(), update));
    if (it != models_.end()) {
      replaced.push_back(std::move(it->second));
      models_.erase(it);
    }
    // A model naming no field of its own simply follows the global setting.
    if (entry.specified.any()) models_.emplace(model_name, std::move(entry));
  }
  UpdateAnyTracing();
  auto it = models_.find(model_name);
  TraceSettingMap in_effect =
      ToTraceSettingMap((it == models_.end() ? global_ : it->second).state->Current());
  return in_effect;
}

}  // namespace sonic::server
