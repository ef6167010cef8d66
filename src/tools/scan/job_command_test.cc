#include "job_command.h"

#include <gtest/gtest.h>

#include <fstream>

#include "absl/strings/str_cat.h"

namespace sonic::tools {
namespace {

TEST(JobCommandTest, PlaceholdersAreReplacedInEveryArgument) {
  std::vector<std::string> command = ExpandJobCommand(
      {"sonic", "run", "--threads", "{threads}", "--report={report}", "{jobs}{job}"},
      {{"{threads}", "4"}, {"{report}", "/w/K2_job1.json"}, {"{jobs}", "2"}, {"{job}", "1"}});
  EXPECT_EQ(command, (std::vector<std::string>{"sonic", "run", "--threads", "4",
                                               "--report=/w/K2_job1.json", "21"}));
  EXPECT_EQ(ShellJobCommand("a b"), (std::vector<std::string>{"/bin/sh", "-c", "a b"}));
}

TEST(JobCommandTest, JobsRunTogetherAndReportTheirExitStatus) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path();
  const std::string log = (dir / absl::StrCat("job_command_test_", getpid(), ".log")).string();
  absl::StatusOr<std::vector<int>> codes =
      RunJobs({{ShellJobCommand("echo hello; exit 0"), log},
               {ShellJobCommand("exit 3"), log + "2"},
               {ShellJobCommand("sleep 30"), log + "3"}},
              absl::Now() + absl::Seconds(2));
  ASSERT_TRUE(codes.ok()) << codes.status();
  EXPECT_EQ(*codes, (std::vector<int>{0, 3, 128 + 9}));  // the sleeper was killed
  EXPECT_EQ(LogTail(log), "hello\n");
  EXPECT_FALSE(RunJobs({{{"/nonexistent/binary"}, log}}, absl::Now() + absl::Seconds(5)).ok());
  for (const char* suffix : {"", "2", "3"}) std::filesystem::remove(log + suffix);
}

}  // namespace
}  // namespace sonic::tools
