#include "server/trace/trace_manager.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "nlohmann/json.hpp"

namespace sonic::server {
namespace {

class TraceManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "trace_manager_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    file_ = (dir_ / "trace.json").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  TraceSettingValues On(uint32_t rate, int32_t count = -1, uint32_t log_frequency = 0) const {
    return {.timestamps = true, .rate = rate, .count = count, .log_frequency = log_frequency,
            .file = file_};
  }

  // Runs one request of `model` through the manager: a traced one records REQUEST_START and is
  // released (written) at once. Whether it was traced.
  static bool Request(TraceManager& manager, const std::string& model) {
    std::shared_ptr<Trace> trace = manager.Sample(model);
    if (!trace) return false;
    trace->SetRequest(1, "");
    trace->Record(kTraceRequestStart, 100);
    trace->Record(kTraceRequestEnd, 200);
    return true;
  }

  // The ids of the traces in a trace file (their REQUEST_START header objects).
  static std::vector<uint64_t> TraceIds(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    std::vector<uint64_t> ids;
    for (const auto& object : nlohmann::json::parse(text.str())) {
      if (object.contains("model_name")) ids.push_back(object["id"].get<uint64_t>());
    }
    return ids;
  }

  std::filesystem::path dir_;
  std::string file_;
};

TEST_F(TraceManagerTest, OffByDefaultWithTritonsDefaults) {
  TraceManager manager;
  EXPECT_EQ(manager.Sample("m"), nullptr);
  const TraceSettingMap expected = {{"trace_level", {"OFF"}},  {"trace_rate", {"1000"}},
                                    {"trace_count", {"-1"}},   {"log_frequency", {"0"}},
                                    {"trace_file", {""}},      {"trace_mode", {"triton"}}};
  EXPECT_EQ(manager.Get(""), expected);
  EXPECT_EQ(manager.Get("m"), expected);
}

TEST_F(TraceManagerTest, TracesEveryRateThRequest) {
  TraceManager manager(On(3));
  std::vector<bool> traced;
  for (int i = 0; i < 9; ++i) traced.push_back(Request(manager, "m"));
  EXPECT_EQ(traced, (std::vector<bool>{false, false, true, false, false, true, false, false, true}));
}

TEST_F(TraceManagerTest, CountStopsTracingAndWritesAnIndexedFile) {
  {
    TraceManager manager(On(1, 2));
    int traced = 0;
    for (int i = 0; i < 5; ++i) traced += Request(manager, "m");
    EXPECT_EQ(traced, 2);
    EXPECT_EQ(manager.Get("m").at("trace_count"), std::vector<std::string>{"0"});
    // Both traces are in: written at once, before shutdown.
    EXPECT_EQ(TraceIds(file_ + ".0"), (std::vector<uint64_t>{1, 2}));
  }
  EXPECT_FALSE(std::filesystem::exists(file_));
}

TEST_F(TraceManagerTest, LogFrequencyRotatesFiles) {
  {
    TraceManager manager(On(1, -1, 2));
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(Request(manager, "m"));
    EXPECT_EQ(TraceIds(file_ + ".0"), (std::vector<uint64_t>{1, 2}));
    EXPECT_EQ(TraceIds(file_ + ".1"), (std::vector<uint64_t>{3, 4}));
    EXPECT_FALSE(std::filesystem::exists(file_ + ".2"));
  }
  // The rest at shutdown, still to an indexed file.
  EXPECT_EQ(TraceIds(file_ + ".2"), (std::vector<uint64_t>{5}));
  EXPECT_FALSE(std::filesystem::exists(file_));
}

TEST_F(TraceManagerTest, LogFrequencyZeroWritesTheMainFileAtShutdown) {
  {
    TraceManager manager(On(1));
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(Request(manager, "m"));
    EXPECT_FALSE(std::filesystem::exists(file_));
  }
  EXPECT_EQ(TraceIds(file_), (std::vector<uint64_t>{1, 2, 3}));
}

