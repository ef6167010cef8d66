// Triton's `checksum` repository agent, built in: a config's
//
//   model_repository_agents { agents [ { name: "checksum",
//     parameters { key: "MD5:<file relative to the model directory>" value: "<md5 hex>" } } ] }
//
// is verified before the model loads, so a model whose files differ from the digests its config
// lists never serves. Only MD5 exists (as in Triton's agent); keys name the algorithm case-blind.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "inference/model_config.pb.h"

namespace sonic::server {

// The MD5 digest of `data` as 32 lowercase hex digits (empty if OpenSSL offers no MD5).
std::string Md5Hex(std::string_view data);

// The MD5 digest of the file's contents, read in blocks, as 32 lowercase hex digits.
// NOT_FOUND when the file does not exist or is not a regular file (a FIFO would block);
// INTERNAL when reading fails.
absl::StatusOr<std::string> FileMd5Hex(const std::filesystem::path& file);

// Checks every agent of config.model_repository_agents. Each "checksum" parameter's file must
// exist inside `model_dir` (symlinks resolved, CheckPathInside: the config may be a load
// request's override) and have the digest given (hex, either case). Errors, prefixed with
// `context` (the model and version), FAILED_PRECONDITION or INVALID_ARGUMENT (fix the files or
// the config first):
//  - an agent other than "checksum" (this server has no other: as Triton without the agent's
//    library, the model does not load);
//  - a key without "<algorithm>:", an algorithm other than MD5, a value that is not 32 hex digits;
//  - a file outside `model_dir`, missing, or unreadable;
//  - a digest mismatch, naming the file and both digests.
// Reads every listed file in full: a load costs one pass over them.
absl::Status VerifyModelChecksums(const inference::ModelConfig& config,
                                  const std::filesystem::path& model_dir, std::string_view context);

}  // namespace sonic::server
