#include "server/core/dynamic_batcher.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace sonic::server {
namespace {

constexpr uint64_t kNsPerUs = 1000;

// a * b and a + b, saturated at UINT64_MAX: a timeout no clock reaches instead of one that wrapped
// around into the past.
uint64_t SaturatingMul(uint64_t a, uint64_t b) {
  uint64_t product = 0;
  return __builtin_mul_overflow(a, b, &product) ? UINT64_MAX : product;
}
uint64_t SaturatingAdd(uint64_t a, uint64_t b) {
  uint64_t sum = 0;
  return __builtin_add_overflow(a, b, &sum) ? UINT64_MAX : sum;
}

}  // namespace

DynamicBatcher::DynamicBatcher(const inference::ModelConfig& config, CanBatch can_batch)
    : batching_(config.has_dynamic_batching() && config.max_batch_size() > 0),
      max_batch_size_(std::max(config.max_batch_size(), 1)),
      max_delay_ns_(
          SaturatingMul(config.dynamic_batching().max_queue_delay_microseconds(), kNsPerUs)),
      default_level_(config.dynamic_batching().priority_levels() == 0
                         ? 0
                         : std::max<uint64_t>(config.dynamic_batching().default_priority_level(), 1)),
      levels_limit_(config.dynamic_batching().priority_levels()),
      can_batch_(std::move(can_batch)) {
  const auto& batching = config.dynamic_batching();
  preferred_.assign(batching.preferred_batch_size().begin(), batching.preferred_batch_size().end());
  std::sort(preferred_.begin(), preferred_.end());
  full_rows_ = preferred_.empty() ? max_batch_size_ : std::min(max_batch_size_, preferred_.back());
  first_decision_rows_ =
      preferred_.empty() ? full_rows_ : std::min(max_batch_size_, preferred_.front());
  auto to_policy = [](const inference::ModelQueuePolicy& p) {
    return Policy{p.timeout_action() == inference::ModelQueuePolicy::DELAY,
                  SaturatingMul(p.default_timeout_microseconds(), kNsPerUs),
                  p.allow_timeout_override(),
                  p.max_queue_size()};
  };
  default_policy_ = to_policy(batching.default_queue_policy());
  for (const auto& [level, policy] : batching.priority_queue_policy()) {
    level_policies_[level] = to_policy(policy);
  }
}

DynamicBatcher::Policy DynamicBatcher::PolicyFor(uint64_t level) const {
  auto it = level_policies_.find(level);
  return it == level_policies_.end() ? default_policy_ : it->second;
}

absl::StatusOr<bool> DynamicBatcher::Enqueue(std::unique_ptr<InferenceRequest>& request,
                                             uint64_t now_ns) {
  // As Triton: priority 0, or one above priority_levels, means the default level.
  uint64_t level = default_level_;
  if (default_level_ != 0 && request->priority != 0 && request->priority <= levels_limit()) {
    level = request->priority;
  }
  const Policy policy = PolicyFor(level);
  std::deque<Entry>& queue = levels_[level];
  if (policy.max_queue_size != 0 && queue.size() >= policy.max_queue_size) {
    return absl::UnavailableError(absl::StrCat("the queue is full (max_queue_size ",
                                               policy.max_queue_size, "); retry later"));
  }
  uint64_t timeout_ns = policy.default_timeout_ns;
  if (policy.allow_override && request->timeout_us != 0) {
    timeout_ns = SaturatingMul(request->timeout_us, kNsPerUs);
  }
  const uint64_t deadline_ns = timeout_ns == 0 ? 0 : SaturatingAdd(now_ns, timeout_ns);
  const Entry* head = Head();
  // An owner waits at most until the head's queue delay ends (NextDecisionNs), and the arrival
  // does not move that time earlier: a new head arrived later than the one it displaces.
  const bool decides_sooner =
      head == nullptr || !batching_ || max_delay_ns_ == 0 ||
      queued_rows_ + request->batch_size >= first_decision_rows_ ||
      (deadline_ns != 0 && deadline_ns < SaturatingAdd(head->enqueue_ns, max_delay_ns_));
  queued_rows_ += request->batch_size;
  queue.push_back(Entry{std::move(request), now_ns, deadline_ns});
  ++size_;
  return decides_sooner;
}

const DynamicBatcher::Entry* DynamicBatcher::Head() const {
  for (const auto& [level, queue] : levels_) {
    if (!queue.empty()) return &queue.front();
  }
  return delayed_.empty() ? nullptr : &delayed_.front();
}

