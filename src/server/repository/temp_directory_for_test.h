// A uniquely named directory under the system temporary directory, removed with its contents
// when the object goes out of scope. For tests only.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace sonic::server {

class TempDirectoryForTest {
 public:
  TempDirectoryForTest() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("sonic_repository_test_" + std::to_string(::getpid()) + "_" +
             std::to_string(counter.fetch_add(1)));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDirectoryForTest() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDirectoryForTest(const TempDirectoryForTest&) = delete;
  TempDirectoryForTest& operator=(const TempDirectoryForTest&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // Writes `contents` to `relative` (creating parent directories) and returns the full path.
  std::filesystem::path WriteFile(const std::filesystem::path& relative,
                                  std::string_view contents) const {
    const std::filesystem::path file = path_ / relative;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary | std::ios::trunc) << contents;
    return file;
  }

  std::filesystem::path MakeDirectory(const std::filesystem::path& relative) const {
    std::filesystem::create_directories(path_ / relative);
    return path_ / relative;
  }

 private:
  std::filesystem::path path_;
};

}  // namespace sonic::server
