// The ELF notes a vdsokit image carries, so a loader or an inspector can check an image without
// its sources: the vVAR type's layout fingerprint and the MUT_CFG values it was built with.
//
// Every note is owned by "vdsokit" and 4-byte aligned (the SysV/Linux convention for PT_NOTE).
// Freestanding.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vdsokit::note {

inline constexpr char owner[8] = "vdsokit";
inline constexpr std::uint32_t format_version = 1;

enum type : std::uint32_t {
    vvar_layout = 0x76766172,  // "vvar": one per image with a vVAR object
    mut_cfg_value = 0x6366676d,  // "mcfg": one per MUT_CFG constant
};

// Description of a vvar_layout note; followed by the vVAR type's name, NUL-terminated.
struct vvar_layout_description {
    std::uint32_t format;
    std::uint32_t size;
    std::uint32_t alignment;
    std::uint32_t reserved;
    std::uint32_t fingerprint_low;
    std::uint32_t fingerprint_high;
};

enum class mut_cfg_kind : std::uint32_t { signed_integer = 1, unsigned_integer, boolean, enumeration };

// Description of a mut_cfg_value note; followed by "NAME=VALUE", NUL-terminated. VALUE is decimal
// (the underlying value for enums, 0/1 for bool).
struct mut_cfg_description {
    std::uint32_t format;
    mut_cfg_kind kind;
};

constexpr std::size_t padded(std::size_t size) noexcept { return (size + 3) / 4 * 4; }

// A complete note as it sits in the section: header, owner, description, text.
template <class Description, std::size_t TextCapacity>
struct alignas(4) record {
    std::uint32_t owner_size = sizeof(owner);
    std::uint32_t description_size = sizeof(Description) + padded(TextCapacity);
    std::uint32_t note_type;
    char owner_name[sizeof(owner)] = {'v', 'd', 's', 'o', 'k', 'i', 't', '\0'};
    Description description;
    char text[padded(TextCapacity)] = {};
};

}  // namespace vdsokit::note