std::vector<std::unique_ptr<InferenceRequest>> DynamicBatcher::TakeExpired(uint64_t now_ns) {
  std::vector<std::unique_ptr<InferenceRequest>> expired;
  for (auto& [level, queue] : levels_) {
    const bool delay = PolicyFor(level).delay_on_timeout;
    for (auto it = queue.begin(); it != queue.end();) {
      if (it->deadline_ns == 0 || it->deadline_ns > now_ns) {
        ++it;
        continue;
      }
      if (delay) {
        it->deadline_ns = 0;
        delayed_.push_back(std::move(*it));
      } else {
        queued_rows_ -= it->request->batch_size;
        expired.push_back(std::move(it->request));
        --size_;
      }
      it = queue.erase(it);
    }
  }
  return expired;
}

absl::InlinedVector<std::deque<DynamicBatcher::Entry>*, 4> DynamicBatcher::QueuesInOrder() {
  absl::InlinedVector<std::deque<Entry>*, 4> queues;
  for (auto& [level, queue] : levels_) queues.push_back(&queue);
  queues.push_back(&delayed_);
  return queues;
}

int64_t DynamicBatcher::BatchSizeToTake(std::span<const int64_t> prefix_rows,
                                        uint64_t oldest_wait_ns) const {
  const int64_t available = prefix_rows.back();
  const bool delay_over = max_delay_ns_ != 0 && oldest_wait_ns >= max_delay_ns_;
  if (!preferred_.empty() && !delay_over) {
    int64_t best = 0;       // the largest preferred size a prefix forms
    int64_t below_max = 0;  // the largest prefix within the largest preferred size
    for (int64_t rows : prefix_rows) {
      if (rows > preferred_.back()) {
        if (best == 0) best = below_max;  // the rows go past every preferred size
        break;
      }
      below_max = rows;
      if (std::binary_search(preferred_.begin(), preferred_.end(), rows)) best = rows;
    }
    if (best != 0) return best;
  }
  if (available >= full_rows_ || delay_over || max_delay_ns_ == 0) return available;
  return 0;  // more requests may still form a preferred size or fill the batch
}

Batch DynamicBatcher::TakeBatch(uint64_t now_ns) {
  Batch batch;
  if (size_ == 0) return batch;
  absl::InlinedVector<std::deque<Entry>*, 4> queues = QueuesInOrder();
  auto head_queue = std::find_if(queues.begin(), queues.end(),
                                 [](const auto* queue) { return !queue->empty(); });
  if (head_queue == queues.end()) return batch;
  const Entry& head = (*head_queue)->front();

  // The requests that may join the head, in service order, within max_batch_size entries.
  absl::InlinedVector<std::pair<std::deque<Entry>*, size_t>, 8> members;
  absl::InlinedVector<int64_t, 16> prefix_rows;  // the rows of the first 1, 2, ... members
  int64_t available = 0;
  for (auto queue = head_queue; queue != queues.end() && available < max_batch_size_; ++queue) {
    for (size_t i = 0; i < (*queue)->size() && available < max_batch_size_; ++i) {
      const Entry& entry = (**queue)[i];
      bool joins = members.empty() ||
                   (batching_ && available + entry.request->batch_size <= max_batch_size_ &&
                    can_batch_(*head.request, *entry.request));
      if (!joins) continue;
      members.emplace_back(*queue, i);
      available += entry.request->batch_size;
      prefix_rows.push_back(available);
    }
    if (!batching_) break;
  }
  int64_t target =
      batching_ ? BatchSizeToTake(prefix_rows, now_ns - head.enqueue_ns) : available;
  if (target == 0) return batch;

  int64_t taken = 0;
  size_t count = 0;
  while (count < members.size()) {
    const Entry& entry = (*members[count].first)[members[count].second];
    if (count > 0 && taken + entry.request->batch_size > target) break;
    taken += entry.request->batch_size;
    queued_rows_ -= entry.request->batch_size;
    batch.push_back(std::move((*members[count].first)[members[count].second].request));
    ++count;
  }
  // Erase from the back so that earlier indices stay valid.
  for (size_t i = count; i-- > 0;) {
    members[i].first->erase(members[i].first->begin() + members[i].second);
  }
  size_ -= count;
  return batch;
}

std::optional<uint64_t> DynamicBatcher::NextDecisionNs() const {
  std::optional<uint64_t> next;
  auto consider = [&next](uint64_t t) { next = next ? std::min(*next, t) : t; };
  for (const auto& [level, queue] : levels_) {
    for (const Entry& entry : queue) {
      if (entry.deadline_ns != 0) consider(entry.deadline_ns);
    }
  }
  const Entry* head = Head();
  if (head != nullptr && batching_) consider(SaturatingAdd(head->enqueue_ns, max_delay_ns_));
  return next;
}

}  // namespace sonic::server
