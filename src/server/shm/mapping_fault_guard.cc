#include "server/shm/mapping_fault_guard.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <mutex>

namespace sonic::server {
namespace {

constexpr size_t kSlots = 65536;

// start == 0: free. A slot is claimed by setting `claimed`, then filled (end before start), and
// released by clearing start before claimed: the handler reads start, then end.
struct Slot {
  std::atomic<bool> claimed{false};
  std::atomic<uintptr_t> start{0};
  std::atomic<uintptr_t> end{0};
  std::atomic<bool> poisoned{false};
};

Slot g_slots[kSlots];
std::atomic<uintptr_t> g_page_size{4096};
struct sigaction g_previous {};

void OnSigbus(int signal, siginfo_t* info, void* context) {
  const uintptr_t address = reinterpret_cast<uintptr_t>(info->si_addr);
  const uintptr_t page = g_page_size.load(std::memory_order_relaxed);
  for (Slot& slot : g_slots) {
    const uintptr_t start = slot.start.load(std::memory_order_acquire);
    if (start == 0 || address < start || address >= slot.end.load(std::memory_order_acquire)) {
      continue;
    }
    // The system call itself: a sanitizer's mmap interceptor need not be signal-safe.
    const long mapped = syscall(SYS_mmap, address & ~(page - 1), page, PROT_READ | PROT_WRITE,
                                MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mapped != -1) {
      slot.poisoned.store(true, std::memory_order_release);
      return;  // the access runs again, on the zero page
    }
    break;
  }
  // Not a guarded mapping: what would have happened without this handler.
  sigaction(SIGBUS, &g_previous, nullptr);
  if ((g_previous.sa_flags & SA_SIGINFO) && g_previous.sa_sigaction != nullptr) {
    g_previous.sa_sigaction(signal, info, context);
  } else if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN) {
    g_previous.sa_handler(signal);
  }
  // SIG_DFL: returning re-executes the access, which faults again and kills the process.
}

void InstallHandler() {
  g_page_size.store(static_cast<uintptr_t>(sysconf(_SC_PAGESIZE)), std::memory_order_relaxed);
  struct sigaction action {};
  action.sa_sigaction = &OnSigbus;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_SIGINFO | SA_RESTART;
  sigaction(SIGBUS, &action, &g_previous);
}

}  // namespace

std::optional<size_t> GuardMapping(void* start, size_t size) {
  static std::once_flag installed;
  std::call_once(installed, InstallHandler);
  for (size_t i = 0; i < kSlots; ++i) {
    bool expected = false;
    if (!g_slots[i].claimed.compare_exchange_strong(expected, true)) continue;
    const uintptr_t begin = reinterpret_cast<uintptr_t>(start);
    g_slots[i].poisoned.store(false, std::memory_order_relaxed);
    g_slots[i].end.store(begin + size, std::memory_order_release);
    g_slots[i].start.store(begin, std::memory_order_release);
    return i;
  }
  return std::nullopt;
}

bool MappingPoisoned(size_t slot) {
  return slot < kSlots && g_slots[slot].poisoned.load(std::memory_order_acquire);
}

void UnguardMapping(size_t slot) {
  if (slot >= kSlots) return;
  g_slots[slot].start.store(0, std::memory_order_release);
  g_slots[slot].end.store(0, std::memory_order_release);
  g_slots[slot].claimed.store(false, std::memory_order_release);
}

}  // namespace sonic::server
