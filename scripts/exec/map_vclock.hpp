// Maps an embedded vDSO image (a `<name>_image.hpp` table) into this process the way a kernel
// maps it into a user address space, with a memfd-backed vVAR: the user view below the image is
// read-only, and a second, writable view of the same pages is the kernel's.
//
// Hosted (mmap, memfd); used by vdsokit-exec and the vclock tests. Errors are strings naming the
// step that failed and errno's text.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>

#include <vdsokit/image.hpp>

namespace vdsokit::exec {

struct mapped_image {
    unsigned char* image_base = nullptr;  // AT_SYSINFO_EHDR
    unsigned char* user_vvar = nullptr;   // image_base - vvar_size, read-only
    unsigned char* kernel_vvar = nullptr; // the same pages, writable
    std::size_t vvar_size = 0;
};

inline int protection_of(std::uint32_t flags) noexcept {
    return ((flags & segment_read) ? PROT_READ : 0) | ((flags & segment_write) ? PROT_WRITE : 0) |
           ((flags & segment_execute) ? PROT_EXEC : 0);
}

// Returns an empty string on success, else what failed.
inline std::string map_embedded_image(const embedded_image& image, mapped_image& out) {
    auto failed = [](const char* step) { return std::string(step) + ": " + std::strerror(errno); };
    const std::size_t total = image.vvar_size + image.image_size;
    void* reserved = mmap(nullptr, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (reserved == MAP_FAILED) return failed("reserving the vDSO's address range");
    auto* bottom = static_cast<unsigned char*>(reserved);
    out.user_vvar = bottom;
    out.image_base = bottom + image.vvar_size;
    out.vvar_size = image.vvar_size;

    if (image.vvar_size != 0) {
        const int vvar_file = memfd_create("vdsokit-vvar", MFD_CLOEXEC);
        if (vvar_file < 0) return failed("memfd_create for vVAR");
        if (ftruncate(vvar_file, static_cast<off_t>(image.vvar_size)) != 0) return failed("sizing vVAR");
        if (mmap(out.user_vvar, image.vvar_size, PROT_READ, MAP_SHARED | MAP_FIXED, vvar_file, 0) == MAP_FAILED)
            return failed("mapping the user's vVAR view");
        void* kernel_view = mmap(nullptr, image.vvar_size, PROT_READ | PROT_WRITE, MAP_SHARED, vvar_file, 0);
        if (kernel_view == MAP_FAILED) return failed("mapping the kernel's vVAR view");
        out.kernel_vvar = static_cast<unsigned char*>(kernel_view);
        close(vvar_file);
    }
    for (std::size_t i = 0; i < image.segment_count; ++i) {
        const segment_mapping& s = image.segments[i];
        unsigned char* at = out.image_base + s.image_offset;
        if (mmap(at, s.memory_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
            MAP_FAILED)
            return failed("mapping a vDSO segment");
        std::memcpy(at, image.bytes + s.file_offset, s.file_size);
    }
    for (std::size_t i = 0; i < image.relocation_count; ++i) {
        const relative_relocation& r = image.relocations[i];
        const std::uint64_t value = reinterpret_cast<std::uint64_t>(out.image_base) + r.value_offset;
        std::memcpy(out.image_base + r.image_offset, &value, sizeof value);
    }
    for (std::size_t i = 0; i < image.segment_count; ++i) {
        const segment_mapping& s = image.segments[i];
        if (mprotect(out.image_base + s.image_offset, s.memory_size, protection_of(s.flags)) != 0)
            return failed("protecting a vDSO segment");
    }
    return {};
}

}  // namespace vdsokit::exec
