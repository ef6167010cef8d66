// sonic_make_test_repository --out DIR: writes the integration tests' model repository (see
// test_models.h) into DIR.
#include <cstdio>
#include <string>
#include <string_view>

#include "test_models.h"

int main(int argc, char** argv) {
  std::string out;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--out" && i + 1 < argc) {
      out = argv[++i];
    } else if (arg.starts_with("--out=")) {
      out = std::string(arg.substr(6));
    } else {
      std::fprintf(stderr, "usage: %s --out DIR\n", argv[0]);
      return 2;
    }
  }
  if (out.empty()) {
    std::fprintf(stderr, "usage: %s --out DIR\n", argv[0]);
    return 2;
  }
  absl::Status status = sonic::testing::WriteTestRepository(out);
  if (!status.ok()) {
    std::fprintf(stderr, "sonic_make_test_repository: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