TEST_F(TraceManagerTest, ASettingsChangeWritesTheReplacedSettingsTraces) {
  TraceManager manager(On(1));
  ASSERT_TRUE(Request(manager, "m"));
  ASSERT_TRUE(manager.Update("", {{"trace_rate", {"2"}}}).ok());
  // Appended to the main file, whose array stays open while the path is in use.
  std::ifstream in(file_);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str().rfind("[{\"id\":1,", 0), 0u) << text.str();
  EXPECT_NE(text.str().back(), ']');
}

TEST_F(TraceManagerTest, TraceInFlightIsWrittenByTheSettingThatSampledIt) {
  TraceManager manager(On(1, -1, 1));
  std::shared_ptr<Trace> in_flight = manager.Sample("m");
  ASSERT_NE(in_flight, nullptr);
  ASSERT_TRUE(manager.Update("", {{"trace_level", {"OFF"}}}).ok());
  EXPECT_EQ(manager.Sample("m"), nullptr);
  in_flight->SetRequest(1, "");
  in_flight->Record(kTraceRequestStart, 1);
  in_flight.reset();
  EXPECT_EQ(TraceIds(file_ + ".0"), (std::vector<uint64_t>{1}));
}

TEST_F(TraceManagerTest, ModelSettingOverridesSomeFieldsAndMirrorsTheRest) {
  TraceManager manager(On(1));
  auto model = manager.Update("a", {{"trace_rate", {"2"}}});
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(model->at("trace_rate"), std::vector<std::string>{"2"});
  EXPECT_EQ(model->at("trace_level"), std::vector<std::string>{"TIMESTAMPS"});
  EXPECT_EQ(model->at("trace_file"), std::vector<std::string>{file_});
  EXPECT_EQ(manager.Get("b").at("trace_rate"), std::vector<std::string>{"1"});
  EXPECT_EQ(manager.Get("").at("trace_rate"), std::vector<std::string>{"1"});

  int traced_a = 0, traced_b = 0;
  for (int i = 0; i < 4; ++i) {
    traced_a += Request(manager, "a");
    traced_b += Request(manager, "b");
  }
  EXPECT_EQ(traced_a, 2);
  EXPECT_EQ(traced_b, 4);

  // A global change reaches the fields the model does not name.
  ASSERT_TRUE(manager.Update("", {{"trace_level", {"OFF"}}, {"log_frequency", {"7"}}}).ok());
  EXPECT_EQ(manager.Get("a").at("trace_level"), std::vector<std::string>{"OFF"});
  EXPECT_EQ(manager.Get("a").at("log_frequency"), std::vector<std::string>{"7"});
  EXPECT_EQ(manager.Get("a").at("trace_rate"), std::vector<std::string>{"2"});
  EXPECT_FALSE(Request(manager, "a"));

  // Clearing its only field hands the model back to the global setting.
  auto cleared = manager.Update("a", {{"trace_rate", {}}});
  ASSERT_TRUE(cleared.ok()) << cleared.status();
  EXPECT_EQ(*cleared, manager.Get(""));
  EXPECT_EQ(manager.Get("a").at("trace_rate"), std::vector<std::string>{"1"});
}

TEST_F(TraceManagerTest, ModelLevelOverridesAGlobalOff) {
  TraceSettingValues startup = On(1);
  startup.timestamps = false;
  TraceManager manager(startup);
  EXPECT_FALSE(Request(manager, "a"));
  ASSERT_TRUE(manager.Update("a", {{"trace_level", {"TIMESTAMPS"}}}).ok());
  EXPECT_TRUE(Request(manager, "a"));
  EXPECT_FALSE(Request(manager, "b"));
}

TEST_F(TraceManagerTest, ClearingAGlobalFieldRestoresTheStartupValue) {
  TraceManager manager(On(5));
  EXPECT_EQ(manager.Update("", {{"trace_rate", {"7"}}})->at("trace_rate"),
            std::vector<std::string>{"7"});
  EXPECT_EQ(manager.Update("", {{"trace_rate", {}}})->at("trace_rate"),
            std::vector<std::string>{"5"});
}

