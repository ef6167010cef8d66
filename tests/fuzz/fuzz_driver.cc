// The driver of the fuzz targets in builds without libFuzzer (GCC; the ASan build): runs a
// target's LLVMFuzzerTestOneInput on every file of its seed corpus, then on inputs mutated from
// them (bit flips, interesting bytes, erased, inserted and repeated ranges, splices of two
// inputs), drawn from a fixed seed so that a failure repeats. It has no coverage feedback: that
// is libFuzzer's, in `make fuzz`. This is the short run of each target in `make test`.
//
//   <target> [--runs=N] [--max-seconds=S] [--seed=N] PATH...
// PATH: a corpus directory or an input file. Exits 0 when every run returned. When a run
// crashes (a signal, or a sanitizer's report), the input is first written to
// ./crash-<target>-<run> and its name printed, so `<target> crash-...` repeats it.
#include <signal.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);
extern "C" __attribute__((weak)) void __sanitizer_set_death_callback(void (*callback)(void));

namespace {

// The input being run, for the crash handlers (which may only make async-signal-safe calls).
const std::string* current_input = nullptr;
char crash_path[256] = {};

void WriteCurrentInput() {
  if (current_input == nullptr) return;
  const int fd = open(crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return;
  size_t written = 0;
  while (written < current_input->size()) {
    const ssize_t n = write(fd, current_input->data() + written, current_input->size() - written);
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  close(fd);
  constexpr char kSaved[] = "\nfuzz: the crashing input is saved as ";
  (void)!write(STDERR_FILENO, kSaved, sizeof(kSaved) - 1);
  (void)!write(STDERR_FILENO, crash_path, strlen(crash_path));
  (void)!write(STDERR_FILENO, "\n", 1);
}

void OnFatalSignal(int signal_number) {
  WriteCurrentInput();
  ::signal(signal_number, SIG_DFL);
  ::raise(signal_number);
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class Mutator {
 public:
  explicit Mutator(uint64_t seed) : random_(seed) {}

  std::string Mutate(const std::vector<std::string>& corpus) {
    std::string input = corpus[Below(corpus.size())];
    const size_t mutations = 1 + Below(4);
    for (size_t i = 0; i < mutations; ++i) MutateOnce(input, corpus);
    return input;
  }

 private:
  size_t Below(size_t n) { return n == 0 ? 0 : std::uniform_int_distribution<size_t>(0, n - 1)(random_); }

  void MutateOnce(std::string& input, const std::vector<std::string>& corpus) {
    static constexpr uint8_t kInteresting[] = {0, 1, 0x7f, 0x80, 0xff, 0xfe, 0x40, 0x20, '0', '-', '"', '{', '['};
    switch (Below(input.empty() ? 2 : 7)) {
      case 0: {  // insert random bytes
        const size_t n = 1 + Below(8);
        std::string bytes;
        for (size_t i = 0; i < n; ++i) bytes.push_back(static_cast<char>(Below(256)));
        input.insert(Below(input.size() + 1), bytes);
        break;
      }
      case 1: {  // splice: a piece of another input
        const std::string& other = corpus[Below(corpus.size())];
        if (other.empty()) break;
        const size_t from = Below(other.size());
        const size_t n = 1 + Below(other.size() - from);
        input.insert(Below(input.size() + 1), other, from, n);
        break;
      }
      case 2:  // flip a bit
        input[Below(input.size())] ^= static_cast<char>(1u << Below(8));
        break;
      case 3:  // an interesting byte
        input[Below(input.size())] = static_cast<char>(kInteresting[Below(sizeof(kInteresting))]);
        break;
      case 4: {  // erase a range
        const size_t from = Below(input.size());
        input.erase(from, 1 + Below(std::min<size_t>(input.size() - from, 16)));
        break;
      }
      case 5: {  // repeat a range
        const size_t from = Below(input.size());
        const size_t n = 1 + Below(std::min<size_t>(input.size() - from, 16));
        input.insert(from, input.substr(from, n));
        break;
      }
      default:  // truncate
        input.resize(Below(input.size()));
        break;
    }
  }

  std::mt19937_64 random_;
};

}  // namespace

int main(int argc, char** argv) {
  if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);
  const std::string target = std::filesystem::path(argv[0]).filename().string();
  uint64_t runs = 2000;
  double max_seconds = 10;
  uint64_t seed = 1;
  std::vector<std::string> corpus;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with("--runs=")) {
      runs = std::stoull(std::string(arg.substr(7)));
    } else if (arg.starts_with("--max-seconds=")) {
      max_seconds = std::stod(std::string(arg.substr(14)));
    } else if (arg.starts_with("--seed=")) {
      seed = std::stoull(std::string(arg.substr(7)));
    } else if (std::filesystem::is_directory(arg)) {
      for (const auto& entry : std::filesystem::directory_iterator(arg)) {
        if (entry.is_regular_file()) corpus.push_back(ReadFile(entry.path()));
      }
    } else if (std::filesystem::is_regular_file(arg)) {
      corpus.push_back(ReadFile(arg));
    } else {
      std::cerr << target << ": no such corpus directory or input file: " << arg << "\n";
      return 2;
    }
  }
  if (corpus.empty()) corpus.emplace_back();

  for (int signal_number : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) {
    ::signal(signal_number, OnFatalSignal);
  }
  if (__sanitizer_set_death_callback != nullptr) __sanitizer_set_death_callback(WriteCurrentInput);

  const auto start = std::chrono::steady_clock::now();
  uint64_t run = 0;
  auto run_one = [&](const std::string& input) {
    std::snprintf(crash_path, sizeof(crash_path), "crash-%s-%llu", target.c_str(),
                  static_cast<unsigned long long>(run));
    current_input = &input;
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
    current_input = nullptr;
    ++run;
  };
  for (const std::string& input : corpus) run_one(input);
  const size_t corpus_runs = run;
  Mutator mutator(seed);
  while (run < corpus_runs + runs &&
         std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() <
             max_seconds) {
    run_one(mutator.Mutate(corpus));
  }
  std::cout << target << ": " << corpus_runs << " corpus inputs and " << run - corpus_runs
            << " mutated inputs (seed " << seed << "), none crashed\n";
  return 0;
}
