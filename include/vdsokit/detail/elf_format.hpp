// ELF64 constants and bounds-checked little-endian reads, for the reader in `vdsokit/elf.hpp`.
//
// Every read goes through `byte_reader`, which answers "is [offset, offset + length) inside the
// file?" without overflowing, and assembles integers byte by byte: the input may be unaligned
// (a fuzzer's buffer, a section inside an archive) and the host may differ from the target.
//
// Freestanding: no libc, not even memcpy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace vdsokit::elf::detail {

// ---- ELF header -------------------------------------------------------------------------------
inline constexpr std::uint64_t elf_header_size = 64;
inline constexpr std::uint32_t elf_magic = 0x464c457f;  // "\x7fELF" read little-endian
inline constexpr std::uint8_t elf_class_64 = 2;
inline constexpr std::uint8_t elf_data_little_endian = 1;
inline constexpr std::uint8_t elf_version_current = 1;
inline constexpr std::uint16_t elf_type_shared = 3;  // ET_DYN

// Offsets of ELF header fields.
inline constexpr std::uint64_t ei_class = 4, ei_data = 5, ei_version = 6;
inline constexpr std::uint64_t e_type = 16, e_machine = 18, e_version = 20, e_phoff = 32,
                               e_shoff = 40, e_ehsize = 52, e_phentsize = 54, e_phnum = 56,
                               e_shentsize = 58, e_shnum = 60, e_shstrndx = 62;

// ---- Program headers --------------------------------------------------------------------------
inline constexpr std::uint64_t program_header_size = 56;
inline constexpr std::uint32_t pt_load = 1, pt_dynamic = 2, pt_interp = 3, pt_note = 4;
inline constexpr std::uint32_t pf_x = 1, pf_w = 2, pf_r = 4;
inline constexpr std::uint64_t p_type = 0, p_flags = 4, p_offset = 8, p_vaddr = 16, p_filesz = 32,
                               p_memsz = 40, p_align = 48;

// ---- Section headers --------------------------------------------------------------------------
inline constexpr std::uint64_t section_header_size = 64;
inline constexpr std::uint32_t sht_symtab = 2, sht_strtab = 3, sht_nobits = 8;
inline constexpr std::uint32_t shn_xindex = 0xffff;
inline constexpr std::uint64_t sh_name = 0, sh_type = 4, sh_flags = 8, sh_addr = 16, sh_offset = 24,
                               sh_size = 32, sh_link = 40, sh_info = 44, sh_entsize = 56;

// ---- Dynamic table ----------------------------------------------------------------------------
inline constexpr std::uint64_t dynamic_entry_size = 16;
inline constexpr std::int64_t dt_null = 0, dt_pltrelsz = 2, dt_hash = 4, dt_strtab = 5,
                              dt_symtab = 6, dt_rela = 7, dt_relasz = 8, dt_relaent = 9,
                              dt_strsz = 10, dt_syment = 11, dt_rel = 17, dt_relsz = 18,
                              dt_pltrel = 20, dt_textrel = 22, dt_jmprel = 23, dt_flags = 30,
                              dt_relrsz = 35, dt_relr = 36, dt_relrent = 37, dt_gnu_hash = 0x6ffffef5, dt_versym = 0x6ffffff0,
                              dt_verdef = 0x6ffffffc, dt_verdefnum = 0x6ffffffd;
inline constexpr std::uint64_t df_textrel = 4;

// ---- Symbols, versions, relocations -----------------------------------------------------------
inline constexpr std::uint64_t symbol_entry_size = 24;
inline constexpr std::uint64_t relocation_entry_size = 24;  // Elf64_Rela
inline constexpr std::uint64_t verdef_size = 20, verdaux_size = 8;
inline constexpr std::uint16_t ver_flg_base = 1;
inline constexpr std::uint16_t versym_hidden = 0x8000;
inline constexpr std::uint8_t stb_global = 1, stb_weak = 2;

// ---- Pages ------------------------------------------------------------------------------------
// PT_LOAD congruence is checked against the smallest page size of every supported architecture.
inline constexpr std::uint64_t minimum_page_size = 4096;
// Largest p_align accepted: 64 KiB pages on aarch64, 2 MiB for old GNU ld x86-64 defaults.
inline constexpr std::uint64_t maximum_alignment = std::uint64_t{1} << 21;

