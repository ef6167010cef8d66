// A status line that a long measurement keeps rewriting: on a terminal, one line redrawn in
// place; otherwise (a log file, a pipe) one line per update, so that logs stay readable.
// Thread-compatible: one thread updates it.
#pragma once

#include <ostream>
#include <string>

namespace sonic::tools {

class ProgressLine {
 public:
  // `out` (usually std::cerr) must outlive the line. `interactive`: redraw in place.
  ProgressLine(std::ostream& out, bool interactive) : out_(out), interactive_(interactive) {}
  // Ends a line left open.
  ~ProgressLine() { Finish(); }
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // Shows `text` as the current state.
  void Update(const std::string& text);
  // Ends the current line, so that other output starts on a fresh one.
  void Finish();

 private:
  std::ostream& out_;
  const bool interactive_;
  bool open_ = false;
};

// Whether standard error is a terminal (for `interactive`).
bool StderrIsTerminal();

}  // namespace sonic::tools
