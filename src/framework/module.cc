#include "sonic/framework/module.h"

#include <atomic>

namespace sonic::framework {

class WaitingTaskHolder::State {
 public:
  explicit State(std::function<void(absl::Status)> resume) : resume_(std::move(resume)) {}
  ~State() {
    if (!done_.load(std::memory_order_acquire)) {
      resume_(absl::InternalError("the module's external work ended without calling doneWaiting"));
    }
  }

  void Done(absl::Status status) {
    if (done_.exchange(true, std::memory_order_acq_rel)) return;
    resume_(std::move(status));
  }

 private:
  std::function<void(absl::Status)> resume_;
  std::atomic<bool> done_{false};
};

WaitingTaskHolder::WaitingTaskHolder(std::function<void(absl::Status)> resume)
    : state_(std::make_shared<State>(std::move(resume))) {}

void WaitingTaskHolder::doneWaiting(absl::Status status) const { state_->Done(std::move(status)); }

}  // namespace sonic::framework
