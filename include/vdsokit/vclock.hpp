// The time page of vdsokit's Linux-compatible vDSO (examples/vclock), and the kernel's side of it.
//
// A kernel (or vdsokit-exec, which plays one) puts a `vclock::time_page` at the start of the vVAR
// region it maps below the vclock image, then keeps it current with the updaters below. The vDSO
// reads the same struct with Linux's `vdso_read_begin` / `vdso_read_retry` protocol: one sequence
// counter guards every clock, so a reader never sees seconds from one update and nanoseconds from
// another.
//
// Each served clock is a straight line in the cycle counter (rdtsc on x86-64):
//
//     now = seconds + ((shifted_nanoseconds + (cycles - cycles_ref) * mult) >> shift) nanoseconds
//
// The base nanoseconds are kept shifted left by `shift`, as Linux keeps `xtime_nsec`, so that
// `advance()` can move the base to a later cycle count without dropping the sub-nanosecond part:
// a reader that straddles the update sees the same line before and after, never a 1 ns step back.
// The vDSO multiplies in 128 bits, so an image with no periodic `advance()` stays correct (only
// the coarse clocks, which return the base as Linux's do, then stand still).
//
// A value-initialised page falls back to the system call for every clock: mode 0 is `syscall`.
//
// Single writer: the updaters are not safe against each other; serialise them (one tick handler).
// Freestanding: no heap, exceptions, RTTI, libc or 128-bit division.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include <vdsokit/seqlock.hpp>

