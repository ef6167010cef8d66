#include "sonic/framework/event_processor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "sonic/common/status.h"

namespace sonic::framework {
namespace {

using ::testing::HasSubstr;

absl::Status PutNumber(Event& event) {
  event.put("number", static_cast<int>(event.id()));
  return absl::OkStatus();
}

// Doubles "number" into its own label, without external work.
class Doubler : public Module {
 public:
  using Module::Module;
  absl::Status produce(Event& event) override {
    SONIC_ASSIGN_OR_RETURN(const int* number, event.get<int>("number"));
    event.put(label(), *number * 2);
    return absl::OkStatus();
  }
};

// External work on a thread of its own that answers after `delay` (a stand-in for a request to
// a server); produce copies "number" + 1 into its label. Counts the threads produce ran on.
class DelayedEcho : public Module {
 public:
  DelayedEcho(std::string label, absl::Duration delay, bool blocking)
      : Module(std::move(label)), delay_(delay), blocking_(blocking) {}
  ~DelayedEcho() override {
    for (std::thread& worker : workers_) worker.join();
  }

  void acquire(const Event& event, WaitingTaskHolder holder) override {
    if (blocking_) {  // as a Sync client: the framework thread waits
      absl::SleepFor(delay_);
      holder.doneWaiting(absl::OkStatus());
      return;
    }
    workers_.emplace_back([holder, delay = delay_] {
      absl::SleepFor(delay);
      holder.doneWaiting(absl::OkStatus());
    });
  }

  absl::Status produce(Event& event) override {
    SONIC_ASSIGN_OR_RETURN(const int* number, event.get<int>("number"));
    event.put(label(), *number + 1);
    return absl::OkStatus();
  }

 private:
  absl::Duration delay_;
  bool blocking_;
  std::vector<std::thread> workers_;
};

ModuleDescription Describe(std::string label, std::function<std::unique_ptr<Module>()> make) {
  return {label, "test", [make](int) -> absl::StatusOr<std::unique_ptr<Module>> { return make(); }};
}

TEST(EventProcessorTest, EveryEventGoesThroughEveryModuleInOrder) {
  ProcessorOptions options;
  options.events = 40;
  options.first_event = 100;
  options.threads = 2;
  options.streams = 3;
  options.source = PutNumber;
  options.modules.push_back(Describe("double", [] { return std::make_unique<Doubler>("double"); }));
  options.modules.push_back(Describe("echo", [] {
    return std::make_unique<DelayedEcho>("echo", absl::Milliseconds(1), false);
  }));
  absl::Mutex mu;
  std::set<uint64_t> seen;
  std::set<std::thread::id> threads;
  bool consistent = true;
  options.on_event_done = [&](Event& event) {
    absl::MutexLock lock(&mu);
    seen.insert(event.id());
    threads.insert(std::this_thread::get_id());
    const int n = static_cast<int>(event.id());
    consistent &= *event.get<int>("double").value() == 2 * n &&
                  *event.get<int>("echo").value() == n + 1;
  };
  auto report = RunEvents(options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->events, 40u);
  EXPECT_EQ(seen.size(), 40u);
  EXPECT_EQ(*seen.begin(), 100u);
  EXPECT_EQ(*seen.rbegin(), 139u);
  EXPECT_TRUE(consistent);
  EXPECT_LE(threads.size(), 2u);
  ASSERT_EQ(report->modules.size(), 2u);
  EXPECT_EQ(report->modules[0].label, "double");
  EXPECT_EQ(report->modules[0].events, 40u);
  EXPECT_EQ(report->modules[1].events, 40u);
  EXPECT_GT(report->modules[1].wait, absl::ZeroDuration());
}

// With one thread and four events in flight, asynchronous external work overlaps: the thread is
// free while requests are out. Blocking work never overlaps on one thread.
TEST(EventProcessorTest, ThreadsAreReleasedWhileExternalWorkIsInFlight) {
  for (bool blocking : {false, true}) {
    ProcessorOptions options;
    options.events = 12;
    options.threads = 1;
    options.streams = 4;
    options.source = PutNumber;
    options.modules.push_back(Describe("echo", [blocking] {
      return std::make_unique<DelayedEcho>("echo", absl::Milliseconds(20), blocking);
    }));
    auto report = RunEvents(options);
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_EQ(report->events, 12u);
    if (blocking) {
      EXPECT_EQ(report->max_concurrent_waits, 1);
    } else {
      EXPECT_GT(report->max_concurrent_waits, 1);
    }
  }
}

class FailingModule : public Module {
 public:
  enum class How { kProduce, kAcquire, kForgetHolder };
  FailingModule(How how, uint64_t bad_event) : Module("failing"), how_(how), bad_(bad_event) {}
  void acquire(const Event& event, WaitingTaskHolder holder) override {
    if (event.id() != bad_) return holder.doneWaiting(absl::OkStatus());
    if (how_ == How::kAcquire) holder.doneWaiting(absl::UnavailableError("server went away"));
    // kForgetHolder: the holder is dropped here without a call.
    if (how_ == How::kProduce) holder.doneWaiting(absl::OkStatus());
  }
  absl::Status produce(Event& event) override {
    if (event.id() == bad_) return absl::InvalidArgumentError("bad jet");
    return absl::OkStatus();
  }

