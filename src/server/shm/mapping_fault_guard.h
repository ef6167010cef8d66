// Keeps a client from killing the server by shrinking a registered shm object (ftruncate) while
// a request reads or writes it: touching a page of a MAP_SHARED mapping past its object's end
// raises SIGBUS. Within a guarded mapping, the SIGBUS handler maps an anonymous zero page over
// the faulting page, so the access completes (reading zeros, writing where nobody reads), and
// marks the mapping poisoned: its bytes are no longer the client's, and the region that owns it
// refuses every later use (MappingPoisoned). A SIGBUS anywhere else keeps its previous action
// (the default: the process dies).
//
// Thread-safe; the handler is async-signal-safe (a fixed table of atomics, mmap).
#pragma once

#include <cstddef>
#include <optional>

namespace sonic::server {

// Guards [start, start + size) (page-aligned start) until UnguardMapping; installs the SIGBUS
// handler on first use. The slot to pass to MappingPoisoned and UnguardMapping; none when the
// table (65,536 mappings) is full.
std::optional<size_t> GuardMapping(void* start, size_t size);

// Whether the handler replaced a page of the mapping in `slot` since it was guarded.
bool MappingPoisoned(size_t slot);

// Stops guarding; call before the mapping is unmapped.
void UnguardMapping(size_t slot);

}  // namespace sonic::server