constexpr bool is_power_of_two(std::uint64_t value) noexcept {
    return value != 0 && (value & (value - 1)) == 0;
}

// Population count by SWAR arithmetic: __builtin_popcount may become a libgcc call
// (__popcountdi2) on targets without a popcount instruction.
constexpr std::uint64_t count_bits(std::uint64_t v) noexcept {
    v = v - ((v >> 1) & 0x5555555555555555ull);
    v = (v & 0x3333333333333333ull) + ((v >> 2) & 0x3333333333333333ull);
    v = (v + (v >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return (v * 0x0101010101010101ull) >> 56;
}
static_assert(count_bits(0) == 0 && count_bits(~std::uint64_t{0}) == 64 && count_bits(0x80000001) == 2,
              "vdsokit: count_bits is broken");

// Bounds-checked little-endian reads from the file.
class byte_reader {
public:
    constexpr byte_reader() noexcept = default;
    constexpr explicit byte_reader(std::span<const std::byte> bytes) noexcept
        : data_(bytes.data()), size_(bytes.size()) {}

    constexpr std::uint64_t size() const noexcept { return size_; }
    constexpr const std::byte* data() const noexcept { return data_; }

    // True if [offset, offset + length) lies inside the file; written so that nothing overflows.
    constexpr bool contains(std::uint64_t offset, std::uint64_t length) const noexcept {
        return length <= size_ && offset <= size_ - length;
    }

    // Callers check `contains` first; out-of-range reads still return 0 rather than touch memory.
    constexpr std::uint64_t read(std::uint64_t offset, unsigned width) const noexcept {
        if (!contains(offset, width)) return 0;
        std::uint64_t value = 0;
        for (unsigned i = width; i-- > 0;)
            value = (value << 8) | static_cast<std::uint8_t>(data_[offset + i]);
        return value;
    }
    constexpr std::uint8_t u8(std::uint64_t offset) const noexcept {
        return static_cast<std::uint8_t>(read(offset, 1));
    }
    constexpr std::uint16_t u16(std::uint64_t offset) const noexcept { return load<std::uint16_t>(offset); }
    constexpr std::uint32_t u32(std::uint64_t offset) const noexcept { return load<std::uint32_t>(offset); }
    constexpr std::uint64_t u64(std::uint64_t offset) const noexcept { return load<std::uint64_t>(offset); }

private:
    // One unaligned load on little-endian hosts (the byte loop is for constant evaluation and
    // big-endian hosts); __builtin_memcpy of a constant size never becomes a library call.
    template <class Word>
    constexpr Word load(std::uint64_t offset) const noexcept {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        if (!__builtin_is_constant_evaluated()) {
            if (!contains(offset, sizeof(Word))) return 0;
            Word value;
            __builtin_memcpy(&value, data_ + offset, sizeof(Word));
            return value;
        }
#endif
        return static_cast<Word>(read(offset, sizeof(Word)));
    }

    const std::byte* data_ = nullptr;
    std::uint64_t size_ = 0;
};

// The two symbol hash functions, as defined by the SysV gABI and by GNU.
constexpr std::uint32_t sysv_hash(const char* name, std::size_t length) noexcept {
    std::uint32_t h = 0;
    for (std::size_t i = 0; i < length; ++i) {
        h = (h << 4) + static_cast<std::uint8_t>(name[i]);
        std::uint32_t high = h & 0xf0000000u;
        if (high) h ^= high >> 24;
        h &= ~high;
    }
    return h;
}

constexpr std::uint32_t gnu_hash(const char* name, std::size_t length) noexcept {
    std::uint32_t h = 5381;
    for (std::size_t i = 0; i < length; ++i) h = h * 33 + static_cast<std::uint8_t>(name[i]);
    return h;
}

static_assert(sysv_hash("", 0) == 0, "vdsokit: SysV ELF hash of the empty name must be 0");
static_assert(gnu_hash("", 0) == 5381, "vdsokit: GNU hash of the empty name must be 5381");

}  // namespace vdsokit::elf::detail
