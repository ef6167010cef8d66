#include "server/trace/trace_settings.h"

#include <gtest/gtest.h>

namespace sonic::server {
namespace {

TEST(TraceSettingsFromFlagsTest, DefaultsAreTritons) {
  auto values = TraceSettingsFromFlags({});
  ASSERT_TRUE(values.ok());
  EXPECT_EQ(*values, TraceSettingValues{});
  EXPECT_FALSE(values->timestamps);
  EXPECT_EQ(values->rate, 1000u);
  EXPECT_EQ(values->count, -1);
}

TEST(TraceSettingsFromFlagsTest, TraceConfigSettings) {
  TraceFlags flags;
  flags.config = {"triton,file=/tmp/trace.json", "triton,log-frequency=50", "rate=100",
                  "level=TIMESTAMPS", "count=7", "mode=triton"};
  auto values = TraceSettingsFromFlags(flags);
  ASSERT_TRUE(values.ok()) << values.status();
  EXPECT_EQ(*values, (TraceSettingValues{.timestamps = true, .rate = 100, .count = 7,
                                         .log_frequency = 50, .file = "/tmp/trace.json"}));
}

TEST(TraceSettingsFromFlagsTest, DeprecatedFlagsAndTheirOverrides) {
  TraceFlags flags;
  flags.file = "old.json";
  flags.level = {"TIMESTAMPS"};
  flags.rate = "10";
  flags.count = "3";
  flags.log_frequency = "4";
  auto values = TraceSettingsFromFlags(flags);
  ASSERT_TRUE(values.ok()) << values.status();
  EXPECT_EQ(*values, (TraceSettingValues{.timestamps = true, .rate = 10, .count = 3,
                                         .log_frequency = 4, .file = "old.json"}));
  flags.config = {"rate=20", "triton,file=new.json"};
  values = TraceSettingsFromFlags(flags);
  ASSERT_TRUE(values.ok()) << values.status();
  EXPECT_EQ(values->rate, 20u);
  EXPECT_EQ(values->file, "new.json");
  EXPECT_EQ(values->count, 3);
}

TEST(TraceSettingsFromFlagsTest, LevelOffAnywhereWins) {
  TraceFlags flags;
  flags.config = {"level=timestamps", "level=OFF", "triton,file=t.json"};
  auto values = TraceSettingsFromFlags(flags);
  ASSERT_TRUE(values.ok());
  EXPECT_FALSE(values->timestamps);
  flags.config = {"level=max"};
  EXPECT_TRUE(TraceSettingsFromFlags(flags)->timestamps);
}

TEST(TraceSettingsFromFlagsTest, OpenTelemetrySettingsAreIgnoredButItsModeRefused) {
  TraceFlags flags;
  flags.config = {"opentelemetry,url=localhost:4318/v1/traces", "level=TIMESTAMPS"};
  EXPECT_TRUE(TraceSettingsFromFlags(flags).ok());
  flags.config.push_back("mode=opentelemetry");
  auto values = TraceSettingsFromFlags(flags);
  ASSERT_FALSE(values.ok());
  EXPECT_EQ(values.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(values.status().message().find("opentelemetry"), std::string::npos);
}

TraceFlags Config(std::vector<std::string> config) {
  TraceFlags flags;
  flags.config = std::move(config);
  return flags;
}

TEST(TraceSettingsFromFlagsTest, BadFlagsNameWhatIsWrong) {
  TraceFlags bad_level;
  bad_level.level = {"chatty"};
  TraceFlags bad_rate;
  bad_rate.rate = "-1";
  struct Case {
    TraceFlags flags;
    absl::StatusCode code;
    std::string mention;
  };
  const std::vector<Case> cases = {
      {Config({"rate=abc"}), absl::StatusCode::kInvalidArgument, "abc"},
      {Config({"count=-2"}), absl::StatusCode::kInvalidArgument, "-2"},
      {Config({"sampling=2"}), absl::StatusCode::kInvalidArgument, "sampling"},
      {Config({"triton,rate=2"}), absl::StatusCode::kInvalidArgument, "rate"},
      {Config({"level"}), absl::StatusCode::kInvalidArgument, "level"},
      {Config({",rate=1"}), absl::StatusCode::kInvalidArgument, "mode"},
      {Config({"zipkin,url=x"}), absl::StatusCode::kInvalidArgument, "zipkin"},
      {Config({"level=LOUD"}), absl::StatusCode::kInvalidArgument, "LOUD"},
      {Config({"level=TENSORS"}), absl::StatusCode::kUnimplemented, "TENSORS"},
      {bad_level, absl::StatusCode::kInvalidArgument, "--trace-level"},
      {bad_rate, absl::StatusCode::kInvalidArgument, "--trace-rate"},
  };
  for (const Case& c : cases) {
    auto values = TraceSettingsFromFlags(c.flags);
    ASSERT_FALSE(values.ok()) << c.mention;
    EXPECT_EQ(values.status().code(), c.code) << values.status();
    EXPECT_NE(values.status().message().find(c.mention), std::string::npos) << values.status();
  }
}

TEST(TraceSettingUpdateTest, EmptyValueListsClear) {
  auto update = ParseTraceSettingUpdate(
      {{"trace_level", {}}, {"trace_rate", {}}, {"trace_count", {"5"}}, {"trace_mode", {}}});
  ASSERT_TRUE(update.ok()) << update.status();
  EXPECT_TRUE(update->level.clear);
  EXPECT_TRUE(update->rate.clear);
  EXPECT_EQ(update->count.value, 5);
  EXPECT_FALSE(update->log_frequency.touched());
}

}  // namespace
}  // namespace sonic::server