 private:
  How how_;
  uint64_t bad_;
};

TEST(EventProcessorTest, AnErrorStopsTheJobAndNamesEventAndModule) {
  const std::pair<FailingModule::How, const char*> cases[] = {
      {FailingModule::How::kProduce, "bad jet"},
      {FailingModule::How::kAcquire, "server went away"},
      {FailingModule::How::kForgetHolder, "without calling doneWaiting"},
  };
  for (const auto& [how, message] : cases) {
    ProcessorOptions options;
    options.events = 50;
    options.threads = 2;
    options.streams = 2;
    options.source = PutNumber;
    options.modules.push_back(
        Describe("failing", [how] { return std::make_unique<FailingModule>(how, 7); }));
    auto report = RunEvents(options);
    ASSERT_FALSE(report.ok());
    EXPECT_THAT(std::string(report.status().message()), HasSubstr("event 7, module 'failing'"));
    EXPECT_THAT(std::string(report.status().message()), HasSubstr(message));
  }
}

TEST(EventProcessorTest, BadOptionsAndFactoryErrorsAreReported) {
  ProcessorOptions options;
  options.events = 1;
  options.source = PutNumber;
  options.threads = 0;
  EXPECT_EQ(RunEvents(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.threads = 1;
  options.source = nullptr;
  EXPECT_EQ(RunEvents(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.source = PutNumber;
  options.modules.push_back({"broken", "test", [](int) -> absl::StatusOr<std::unique_ptr<Module>> {
                               return absl::NotFoundError("no model 'x'");
                             }});
  auto report = RunEvents(options);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(report.status().message()), HasSubstr("module 'broken'"));
}

TEST(EventProcessorTest, SourceErrorsAndProductTypesAreChecked) {
  Event event(3);
  event.put("x", 1.5);
  EXPECT_EQ(event.get<int>("x").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(event.get<double>("y").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(event.labels(), std::vector<std::string>{"x"});

  ProcessorOptions options;
  options.events = 5;
  options.source = [](Event& e) {
    return e.id() == 2 ? absl::DataLossError("truncated input") : absl::OkStatus();
  };
  auto report = RunEvents(options);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(report.status().message()), HasSubstr("event 2, source"));
}

TEST(EventProcessorTest, ProgressIsReportedOnTheCallersThread) {
  ProcessorOptions options;
  options.events = 6;
  options.source = PutNumber;
  options.modules.push_back(Describe("echo", [] {
    return std::make_unique<DelayedEcho>("echo", absl::Milliseconds(10), false);
  }));
  options.progress_interval = absl::Milliseconds(5);
  const std::thread::id caller = std::this_thread::get_id();
  int calls = 0;
  bool on_caller = true;
  options.on_progress = [&](const Progress& progress) {
    ++calls;
    on_caller &= std::this_thread::get_id() == caller;
    EXPECT_EQ(progress.events_total, 6u);
  };
  ASSERT_TRUE(RunEvents(options).ok());
  EXPECT_GT(calls, 0);
  EXPECT_TRUE(on_caller);
}

}  // namespace
}  // namespace sonic::framework
