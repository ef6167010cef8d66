// TLS material for tests, made at test time with the openssl command line (no key material is
// checked in). Stateless; safe to call from any thread for different directories.
#pragma once

#include <filesystem>

#include "absl/status/status.h"

namespace sonic::testing {

// Writes into `dir` (which must exist), all PEM:
//  - ca.crt / ca.key: a CA;
//  - server.crt / server.key: signed by ca, for IP 127.0.0.1 and DNS localhost (serverAuth);
//  - client.crt / client.key: signed by ca (clientAuth);
//  - other_ca.crt and other_client.crt / other_client.key: an unrelated CA and a client it signs.
// INTERNAL with openssl's output when a step fails (e.g. no openssl binary).
absl::Status MakeTestCertificates(const std::filesystem::path& dir);

}  // namespace sonic::testing
