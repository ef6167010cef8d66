#include "gnuplot.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

extern char** environ;

namespace sonic::tools {
namespace {

std::string Tail(const std::filesystem::path& log, size_t bytes = 2000) {
  std::ifstream in(log, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  const std::string all = text.str();
  return all.size() <= bytes ? all : all.substr(all.size() - bytes);
}

}  // namespace

std::filesystem::path FindGnuplot() {
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path == nullptr ? "/usr/bin" : path, ':')) {
    std::filesystem::path candidate = std::filesystem::path(std::string(dir)) / "gnuplot";
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

std::string GnuplotQuoted(const std::string& text) {
  return absl::StrCat("\"", absl::StrReplaceAll(text, {{"\"", "'"}}), "\"");
}

std::string GnuplotPreamble(const std::filesystem::path& png, const std::string& title) {
  return absl::StrCat(
      "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
      "  set terminal pngcairo size 900,600\n"
      "} else {\n"
      "  set terminal png size 900,600\n"
      "}\n"
      "set termoption noenhanced\n",
      "set output ", GnuplotQuoted(png.string()), "\n", "set title ", GnuplotQuoted(title), "\n");
}

absl::Status RunGnuplot(const std::string& script, const std::filesystem::path& png) {
  const std::filesystem::path gnuplot = FindGnuplot();
  if (gnuplot.empty()) {
    return absl::UnavailableError("gnuplot is not installed (apt-get install gnuplot-nox)");
  }
  std::filesystem::path script_file = png;
  script_file.replace_extension(".gp");
  std::filesystem::path log = png;
  log.replace_extension(".gnuplot.log");
  {
    std::ofstream out(script_file);
    out << script;
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", script_file.string()));
  }
  std::error_code ignored;
  std::filesystem::remove(png, ignored);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  const std::string program = gnuplot.string(), argument = script_file.string();
  char* argv[] = {const_cast<char*>(program.c_str()), const_cast<char*>(argument.c_str()), nullptr};
  pid_t pid = 0;
  const int error = posix_spawn(&pid, argv[0], &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) {
    return absl::InternalError(absl::StrCat("cannot start ", program, ": ", strerror(error)));
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (absl::Now() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return absl::InternalError(absl::StrCat("gnuplot did not finish in 60 s: ", Tail(log)));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !std::filesystem::exists(png)) {
    return absl::InternalError(absl::StrCat("gnuplot failed: ", Tail(log)));
  }
  return absl::OkStatus();
}

}  // namespace sonic::tools
