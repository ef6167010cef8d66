// UTF-8 validity of text that ends up in protobuf `string` fields: protobuf serializes invalid
// UTF-8 there with only a log line, and clients in other languages then fail to parse the whole
// message, so such text is refused where it comes in.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace sonic {

// The offset of the first byte of `text` that does not start or continue a well-formed UTF-8
// character (overlong forms, surrogates and code points above U+10FFFF are malformed); nullopt
// when all of `text` is well-formed.
std::optional<size_t> FirstInvalidUtf8(std::string_view text);

}  // namespace sonic
