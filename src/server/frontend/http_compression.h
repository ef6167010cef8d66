// Response compression of the HTTP endpoint as Triton offers it: gzip or deflate (zlib format),
// chosen from the request's Accept-Encoding. Request bodies are decompressed by the transport.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace sonic::server {

enum class ContentCoding { kGzip, kDeflate };

// "gzip" or "deflate", as written in Content-Encoding.
std::string_view ContentCodingName(ContentCoding coding);

// The first of gzip, deflate that `accept_encoding` lists (q-values are not weighed); none when
// it lists neither.
std::optional<ContentCoding> AcceptedCoding(std::string_view accept_encoding);

// `data` compressed with zlib. INTERNAL when zlib fails (out of memory).
absl::StatusOr<std::string> Compress(std::string_view data, ContentCoding coding);

// The inverse, for tests and clients. INVALID_ARGUMENT for corrupt or truncated data.
absl::StatusOr<std::string> Decompress(std::string_view data, ContentCoding coding);

}  // namespace sonic::server
