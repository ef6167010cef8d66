#include "bench_report.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace sonic::bench {
namespace {

std::string JsonString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", static_cast<int>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// JSON has no NaN or infinity: those become null.
std::string JsonNumber(double value) {
  if (!std::isfinite(value)) return "null";
  return absl::StrFormat("%.6g", value);
}

std::string JsonNumber(const std::optional<double>& value) {
  return value.has_value() ? JsonNumber(*value) : "null";
}

// The first line of a command's standard output, without its newline; nullopt when the command
// fails or prints nothing.
std::optional<std::string> FirstLineOf(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return std::nullopt;
  std::string line;
  char buffer[256];
  if (fgets(buffer, sizeof(buffer), pipe) != nullptr) line = buffer;
  const int status = pclose(pipe);
  if (status != 0 || line.empty()) return std::nullopt;
  return std::string(absl::StripSuffix(line, "\n"));
}

std::string ShellQuote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The value after "key:" on the first line of `file` that starts with `key`.
std::string ProcField(const char* file, std::string_view key) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    return std::string(absl::StripAsciiWhitespace(absl::string_view(line).substr(colon + 1)));
  }
  return "";
}

std::string FigureJson(const Figure& f) {
  return absl::StrCat("{\"name\": ", JsonString(f.name), ", \"value\": ", JsonNumber(f.value),
                      ", \"unit\": ", JsonString(f.unit),
                      ", \"floor\": ", f.floor.empty() ? "null" : JsonString(f.floor),
                      ", \"floor_value\": ", JsonNumber(f.floor_value),
                      ", \"ratio\": ", JsonNumber(f.ratio), ", \"target\": ", JsonNumber(f.target),
                      ", \"higher_is_better\": ",
                      !f.target.has_value() ? "null"
                      : f.higher_is_better  ? "true"
                                            : "false",
                      ", \"result\": ", JsonString(f.Result()), "}");
}

}  // namespace

std::string Figure::Result() const {
  if (!target.has_value()) return "info";
  if (!ratio.has_value()) return "miss";
  const bool pass = higher_is_better ? *ratio >= *target : *ratio <= *target;
  return pass ? "pass" : "miss";
}

MachineFacts ReadMachineFacts() {
  MachineFacts facts;
  facts.nproc = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  facts.cpu_model = ProcField("/proc/cpuinfo", "model name");
  // "MemTotal:       24567890 kB"
  const std::string mem = ProcField("/proc/meminfo", "MemTotal");
  uint64_t kib = 0;
  if (std::istringstream(mem) >> kib) facts.memory_bytes = kib * 1024;
  utsname names;
  if (uname(&names) == 0) facts.kernel = absl::StrCat(names.sysname, " ", names.release);
  return facts;
}

std::string ReadLoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  if (!(in >> one >> five >> fifteen)) return "";
  return absl::StrCat(one, " ", five, " ", fifteen);
}

std::optional<Commit> ReadCommit(const std::filesystem::path& source_dir) {
  const std::string git = absl::StrCat("git -C ", ShellQuote(source_dir.string()), " ");
  std::optional<std::string> hash = FirstLineOf(git + "rev-parse HEAD 2>/dev/null");
  if (!hash.has_value()) return std::nullopt;
  Commit commit{*hash, false};
  commit.dirty =
      FirstLineOf(git + "status --porcelain --untracked-files=no 2>/dev/null").has_value();
  return commit;
}

void BenchReport::AddRatio(std::string name, double value, std::string unit, std::string floor,
                           double floor_value, double target, bool higher_is_better) {
  Figure figure{std::move(name), value,        std::move(unit), std::move(floor),
                floor_value,     std::nullopt, target,          higher_is_better};
  if (floor_value != 0) figure.ratio = value / floor_value;
  figures_.push_back(std::move(figure));
}

void BenchReport::AddComparison(std::string name, double value, std::string unit, std::string floor,
                                double floor_value) {
  Figure figure;
  figure.name = std::move(name);
  figure.value = value;
  figure.unit = std::move(unit);
  figure.floor = std::move(floor);
  figure.floor_value = floor_value;
  if (floor_value != 0) figure.ratio = value / floor_value;
  figures_.push_back(std::move(figure));
}