TEST_F(TraceManagerTest, InvalidUpdatesNameTheSettingAndChangeNothing) {
  TraceManager manager(On(1));
  const TraceSettingMap before = manager.Get("");
  struct Case {
    TraceSettingMap settings;
    absl::StatusCode code;
    std::vector<std::string> mentions;
  };
  const std::vector<Case> cases = {
      {{{"trace_rate", {"abc"}}}, absl::StatusCode::kInvalidArgument, {"trace_rate", "abc"}},
      {{{"trace_rate", {"10000000000"}}}, absl::StatusCode::kInvalidArgument,
       {"trace_rate", "out of range", "10000000000"}},
      {{{"trace_rate", {"1", "2"}}}, absl::StatusCode::kInvalidArgument, {"trace_rate"}},
      {{{"trace_count", {"-2"}}}, absl::StatusCode::kInvalidArgument, {"trace_count", "-2"}},
      {{{"log_frequency", {"1.5"}}}, absl::StatusCode::kInvalidArgument, {"log_frequency", "1.5"}},
      {{{"trace_level", {"LOUD"}}}, absl::StatusCode::kInvalidArgument, {"trace_level", "LOUD"}},
      {{{"trace_level", {"OFF", "TIMESTAMPS"}}}, absl::StatusCode::kInvalidArgument, {"OFF"}},
      {{{"trace_level", {"TENSORS"}}}, absl::StatusCode::kUnimplemented, {"TENSORS"}},
      {{{"trace_file", {"/tmp/x"}}}, absl::StatusCode::kUnimplemented, {"trace file"}},
      {{{"trace_mode", {"opentelemetry"}}}, absl::StatusCode::kUnimplemented, {"opentelemetry"}},
      {{{"trace_mode", {"zipkin"}}}, absl::StatusCode::kInvalidArgument, {"trace_mode", "zipkin"}},
      {{{"sampling", {"1"}}}, absl::StatusCode::kInvalidArgument, {"sampling"}},
      {{{"trace_rate", {"0"}}}, absl::StatusCode::kInvalidArgument, {"rate"}},
      // A valid field with an invalid one: neither is applied.
      {{{"trace_count", {"3"}}, {"trace_rate", {"x"}}}, absl::StatusCode::kInvalidArgument,
       {"trace_rate"}},
  };
  for (const Case& c : cases) {
    for (const std::string& model : {std::string(), std::string("m")}) {
      absl::StatusOr<TraceSettingMap> result = manager.Update(model, c.settings);
      ASSERT_FALSE(result.ok()) << c.settings.begin()->first;
      EXPECT_EQ(result.status().code(), c.code) << result.status();
      for (const std::string& word : c.mentions) {
        EXPECT_NE(result.status().message().find(word), std::string::npos)
            << result.status() << " should mention " << word;
      }
    }
  }
  EXPECT_EQ(manager.Get(""), before);
  EXPECT_EQ(manager.Get("m"), before);
  EXPECT_TRUE(manager.Update("", {{"trace_mode", {"triton"}}}).ok());
}

TEST_F(TraceManagerTest, TurningTracingOnNeedsAStartupTraceFile) {
  TraceManager manager;
  absl::StatusOr<TraceSettingMap> result = manager.Update("", {{"trace_level", {"TIMESTAMPS"}}});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("trace file"), std::string::npos);
  // Settings that keep tracing off are accepted.
  EXPECT_TRUE(manager.Update("", {{"trace_rate", {"3"}}}).ok());
}

TEST_F(TraceManagerTest, ConcurrentRequestsTakeExactlyCountTracesWithUniqueIds) {
  TraceManager manager(On(1, 100, 10));
  absl::Mutex mutex;
  std::set<uint64_t> ids;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        if (std::shared_ptr<Trace> trace = manager.Sample("m")) {
          absl::MutexLock lock(&mutex);
          ids.insert(trace->id());
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(ids.size(), 100u);
  EXPECT_EQ(*ids.begin(), 1u);
  EXPECT_EQ(*ids.rbegin(), 100u);
}

}  // namespace
}  // namespace sonic::server
