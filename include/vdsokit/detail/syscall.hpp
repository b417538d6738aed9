// Raw Linux system calls without libc, for freestanding code: vDSO fallbacks, futex waits, and
// the kernel-style test program. Returns the kernel's value: negative errno on failure.
#pragma once

#include <cstdint>

namespace vdsokit::detail {

#if defined(__x86_64__)
inline long raw_syscall(long number, long a0 = 0, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0,
                        long a5 = 0) noexcept {
    register long r10 asm("r10") = a3;
    register long r8 asm("r8") = a4;
    register long r9 asm("r9") = a5;
    long result;
    asm volatile("syscall"
                 : "=a"(result)
                 : "a"(number), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8), "r"(r9)
                 : "rcx", "r11", "memory");
    return result;
}
#elif defined(__aarch64__)
inline long raw_syscall(long number, long a0 = 0, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0,
                        long a5 = 0) noexcept {
    register long x8 asm("x8") = number;
    register long x0 asm("x0") = a0;
    register long x1 asm("x1") = a1;
    register long x2 asm("x2") = a2;
    register long x3 asm("x3") = a3;
    register long x4 asm("x4") = a4;
    register long x5 asm("x5") = a5;
    asm volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
    return x0;
}
#elif defined(__riscv) && __riscv_xlen == 64
inline long raw_syscall(long number, long a0 = 0, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0,
                        long a5 = 0) noexcept {
    register long a7_ asm("a7") = number;
    register long a0_ asm("a0") = a0;
    register long a1_ asm("a1") = a1;
    register long a2_ asm("a2") = a2;
    register long a3_ asm("a3") = a3;
    register long a4_ asm("a4") = a4;
    register long a5_ asm("a5") = a5;
    asm volatile("ecall" : "+r"(a0_) : "r"(a7_), "r"(a1_), "r"(a2_), "r"(a3_), "r"(a4_), "r"(a5_) : "memory");
    return a0_;
}
#else
#error "vdsokit: raw system calls are implemented for x86-64, aarch64 and riscv64"
#endif

// The numbers vdsokit uses; aarch64 and riscv64 share the generic table.
struct syscall_numbers {
#if defined(__x86_64__)
    static constexpr long read = 0, write = 1, mmap = 9, mprotect = 10, munmap = 11, exit = 60,
                          exit_group = 231, futex = 202, clock_gettime = 228, gettimeofday = 96,
                          time = 201, getcpu = 309, clock_getres = 229, getpid = 39, kill = 62;
#else
    static constexpr long read = 63, write = 64, mmap = 222, mprotect = 226, munmap = 215, exit = 93,
                          exit_group = 94, futex = 98, clock_gettime = 113, gettimeofday = 169,
                          time = -1, getcpu = 168, clock_getres = 114, getpid = 172, kill = 129;
#endif
};

}  // namespace vdsokit::detail
