#include "progress_line.h"

#include <unistd.h>

namespace sonic::tools {

void ProgressLine::Update(const std::string& text) {
  if (interactive_) {
    // Carriage return, the text, then erase what a longer previous text left.
    out_ << "\r" << text << "\x1b[K" << std::flush;
    open_ = true;
  } else {
    out_ << text << std::endl;
  }
}

void ProgressLine::Finish() {
  if (open_) out_ << std::endl;
  open_ = false;
}

bool StderrIsTerminal() { return isatty(STDERR_FILENO) == 1; }

}  // namespace sonic::tools
