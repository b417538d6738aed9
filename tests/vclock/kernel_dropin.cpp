// What a kernel writes to ship vclock: the embedded image (vclock_image.hpp, generated) and the
// time page updaters (vdsokit/vclock.hpp), in a translation unit built like kernel code
// (-ffreestanding -fno-exceptions -fno-rtti -nostdlib). tests/vclock/freestanding.sh compiles it
// and checks that it needs no symbol from a C or C++ runtime.
#include <new>

#include <vdsokit/vclock.hpp>

#include "vclock_image.hpp"

namespace vclock = vdsokit::vclock;

// Called once at boot: the image to map, and the time page at the start of the vVAR pages.
extern "C" const vdsokit::embedded_image* kernel_vdso_image() { return &vclock_vdso::embedded::image; }

extern "C" vclock::time_page* kernel_vdso_init_time_page(void* vvar_pages, unsigned long long tsc_hertz,
                                                         unsigned long long tsc_now,
                                                         unsigned long long realtime_seconds) {
    auto* page = new (vvar_pages) vclock::time_page{};
    const vclock::counter_scale scale = vclock::scale_for_frequency(tsc_hertz);
    vclock::set_clock(*page, vclock::clock_realtime, realtime_seconds, 0, tsc_now, scale.mult, scale.shift);
    vclock::set_clock(*page, vclock::clock_realtime_coarse, realtime_seconds, 0, tsc_now, scale.mult, scale.shift,
                      vclock::clock_mode::coarse);
    vclock::set_clock(*page, vclock::clock_monotonic, 0, 0, tsc_now, scale.mult, scale.shift);
    vclock::set_clock(*page, vclock::clock_monotonic_coarse, 0, 0, tsc_now, scale.mult, scale.shift,
                      vclock::clock_mode::coarse);
    vclock::set_clock(*page, vclock::clock_boottime, 0, 0, tsc_now, scale.mult, scale.shift);
    vclock::set_cpu_mode(*page, vclock::cpu_mode::segment_limit, 15 * 8 + 3);
    return page;
}

// The timer interrupt.
extern "C" void kernel_vdso_tick(vclock::time_page* page) { vclock::advance(*page, vclock::read_cycles()); }

// settimeofday(2).
extern "C" void kernel_vdso_set_realtime(vclock::time_page* page, unsigned long long seconds, unsigned long long nanoseconds,
                                         unsigned long long tsc_hertz) {
    const vclock::counter_scale scale = vclock::scale_for_frequency(tsc_hertz);
    const unsigned long long now = vclock::read_cycles();
    vclock::set_clock(*page, vclock::clock_realtime, seconds, nanoseconds, now, scale.mult, scale.shift);
    vclock::set_clock(*page, vclock::clock_realtime_coarse, seconds, nanoseconds, now, scale.mult, scale.shift,
                      vclock::clock_mode::coarse);
}

// Symbol offsets for AT_SYSINFO_EHDR users that want them (a kernel's own signal trampolines...).
extern "C" unsigned long long kernel_vdso_symbol(const char* name) {
    for (std::size_t i = 0; i < vclock_vdso::embedded::image.symbol_count; ++i) {
        const char* a = vclock_vdso::embedded::image.symbols[i].name;
        const char* b = name;
        while (*a != '\0' && *a == *b) ++a, ++b;
        if (*a == *b) return vclock_vdso::embedded::image.symbols[i].image_offset;
    }
    return ~0ull;
}
