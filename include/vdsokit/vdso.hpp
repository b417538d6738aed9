// What a vDSO translation unit includes: vVAR and MUT_CFG declarations, plus the four memory
// functions compilers emit calls to (struct copies, zeroing) even under -ffreestanding.
//
// A vDSO links with -nostdlib: there is no libc to supply memcpy and friends. They are defined here
// weak and hidden, so every TU may include this header, the image never exports them, and a vDSO
// that brings its own wins. The loops carry an empty asm barrier so the compiler cannot recognise
// them as memcpy and call itself.
#pragma once

#include <cstddef>

#include <vdsokit/mut_cfg.hpp>
#include <vdsokit/vvar.hpp>

#if defined(VDSOKIT_BUILDING_VDSO)
#define VDSOKIT_DETAIL_RUNTIME extern "C" [[gnu::weak, gnu::visibility("hidden"), gnu::used]]

VDSOKIT_DETAIL_RUNTIME void* memcpy(void* destination, const void* source, std::size_t size) noexcept {
    auto* to = static_cast<unsigned char*>(destination);
    const auto* from = static_cast<const unsigned char*>(source);
    for (std::size_t i = 0; i < size; ++i) {
        to[i] = from[i];
        asm("" ::: "memory");
    }
    return destination;
}

VDSOKIT_DETAIL_RUNTIME void* memmove(void* destination, const void* source, std::size_t size) noexcept {
    auto* to = static_cast<unsigned char*>(destination);
    const auto* from = static_cast<const unsigned char*>(source);
    if (to < from) return memcpy(destination, source, size);
    for (std::size_t i = size; i != 0; --i) {
        to[i - 1] = from[i - 1];
        asm("" ::: "memory");
    }
    return destination;
}

VDSOKIT_DETAIL_RUNTIME void* memset(void* destination, int value, std::size_t size) noexcept {
    auto* to = static_cast<unsigned char*>(destination);
    for (std::size_t i = 0; i < size; ++i) {
        to[i] = static_cast<unsigned char>(value);
        asm("" ::: "memory");
    }
    return destination;
}

VDSOKIT_DETAIL_RUNTIME int memcmp(const void* left, const void* right, std::size_t size) noexcept {
    const auto* a = static_cast<const unsigned char*>(left);
    const auto* b = static_cast<const unsigned char*>(right);
    for (std::size_t i = 0; i < size; ++i)
        if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
    return 0;
}

#undef VDSOKIT_DETAIL_RUNTIME
#endif
