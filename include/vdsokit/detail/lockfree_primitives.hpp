// The deque's building block: a 16-byte word updated by one double-width compare-and-swap.
//
// Why 16 bytes: a deque's two ends and a version counter must change together in one atomic step
// (otherwise pop_front and pop_back can both take the last element, or a stalled thread's CAS
// succeeds on a recycled state). std::atomic of 16 bytes calls libatomic, which a vDSO or a kernel
// cannot link, so the CAS is done here: `lock cmpxchg16b` in inline assembly on x86-64 (every
// x86-64 CPU since 2006 has it), `__sync_bool_compare_and_swap` elsewhere (aarch64). GCC 12 can
// inline the builtin on x86-64 too with -mcx16, but shuffles the 128-bit operands through extra
// registers: a deque push+pop measured 15.7 ns with it against 14.8 with the assembly. The builtin
// is used there only under ThreadSanitizer, which cannot see inside assembly. Readers never use a
// 16-byte load: they read the two halves with 64-bit loads and check that the half holding the
// version did not change in between (every successful CAS changes it), which is cheaper and never
// writes the cache line.
//
// Freestanding: no library calls.
#pragma once

#include <cstdint>

#include <vdsokit/detail/cpu_relax.hpp>

#if defined(__SANITIZE_THREAD__)
#define VDSOKIT_DETAIL_THREAD_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define VDSOKIT_DETAIL_THREAD_SANITIZER 1
#endif
#endif
#ifndef VDSOKIT_DETAIL_THREAD_SANITIZER
#define VDSOKIT_DETAIL_THREAD_SANITIZER 0
#endif

namespace vdsokit::detail {

// Two 64-bit halves. `high` must hold a counter that every successful CAS changes, so that
// load_validated() can detect a torn read.
struct alignas(16) lockfree_wide_word {
    std::uint64_t low = 0;
    std::uint64_t high = 0;
};

struct lockfree_wide_value {
    std::uint64_t low;
    std::uint64_t high;
};

// A consistent snapshot of both halves (spins only while a CAS lands between the two reads).
inline lockfree_wide_value load_validated(const lockfree_wide_word& word) noexcept {
    for (;;) {
        const std::uint64_t high_before = __atomic_load_n(&word.high, __ATOMIC_ACQUIRE);
        const std::uint64_t low = __atomic_load_n(&word.low, __ATOMIC_ACQUIRE);
        const std::uint64_t high_after = __atomic_load_n(&word.high, __ATOMIC_ACQUIRE);
        if (high_before == high_after) return {low, high_before};
    }
}

// Sequentially consistent (full barrier) compare-and-swap of both halves at once.
inline bool compare_exchange_wide(lockfree_wide_word& word, lockfree_wide_value expected,
                                  lockfree_wide_value desired) noexcept {
#if defined(__x86_64__) && !VDSOKIT_DETAIL_THREAD_SANITIZER
    bool swapped;
    std::uint64_t low = expected.low, high = expected.high;
    asm volatile("lock cmpxchg16b %1"
                 : "=@ccz"(swapped), "+m"(word), "+a"(low), "+d"(high)
                 : "b"(desired.low), "c"(desired.high)
                 : "memory");
    return swapped;
#elif defined(__GCC_HAVE_SYNC_COMPARE_AND_SWAP_16)
    // may_alias: the pair of uint64_t is accessed as one 128-bit object here.
    typedef unsigned __int128 wide_alias __attribute__((may_alias));
    const wide_alias old_value = (wide_alias(expected.high) << 64) | expected.low;
    const wide_alias new_value = (wide_alias(desired.high) << 64) | desired.low;
    return __sync_bool_compare_and_swap(reinterpret_cast<wide_alias*>(&word), old_value, new_value);
#elif defined(__x86_64__)
#error "vdsokit: under ThreadSanitizer the 16-byte CAS must be the builtin: compile with -mcx16"
#else
#error "vdsokit: the lock-free deque needs a 16-byte compare-and-swap the compiler can inline (x86-64, aarch64)"
#endif
}

// Asks for the cache line holding `address` in a state that can be written, ahead of a CAS on it.
// x86-64: PREFETCHW (GCC emits it only with -mprfchw; CPUs that predate it execute it as a NOP);
// aarch64: PRFM PSTL1KEEP.
inline void prefetch_for_write(const void* address) noexcept {
#if defined(__x86_64__)
    asm volatile("prefetchw %0" : : "m"(*static_cast<const char*>(address)));
#else
    __builtin_prefetch(address, 1);
#endif
}

}  // namespace vdsokit::detail
