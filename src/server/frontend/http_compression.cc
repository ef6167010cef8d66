#include "server/frontend/http_compression.h"

#include <zlib.h>

#include "absl/strings/str_cat.h"

namespace sonic::server {
namespace {

// zlib's window bits: 15 (32 KiB window), +16 for the gzip wrapper instead of zlib's.
int WindowBits(ContentCoding coding) { return coding == ContentCoding::kGzip ? 15 + 16 : 15; }

}  // namespace

std::string_view ContentCodingName(ContentCoding coding) {
  return coding == ContentCoding::kGzip ? "gzip" : "deflate";
}

std::optional<ContentCoding> AcceptedCoding(std::string_view accept_encoding) {
  const size_t gzip = accept_encoding.find("gzip");
  const size_t deflate = accept_encoding.find("deflate");
  if (gzip == std::string_view::npos && deflate == std::string_view::npos) return std::nullopt;
  return gzip < deflate ? ContentCoding::kGzip : ContentCoding::kDeflate;
}

absl::StatusOr<std::string> Compress(std::string_view data, ContentCoding coding) {
  z_stream stream{};
  if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, WindowBits(coding), 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    return absl::InternalError("zlib deflateInit2 failed");
  }
  std::string out(deflateBound(&stream, static_cast<uLong>(data.size())), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int result = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  if (result != Z_STREAM_END) return absl::InternalError(absl::StrCat("zlib deflate: ", result));
  return out;
}

absl::StatusOr<std::string> Decompress(std::string_view data, ContentCoding coding) {
  z_stream stream{};
  if (inflateInit2(&stream, WindowBits(coding)) != Z_OK) {
    return absl::InternalError("zlib inflateInit2 failed");
  }
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buffer[16384];
  int result = Z_OK;
  while (result == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(buffer);
    stream.avail_out = sizeof(buffer);
    result = inflate(&stream, Z_NO_FLUSH);
    out.append(buffer, sizeof(buffer) - stream.avail_out);
    if (result == Z_BUF_ERROR && stream.avail_in == 0) break;
  }
  inflateEnd(&stream);
  if (result != Z_STREAM_END) {
    return absl::InvalidArgumentError(
        absl::StrCat("corrupt or truncated ", std::string(ContentCodingName(coding)), " data"));
  }
  return out;
}

}  // namespace sonic::server
