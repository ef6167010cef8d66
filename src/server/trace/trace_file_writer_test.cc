#include "server/trace/trace_file_writer.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "nlohmann/json.hpp"
#include "server/trace/trace.h"

namespace sonic::server {
namespace {

std::filesystem::path MakeTempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "trace_writer_XXXXXX").string();
  EXPECT_NE(mkdtemp(pattern.data()), nullptr);
  return pattern;
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class CollectingSink final : public TraceSink {
 public:
  void Collect(std::string json_objects) override { collected.push_back(std::move(json_objects)); }
  std::vector<std::string> collected;
};

TEST(TraceTest, SerializesTritonsLayoutWhenReleased) {
  auto sink = std::make_shared<CollectingSink>();
  {
    Trace trace(7, "simple", sink);
    trace.Record(kTraceGrpcWaitReadStart, 5);
    trace.SetRequest(3, "req-\"1\"");
    trace.Record(kTraceRequestStart, 10);
    trace.Record(kTraceQueueStart, 11);
    EXPECT_TRUE(sink->collected.empty());
  }
  ASSERT_EQ(sink->collected.size(), 1u);
  EXPECT_EQ(sink->collected[0],
            "{\"id\":7,\"timestamps\":[{\"name\":\"GRPC_WAITREAD_START\",\"ns\":5}]},"
            "{\"id\":7,\"model_name\":\"simple\",\"model_version\":3,"
            "\"request_id\":\"req-\\\"1\\\"\"},"
            "{\"id\":7,\"timestamps\":[{\"name\":\"REQUEST_START\",\"ns\":10}]},"
            "{\"id\":7,\"timestamps\":[{\"name\":\"QUEUE_START\",\"ns\":11}]}");
  // And it is valid JSON once in an array.
  const auto parsed = nlohmann::json::parse("[" + sink->collected[0] + "]");
  EXPECT_EQ(parsed[1]["request_id"], "req-\"1\"");
}

TEST(TraceTest, OmitsAnEmptyRequestId) {
  auto sink = std::make_shared<CollectingSink>();
  {
    Trace trace(1, "m", sink);
    trace.SetRequest(1, "");
    trace.Record(kTraceRequestStart, 1);
  }
  EXPECT_EQ(sink->collected[0].find("request_id"), std::string::npos);
}

TEST(TraceFileWriterTest, MainFileIsOneArrayClosedAtDestruction) {
  const auto dir = MakeTempDir();
  const auto path = dir / "trace.json";
  {
    TraceFileWriter writer(path.string());
    EXPECT_FALSE(std::filesystem::exists(path));  // created at the first write
    writer.WriteMain("{\"id\":1}");
    writer.WriteMain("{\"id\":2},{\"id\":3}");
    EXPECT_EQ(ReadFile(path), "[{\"id\":1},{\"id\":2},{\"id\":3}");
  }
  EXPECT_EQ(ReadFile(path), "[{\"id\":1},{\"id\":2},{\"id\":3}]");
  EXPECT_EQ(nlohmann::json::parse(ReadFile(path)).size(), 3u);
  std::filesystem::remove_all(dir);
}

TEST(TraceFileWriterTest, IndexedFilesCountFromZero) {
  const auto dir = MakeTempDir();
  const auto path = dir / "trace.json";
  {
    TraceFileWriter writer(path.string());
    writer.WriteIndexed("{\"id\":1},{\"id\":2}");
    writer.WriteIndexed("{\"id\":3}");
    writer.WriteIndexed("");  // nothing to write: no file
  }
  EXPECT_EQ(ReadFile(dir / "trace.json.0"), "[{\"id\":1},{\"id\":2}]");
  EXPECT_EQ(ReadFile(dir / "trace.json.1"), "[{\"id\":3}]");
  EXPECT_FALSE(std::filesystem::exists(dir / "trace.json.2"));
  EXPECT_FALSE(std::filesystem::exists(path));  // never written to: never created
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sonic::server
