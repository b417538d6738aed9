// The spin-wait hint every busy loop in vdsokit uses. Freestanding.
#pragma once

namespace vdsokit::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#elif defined(__riscv)
    asm volatile(".insn i 0x0F, 0, x0, x0, 0x010" ::: "memory");  // the Zihintpause hint
#endif
}

}  // namespace vdsokit::detail
