// The vclock vDSO: Linux's x86-64 vDSO ABI over the time page of include/vdsokit/vclock.hpp.
//
// Read path, as Linux's lib/vdso/gettimeofday.c: copy the clock's words between
// read_begin/read_retry, then scale after the loop, so a retry only repeats the copy. Anything the
// page does not serve (an unset slot, mode syscall, a clock id without a slot) is the real system
// call, whose result the libc gets unchanged.
#include <vdsokit/detail/syscall.hpp>
#include <vdsokit/vdso.hpp>

#include "api.hpp"
#include "shared.hpp"

namespace {

namespace vclock = vdsokit::vclock;
using vdsokit::detail::raw_syscall;
using vdsokit::detail::syscall_numbers;

constexpr std::uint64_t nanoseconds_per_second = 1'000'000'000ull;

struct clock_snapshot {
    std::uint64_t seconds, shifted_nanoseconds, cycles_ref, cycles;
    std::uint32_t mult, shift, mode;
};

// False if the clock has no slot or is not served from the page.
[[gnu::always_inline]] inline bool read_clock(std::uint32_t clock, vclock::kernel_timespec& out) noexcept {
    if (clock >= vclock::clock_slots) return false;
    const vclock::clock_data& data = vclock_time_page.clocks[clock];
    clock_snapshot s;
    std::uint32_t start;
    do {
        start = vclock_time_page.sequence.read_begin();
        s.mode = data.mode.load(std::memory_order_relaxed);
        if (s.mode == static_cast<std::uint32_t>(vclock::clock_mode::syscall)) return false;
        s.seconds = data.seconds.load(std::memory_order_relaxed);
        s.shifted_nanoseconds = data.shifted_nanoseconds.load(std::memory_order_relaxed);
        s.shift = data.shift.load(std::memory_order_relaxed);
        if (s.mode == static_cast<std::uint32_t>(vclock::clock_mode::counter)) {
            s.cycles_ref = data.cycles_ref.load(std::memory_order_relaxed);
            s.mult = data.mult.load(std::memory_order_relaxed);
            // Read inside the loop: the counter must belong to the same base as cycles_ref.
            s.cycles = vclock::read_cycles();
        } else {
            s.cycles_ref = s.cycles = 0;
            s.mult = 0;
        }
    } while (vclock_time_page.sequence.read_retry(start));

    // After the loop: a torn copy never reaches this point, so the scaling runs once. A counter
    // read slightly behind cycles_ref (another CPU's TSC) counts as no time, as in Linux.
    const std::uint64_t delta = s.cycles > s.cycles_ref ? s.cycles - s.cycles_ref : 0;
    const unsigned __int128 shifted =
        static_cast<unsigned __int128>(delta) * s.mult + s.shifted_nanoseconds;
    std::uint64_t nanoseconds = static_cast<std::uint64_t>(shifted >> s.shift);
    std::uint64_t seconds = s.seconds;
    // The base is advanced every tick, so this is usually 0 or 1 subtraction; a page nobody
    // advances can be far ahead, and then one division is cheaper than the loop.
    if (nanoseconds >= 4 * nanoseconds_per_second) {
        seconds += nanoseconds / nanoseconds_per_second;
        nanoseconds %= nanoseconds_per_second;
    }
    while (nanoseconds >= nanoseconds_per_second) {
        nanoseconds -= nanoseconds_per_second;
        ++seconds;
    }
    out.tv_sec = static_cast<std::int64_t>(seconds);
    out.tv_nsec = static_cast<std::int64_t>(nanoseconds);
    return true;
}

}  // namespace

extern "C" int __vdso_clock_gettime(int clock_id, vclock::kernel_timespec* time) noexcept {
    if (clock_id >= 0 && read_clock(static_cast<std::uint32_t>(clock_id), *time)) return 0;
    return static_cast<int>(raw_syscall(syscall_numbers::clock_gettime, clock_id, reinterpret_cast<long>(time)));
}

extern "C" int __vdso_gettimeofday(vclock::kernel_timeval* time, vclock::kernel_timezone* zone) noexcept {
    vclock::kernel_timespec now;
    if (time != nullptr) {
        if (!read_clock(vclock::clock_realtime, now))
            return static_cast<int>(raw_syscall(syscall_numbers::gettimeofday, reinterpret_cast<long>(time),
                                                reinterpret_cast<long>(zone)));
        time->tv_sec = now.tv_sec;
        time->tv_usec = now.tv_nsec / 1000;
    }
    if (zone != nullptr) {
        std::uint32_t start;
        do {
            start = vclock_time_page.sequence.read_begin();
            zone->tz_minuteswest = vclock_time_page.tz_minuteswest.load(std::memory_order_relaxed);
            zone->tz_dsttime = vclock_time_page.tz_dsttime.load(std::memory_order_relaxed);
        } while (vclock_time_page.sequence.read_retry(start));
    }
    return 0;
}

extern "C" long __vdso_time(long* seconds) noexcept {
    vclock::kernel_timespec now;
    if (!read_clock(vclock::clock_realtime, now))
        return raw_syscall(syscall_numbers::time, reinterpret_cast<long>(seconds));
    if (seconds != nullptr) *seconds = now.tv_sec;
    return now.tv_sec;
}

extern "C" long __vdso_getcpu(unsigned* cpu, unsigned* node, void* unused) noexcept {
    const auto mode = static_cast<vclock::cpu_mode>(vclock_time_page.cpu_mode.load(std::memory_order_relaxed));
    std::uint64_t encoded = 0;  // (node << 12) | cpu; LSL leaves it alone on a bad selector
    if (mode == vclock::cpu_mode::rdpid) {
        asm volatile("rdpid %0" : "=r"(encoded));
    } else if (mode == vclock::cpu_mode::segment_limit) {
        const std::uint64_t selector = vclock_time_page.cpu_segment.load(std::memory_order_relaxed);
        asm volatile("lsl %1, %0" : "+r"(encoded) : "r"(selector));
    } else {
        return raw_syscall(syscall_numbers::getcpu, reinterpret_cast<long>(cpu), reinterpret_cast<long>(node),
                           reinterpret_cast<long>(unused));
    }
    if (cpu != nullptr) *cpu = static_cast<unsigned>(encoded & 0xfff);
    if (node != nullptr) *node = static_cast<unsigned>(encoded >> 12);
    return 0;
}

// The unprefixed names Linux exports too, weak so that nothing can mistake them for libc's. The
// asm labels give them the C names without redeclaring libc's functions, whose prototypes some
// freestanding-library headers pull in.
extern "C" {
int vclock_alias_clock_gettime(int, vclock::kernel_timespec*) noexcept
    __asm__("clock_gettime") __attribute__((weak, alias("__vdso_clock_gettime")));
int vclock_alias_gettimeofday(vclock::kernel_timeval*, vclock::kernel_timezone*) noexcept
    __asm__("gettimeofday") __attribute__((weak, alias("__vdso_gettimeofday")));
long vclock_alias_time(long*) noexcept __asm__("time") __attribute__((weak, alias("__vdso_time")));
long vclock_alias_getcpu(unsigned*, unsigned*, void*) noexcept
    __asm__("getcpu") __attribute__((weak, alias("__vdso_getcpu")));
}