namespace vdsokit::vclock {

// Linux clock ids (include/uapi/linux/time.h); the page has a slot for ids below `clock_slots`.
enum clock_id : std::uint32_t {
    clock_realtime = 0,
    clock_monotonic = 1,
    clock_process_cputime = 2,
    clock_thread_cputime = 3,
    clock_monotonic_raw = 4,
    clock_realtime_coarse = 5,
    clock_monotonic_coarse = 6,
    clock_boottime = 7,
    clock_tai = 11,
};
inline constexpr std::uint32_t clock_slots = 8;

// How the vDSO answers for one clock.
enum class clock_mode : std::uint32_t {
    syscall = 0,  // make the real system call (unset slots, clocks the kernel cannot export)
    counter = 1,  // base + scaled cycle-counter delta (CLOCK_REALTIME, _MONOTONIC, ...)
    coarse = 2,   // the base alone, as of the last advance() (the *_COARSE clocks)
};

// How __vdso_getcpu finds the current CPU; the value is (node << 12) | cpu, as Linux encodes it.
enum class cpu_mode : std::uint32_t {
    syscall = 0,
    rdpid = 1,          // RDPID reads IA32_TSC_AUX, which the kernel sets per CPU
    segment_limit = 2,  // LSL on `cpu_segment`, a GDT entry whose limit the kernel sets per CPU
};

// Linux's user ABI structs, spelled out so neither side needs libc headers.
struct kernel_timespec {
    std::int64_t tv_sec;
    std::int64_t tv_nsec;
};
struct kernel_timeval {
    std::int64_t tv_sec;
    std::int64_t tv_usec;
};
struct kernel_timezone {
    std::int32_t tz_minuteswest;
    std::int32_t tz_dsttime;
};

// One clock. Data words are relaxed atomics: the seqcount, not the words, orders them.
struct clock_data {
    std::atomic<std::uint64_t> seconds;
    std::atomic<std::uint64_t> shifted_nanoseconds;  // nanoseconds << shift, below 10^9 << shift
    std::atomic<std::uint64_t> cycles_ref;           // counter value at which the base was true
    std::atomic<std::uint32_t> mult;                 // nanoseconds per cycle, times 2^shift
    std::atomic<std::uint32_t> shift;
    std::atomic<std::uint32_t> mode;                 // clock_mode
    std::atomic<std::uint32_t> reserved;
};

// The vVAR struct shared by the vDSO and the kernel: it starts the vVAR region.
struct time_page {
    seqcount sequence;
    std::atomic<std::uint32_t> cpu_mode;     // vclock::cpu_mode
    std::atomic<std::uint32_t> cpu_segment;  // selector for cpu_mode::segment_limit (Linux: 0x7b)
    std::atomic<std::int32_t> tz_minuteswest;
    std::atomic<std::int32_t> tz_dsttime;
    std::atomic<std::uint32_t> reserved;
    std::array<clock_data, clock_slots> clocks;
};

// A cycle-counter-to-nanoseconds scale: ns = (cycles * mult) >> shift.
struct counter_scale {
    std::uint32_t mult;
    std::uint32_t shift;
};

// The most precise scale for a counter running at `hertz` (>= 1): the largest shift <= 32 whose
// mult still fits 32 bits. 10^9 << 32 fits 64 bits, so no 128-bit division is needed.
constexpr counter_scale scale_for_frequency(std::uint64_t hertz) noexcept {
    for (std::uint32_t shift = 32;; --shift) {
        const std::uint64_t mult = (1'000'000'000ull << shift) / hertz;
        if (mult <= 0xffffffffull || shift == 0)
            return {static_cast<std::uint32_t>(mult > 0xffffffffull ? 0xffffffffull : mult), shift};
    }
}

namespace detail {

inline constexpr std::uint64_t nanoseconds_per_second = 1'000'000'000ull;

inline void store(std::atomic<std::uint64_t>& word, std::uint64_t value) noexcept {
    word.store(value, std::memory_order_relaxed);
}
inline void store(std::atomic<std::uint32_t>& word, std::uint32_t value) noexcept {
    word.store(value, std::memory_order_relaxed);
}

// The clock's value at `cycles` as whole seconds + shifted nanoseconds (normalised). Kernel side
// only: it divides, which the vDSO avoids in its common path.
inline void rebase(clock_data& clock, std::uint64_t cycles) noexcept {
    const std::uint64_t ref = clock.cycles_ref.load(std::memory_order_relaxed);
    const std::uint64_t delta = cycles > ref ? cycles - ref : 0;
    const std::uint32_t shift = clock.shift.load(std::memory_order_relaxed);
    const unsigned __int128 shifted =
        static_cast<unsigned __int128>(delta) * clock.mult.load(std::memory_order_relaxed) +
        clock.shifted_nanoseconds.load(std::memory_order_relaxed);
    const std::uint64_t nanoseconds = static_cast<std::uint64_t>(shifted >> shift);
    const std::uint64_t remainder = static_cast<std::uint64_t>(shifted) & ((1ull << shift) - 1);
    store(clock.seconds, clock.seconds.load(std::memory_order_relaxed) + nanoseconds / nanoseconds_per_second);
    store(clock.shifted_nanoseconds, ((nanoseconds % nanoseconds_per_second) << shift) | remainder);
    store(clock.cycles_ref, cycles);
}

}  // namespace detail

// Runs `write(page)` as one update: readers see all of it or none of it.
template <class Write>
void update(time_page& page, Write&& write) noexcept {
    page.sequence.write_begin();
    write(page);
    page.sequence.write_end();
}

// Sets one clock's line: it reads `seconds`.`nanoseconds` when the counter reads `cycles_ref`, and
// advances by (cycles * mult) >> shift nanoseconds. `mult = 0` freezes it at that value.
inline void set_clock(time_page& page, std::uint32_t clock, std::uint64_t seconds, std::uint64_t nanoseconds,
                      std::uint64_t cycles_ref, std::uint32_t mult, std::uint32_t shift,
                      clock_mode mode = clock_mode::counter) noexcept {
    if (clock >= clock_slots || shift > 32) return;
    seconds += nanoseconds / detail::nanoseconds_per_second;
    nanoseconds %= detail::nanoseconds_per_second;
    update(page, [&](time_page& p) {
        clock_data& c = p.clocks[clock];
        detail::store(c.seconds, seconds);
        detail::store(c.shifted_nanoseconds, nanoseconds << shift);
        detail::store(c.cycles_ref, cycles_ref);
        detail::store(c.mult, mult);
        detail::store(c.shift, shift);
        detail::store(c.mode, static_cast<std::uint32_t>(mode));
    });
}

inline void set_mode(time_page& page, std::uint32_t clock, clock_mode mode) noexcept {
    if (clock >= clock_slots) return;
    update(page, [&](time_page& p) { detail::store(p.clocks[clock].mode, static_cast<std::uint32_t>(mode)); });
}

// E.g. set_all_modes(page, clock_mode::syscall) while the counter is unusable (migration, suspend).
inline void set_all_modes(time_page& page, clock_mode mode) noexcept {
    update(page, [&](time_page& p) {
        for (clock_data& c : p.clocks) detail::store(c.mode, static_cast<std::uint32_t>(mode));
    });
}

// The timer tick: moves every clock's base to `cycles` without changing its line, so the coarse
// clocks advance and the precise ones keep small deltas. Call it from one place only.
inline void advance(time_page& page, std::uint64_t cycles) noexcept {
    update(page, [&](time_page& p) {
        for (clock_data& c : p.clocks)
            if (c.mode.load(std::memory_order_relaxed) != static_cast<std::uint32_t>(clock_mode::syscall))
                detail::rebase(c, cycles);
    });
}

inline void set_timezone(time_page& page, std::int32_t minutes_west, std::int32_t dst_time) noexcept {
    update(page, [&](time_page& p) {
        p.tz_minuteswest.store(minutes_west, std::memory_order_relaxed);
        p.tz_dsttime.store(dst_time, std::memory_order_relaxed);
    });
}

inline void set_cpu_mode(time_page& page, cpu_mode mode, std::uint32_t segment_selector = 0) noexcept {
    update(page, [&](time_page& p) {
        detail::store(p.cpu_mode, static_cast<std::uint32_t>(mode));
        detail::store(p.cpu_segment, segment_selector);
    });
}

// The cycle counter the vDSO reads, for kernels and harnesses that set cycles_ref. The lfence
// keeps rdtsc from running ahead of earlier loads (Linux's rdtsc_ordered).
inline std::uint64_t read_cycles() noexcept {
#if defined(__x86_64__)
    std::uint32_t low, high;
    asm volatile("lfence\n\trdtsc" : "=a"(low), "=d"(high)::"memory");
    return (static_cast<std::uint64_t>(high) << 32) | low;
#elif defined(__aarch64__)
    std::uint64_t value;
    asm volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(value)::"memory");
    return value;
#elif defined(__riscv)
    std::uint64_t value;
    asm volatile("rdtime %0" : "=r"(value)::"memory");
    return value;
#endif
}

}  // namespace vdsokit::vclock
