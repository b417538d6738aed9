// The vclock vDSO's API: the x86-64 Linux vDSO ABI (arch/x86/entry/vdso/vdso.lds.S), version
// LINUX_2.6. Each function also has a weak unprefixed alias (clock_gettime, ...), which the image
// exports but this header does not declare, so a host may include it next to <time.h>.
//
// Return values follow the kernel's vDSO: 0 or a negative errno (from the fallback system call).
#pragma once

#include <vdsokit/vclock.hpp>

extern "C" {

int __vdso_clock_gettime(int clock_id, vdsokit::vclock::kernel_timespec* time) noexcept;

int __vdso_gettimeofday(vdsokit::vclock::kernel_timeval* time, vdsokit::vclock::kernel_timezone* zone) noexcept;

long __vdso_time(long* seconds) noexcept;

// `cpu` and `node` may be null; the third argument is unused (it was a cache until Linux 2.6.24).
long __vdso_getcpu(unsigned* cpu, unsigned* node, void* unused) noexcept;
}
