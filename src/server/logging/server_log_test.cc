// The server's log: levels, verbose levels, file, formats and settings by Triton's names.
#include "server/logging/server_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace sonic::server {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

class ServerLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("server_log_test_" + std::to_string(getpid()) + ".log");
    std::filesystem::remove(path_);
  }
  void TearDown() override { std::filesystem::remove(path_); }

  std::string Contents() const {
    std::ifstream in(path_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  std::filesystem::path path_;
};

TEST_F(ServerLogTest, LevelsFilterWhatIsWritten) {
  ServerLog log;
  ASSERT_TRUE(log.Apply({.file = path_, .info = false, .verbose_level = 2}).ok());
  log.Write(ServerLog::Level::kInfo, "info line");
  log.Write(ServerLog::Level::kWarning, "warning line");
  log.Write(ServerLog::Level::kError, "error line");
  log.Write(ServerLog::Level::kVerbose, "verbose two", std::source_location::current(), 2);
  log.Write(ServerLog::Level::kVerbose, "verbose three", std::source_location::current(), 3);
  const std::string text = Contents();
  EXPECT_THAT(text, Not(HasSubstr("info line")));
  EXPECT_THAT(text, HasSubstr("warning line"));
  EXPECT_THAT(text, HasSubstr("error line"));
  EXPECT_THAT(text, HasSubstr("verbose two"));
  EXPECT_THAT(text, Not(HasSubstr("verbose three")));
  EXPECT_FALSE(log.Enabled(ServerLog::Level::kVerbose, 3));
  EXPECT_TRUE(log.Enabled(ServerLog::Level::kVerbose, 1));
}

TEST_F(ServerLogTest, LinesHaveTritonsFormats) {
  ServerLog log;
  ASSERT_TRUE(log.Apply({.file = path_}).ok());
  log.Write(ServerLog::Level::kWarning, "plain");
  ASSERT_TRUE(log.Apply({.file = path_, .format = LogFormat::kIso8601}).ok());
  log.Write(ServerLog::Level::kError, "iso");
  std::istringstream lines(Contents());
  std::string first, second;
  std::getline(lines, first);
  std::getline(lines, second);
  const std::string pid = std::to_string(getpid());
  EXPECT_THAT(first, MatchesRegex("W[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6} " + pid +
                                  " server_log_test\\.cc:[0-9]+\\] plain"));
  EXPECT_THAT(second, MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z E " +
                                   pid + " server_log_test\\.cc:[0-9]+\\] iso"));
}

TEST_F(ServerLogTest, AnUnopenableFileChangesNothing) {
  ServerLog log;
  ASSERT_TRUE(log.Apply({.file = path_, .verbose_level = 1}).ok());
  absl::Status status = log.Apply({.file = "/nonexistent-dir/x.log"});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("/nonexistent-dir/x.log"));
  EXPECT_EQ(log.settings().file, path_.string());
  EXPECT_EQ(log.settings().verbose_level, 1u);
  log.Write(ServerLog::Level::kInfo, "still here");
  EXPECT_THAT(Contents(), HasSubstr("still here"));
}

TEST(LogSettingsMapTest, UpdatesByTritonsNamesAndRefusesBadOnes) {
  LogSettings settings;
  auto updated = UpdatedSettings(settings, {{"log_verbose_level", uint32_t{3}},
                                            {"log_info", false},
                                            {"log_format", std::string("ISO8601")}});
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->verbose_level, 3u);
  EXPECT_FALSE(updated->info);
  EXPECT_TRUE(updated->warning);
  EXPECT_EQ(updated->format, LogFormat::kIso8601);
  LogSettingsMap map = ToSettingsMap(*updated);
  EXPECT_EQ(map.size(), 6u);
  EXPECT_EQ(std::get<uint32_t>(map.at("log_verbose_level")), 3u);
  EXPECT_EQ(std::get<std::string>(map.at("log_format")), "ISO8601");
  EXPECT_EQ(std::get<std::string>(map.at("log_file")), "");

  auto wrong_type = UpdatedSettings(settings, {{"log_info", uint32_t{1}}});
  EXPECT_EQ(wrong_type.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(wrong_type.status().message()),
              HasSubstr("'log_info' must be a bool, got a uint32"));
  auto unknown = UpdatedSettings(settings, {{"log_colour", true}});
  EXPECT_THAT(std::string(unknown.status().message()), HasSubstr("unknown log setting"));
  auto file = UpdatedSettings(settings, {{"log_file", std::string("/tmp/elsewhere.log")}});
  EXPECT_THAT(std::string(file.status().message()), HasSubstr("command line"));
  auto format = UpdatedSettings(settings, {{"log_format", std::string("json")}});
  EXPECT_THAT(std::string(format.status().message()), HasSubstr("'json'"));
}

}  // namespace
}  // namespace sonic::server
