// What it takes to map one vDSO image into an address space, as plain data.
//
// Both the run-time load plan (computed from ELF bytes by `load_plan.hpp`) and the build-time
// embedded image (`<name>_image.hpp`, written by vdsokit-gen) are expressed in these types, so a
// kernel can map an image with its own page tables and never parse ELF at run time.
//
// Addresses are offsets from the *image base*: the address where the ELF header is mapped, which
// is also the value a Linux-style kernel passes in AT_SYSINFO_EHDR. The vVAR region occupies the
// `vvar_size` bytes directly below the image base.
//
// Freestanding: no heap, exceptions, RTTI or libc.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vdsokit {

inline constexpr std::uint64_t page_size = 4096;

// Segment permission bits, numerically the ELF PF_* flags.
enum segment_flag : std::uint32_t {
    segment_execute = 1,
    segment_write = 2,
    segment_read = 4,
};

// One mapping to make. image_offset, file_offset and memory_size are page multiples; file_size is
// exact, so that the zero-filled tail (.bss) is not overwritten with whatever follows in the file.
struct segment_mapping {
    std::uint64_t image_offset;  // where it starts, relative to the image base
    std::uint64_t file_offset;   // where its bytes start in the image file
    std::uint64_t file_size;     // bytes taken from the file from file_offset; the rest is zero
    std::uint64_t memory_size;   // bytes of address space it takes
    std::uint32_t flags;         // segment_flag bits
    bool shared;                 // read-only, may be shared by every address space; else private copy
};

// A R_*_RELATIVE relocation in private data, expressed against the image base:
//   *(std::uint64_t*)(image_base + image_offset) = image_base + value_offset
struct relative_relocation {
    std::uint64_t image_offset;
    std::int64_t value_offset;  // negative when the pointer targets vVAR
};

// An exported function or object, relative to the image base.
struct symbol_offset {
    const char* name;
    std::uint64_t image_offset;
};

// A complete description of an image that needs no ELF parsing.
struct embedded_image {
    const unsigned char* bytes;      // the file, page aligned
    std::size_t size;                // file size in bytes
    std::uint64_t vvar_size;         // bytes reserved below the image base
    std::uint64_t image_size;        // bytes from the image base to the end of the last segment
    const segment_mapping* segments;
    std::size_t segment_count;
    const relative_relocation* relocations;
    std::size_t relocation_count;
    const symbol_offset* symbols;
    std::size_t symbol_count;
    std::uint64_t vvar_fingerprint;  // layout fingerprint of the vVAR type (0 if the image has none)
};

}  // namespace vdsokit
