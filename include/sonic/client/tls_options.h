// Transport security of a connection to a server, as PEM file names. Used by TritonClient's
// options, the service's server list and the command-line tools.
#pragma once

#include <string>

namespace sonic::client {

// Files are PEM, read when a channel is made (a missing file is an INVALID_ARGUMENT error).
struct TlsOptions {
  bool enabled = false;
  std::string root_certificates_file;  // empty: the system's trust store
  std::string private_key_file;        // with certificate_chain_file: mutual TLS
  std::string certificate_chain_file;
  bool operator==(const TlsOptions&) const = default;
};

}  // namespace sonic::client
