// What a lock-free operation does after losing a CAS: wait a little before touching the contended
// cache line again, so that the winner can use it. Freestanding.
#pragma once

#include <cstdint>

#include <vdsokit/detail/cpu_relax.hpp>

namespace vdsokit::detail {

// Pauses 1, 2, 4 ... up to 16 times (bounded; waits for nobody). For loops in which every retry
// means another thread's CAS succeeded (lock-free), so a short wait is enough.
struct backoff_state {
    std::uint32_t spins = 1;
    void pause() noexcept {
        for (std::uint32_t i = 0; i < spins; ++i) cpu_relax();
        if (spins < 16) spins <<= 1;
    }
};

// Pauses 1 to 2^n times, n from 5 to 10, at random. Random, so that two operations that keep
// failing each other (an obstruction-free push and pop at one end) stop doing so. Long from the
// first wait, up to 32 pauses (0.6-0.8 us on the test VM), so that a winner finishes a few
// operations on the line it now holds before the loser takes it back: with two producers and two
// consumers, split_deque moved 1.3-1.4x the items, and mpmc_ring up to 1.8x, of a first wait of one
// pause there. Its only state is the round, which stays in a register: an operation that never
// waits pays nothing for having one (holding the random state in the object cost mpmc_ring 0.6 ns a
// push+pop, its address being taken).
struct randomized_backoff {
    std::uint32_t round = 5;
    void pause() noexcept {
        const std::uint32_t limit = 1u << (round < 10 ? round : 10);
        if (round < 10) ++round;
        const std::uint32_t pauses = 1 + (random_bits() & (limit - 1));
        for (std::uint32_t i = 0; i < pauses; ++i) cpu_relax();
    }
    // The cycle counter (which differs between processes forked with the same stacks) mixed with a
    // stack address (which differs between threads), hashed.
    static std::uint32_t random_bits() noexcept {
        const char here = 0;
        const std::uint64_t mixed = cycle_count() ^ reinterpret_cast<std::uintptr_t>(&here);
        return std::uint32_t((mixed * 0x9e3779b97f4a7c15ull) >> 32);
    }
    static std::uint64_t cycle_count() noexcept {
#if defined(__x86_64__)
        return __builtin_ia32_rdtsc();
#elif defined(__aarch64__)
        std::uint64_t ticks;
        asm volatile("mrs %0, cntvct_el0" : "=r"(ticks));
        return ticks;
#else
        return 0;
#endif
    }
};

}  // namespace vdsokit::detail
