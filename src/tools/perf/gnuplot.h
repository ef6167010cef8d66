// Drawing PNG plots with gnuplot (the Debian package gnuplot-nox), shared by `sonic scan`'s
// saturation plot and `sonic perf`'s batch-size plot. Thread-compatible.
#pragma once

#include <filesystem>
#include <string>

#include "absl/status/status.h"

namespace sonic::tools {

// gnuplot's path from $PATH; empty when it is not installed.
std::filesystem::path FindGnuplot();

// The lines that start every script: a 900x600 PNG (pngcairo where gnuplot has it) written to
// `png`, text taken literally (no enhanced-text markup), the title.
std::string GnuplotPreamble(const std::filesystem::path& png, const std::string& title);

// `text` as a gnuplot string (double quotes in it become single ones, which would end it).
std::string GnuplotQuoted(const std::string& text);

// Writes `script` beside `png` (same name, .gp) and runs gnuplot on it (at most 60 s; its output
// in <png>.gnuplot.log). UNAVAILABLE when gnuplot is not installed; INTERNAL with gnuplot's
// output when it fails or writes no `png`.
absl::Status RunGnuplot(const std::string& script, const std::filesystem::path& png);

}  // namespace sonic::tools