void BenchReport::AddInfo(std::string name, double value, std::string unit) {
  Figure figure;
  figure.name = std::move(name);
  figure.value = value;
  figure.unit = std::move(unit);
  figures_.push_back(std::move(figure));
}

void BenchReport::AddNote(std::string key, std::string text) {
  notes_.emplace_back(std::move(key), std::move(text));
}

void BenchReport::AddTable(std::string key, std::vector<std::pair<std::string, double>> rows) {
  tables_.emplace_back(std::move(key), std::move(rows));
}

std::string BenchReport::ToJson(const std::optional<Commit>& commit,
                                const MachineFacts& machine) const {
  std::string json = absl::StrCat(
      "{\n  \"scenario\": ", JsonString(scenario_), ",\n  \"date\": ",
      JsonString(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::Now(), absl::UTCTimeZone())),
      ",\n  \"commit\": ", commit.has_value() ? JsonString(commit->hash) : "null",
      ",\n  \"commit_dirty\": ", commit.has_value() && commit->dirty ? "true" : "false",
      ",\n  \"machine\": {\"nproc\": ", machine.nproc,
      ", \"cpu_model\": ", JsonString(machine.cpu_model),
      ", \"memory_bytes\": ", machine.memory_bytes, ", \"kernel\": ", JsonString(machine.kernel),
      "},\n  \"notes\": {");
  for (size_t i = 0; i < notes_.size(); ++i) {
    absl::StrAppend(&json, i == 0 ? "\n    " : ",\n    ", JsonString(notes_[i].first), ": ",
                    JsonString(notes_[i].second));
  }
  absl::StrAppend(&json, notes_.empty() ? "" : "\n  ", "},\n  \"tables\": {");
  for (size_t i = 0; i < tables_.size(); ++i) {
    absl::StrAppend(&json, i == 0 ? "\n    " : ",\n    ", JsonString(tables_[i].first), ": {");
    const auto& rows = tables_[i].second;
    for (size_t j = 0; j < rows.size(); ++j) {
      absl::StrAppend(&json, j == 0 ? "" : ", ", JsonString(rows[j].first), ": ",
                      JsonNumber(rows[j].second));
    }
    absl::StrAppend(&json, "}");
  }
  absl::StrAppend(&json, tables_.empty() ? "" : "\n  ", "},\n  \"figures\": [");
  for (size_t i = 0; i < figures_.size(); ++i) {
    absl::StrAppend(&json, i == 0 ? "\n    " : ",\n    ", FigureJson(figures_[i]));
  }
  absl::StrAppend(&json, figures_.empty() ? "" : "\n  ", "]\n}\n");
  return json;
}

absl::Status BenchReport::WriteJson(const std::filesystem::path& dir,
                                    const std::optional<Commit>& commit,
                                    const MachineFacts& machine) const {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  const std::filesystem::path file = dir / absl::StrCat(scenario_, ".json");
  std::ofstream out(file, std::ios::trunc);
  out << ToJson(commit, machine);
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", file.string()));
  return absl::OkStatus();
}

void BenchReport::PrintSummary(std::ostream& out) const {
  out << absl::StrFormat("%-44s %14s %-10s %14s %8s %8s  %s\n", scenario_, "value", "unit", "floor",
                         "ratio", "target", "result");
  for (const Figure& f : figures_) {
    const std::string target =
        f.target.has_value()
            ? absl::StrFormat("%s%.2f", f.higher_is_better ? ">=" : "<=", *f.target)
            : "";
    out << absl::StrFormat("  %-42s %14.4g %-10s %14s %8s %8s  %s\n", f.name, f.value, f.unit,
                           f.floor_value.has_value() ? absl::StrFormat("%.4g", *f.floor_value) : "",
                           f.ratio.has_value() ? absl::StrFormat("%.3f", *f.ratio) : "", target,
                           f.Result());
  }
}

bool BenchReport::AllTargetsMet() const {
  for (const Figure& f : figures_) {
    if (f.Result() == "miss") return false;
  }
  return true;
}

}  // namespace sonic::bench
