// Bytes on the wire, counted without touching client or server: a TCP relay on 127.0.0.1 that
// forwards every connection it accepts to a target port and counts the bytes going each way.
// What it counts is what the two ends wrote to their sockets: HTTP/2 frames with their headers,
// gRPC message framing and bodies after gRPC's compression, but not TCP/IP headers.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace sonic::bench {

// Thread-safe. Two threads per relayed connection (one per direction, so that neither end can
// stall the other) and one accepting; all stopped and joined by the destructor.
class ByteCountingRelay {
 public:
  // Listens on a free port of 127.0.0.1 and relays to 127.0.0.1:`target_port`. INTERNAL when it
  // cannot listen. A connection the target refuses is closed at once.
  static absl::StatusOr<std::unique_ptr<ByteCountingRelay>> Start(int target_port);

  // Stops accepting, closes every connection and joins its threads.
  ~ByteCountingRelay();
  ByteCountingRelay(const ByteCountingRelay&) = delete;
  ByteCountingRelay& operator=(const ByteCountingRelay&) = delete;

  // "127.0.0.1:PORT", where clients connect instead of the target.
  std::string address() const;
  // Totals since Start over every connection; read before and after a stretch to get its bytes.
  uint64_t client_to_server_bytes() const { return upstream_bytes_.load(); }
  uint64_t server_to_client_bytes() const { return downstream_bytes_.load(); }

 private:
  struct Connection {
    int client_fd;
    int server_fd;
    std::thread upstream;
    std::thread downstream;
  };

  ByteCountingRelay(int listen_fd, int port, int target_port)
      : listen_fd_(listen_fd), port_(port), target_port_(target_port) {}

  void AcceptLoop();

  const int listen_fd_;
  const int port_;
  const int target_port_;
  std::atomic<uint64_t> upstream_bytes_{0};
  std::atomic<uint64_t> downstream_bytes_{0};
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  absl::Mutex mutex_;
  std::vector<std::unique_ptr<Connection>> connections_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace sonic::bench
