// A freestanding, validating ELF64 little-endian reader for vDSO images and ordinary shared objects.
//
// `image::parse` checks the whole file once: headers, every program header, the dynamic table and
// each table it points to (string, symbol, SysV and GNU hash, version, relocation tables), notes,
// and section headers when present. Every address is translated to a file offset through the
// PT_LOADs and every read is bounds-checked, so a hostile or truncated file yields an `error`
// value that names the structure, the field, the file offset, and the expected and found values
// (see `describe`), never a crash. After a successful parse the iterators and `lookup` cannot
// fail; they still check bounds, because an image is only a view of bytes the caller owns.
//
// Symbol lookup follows Linux's tools/testing/selftests/vDSO/parse_vdso.c: GNU hash (with its
// Bloom filter) when present, else SysV hash; versions through DT_VERSYM/DT_VERDEF, ignoring the
// hidden bit; an empty version matches any. It works on the running kernel's vDSO.
//
// Callbacks given to `for_each_*` may return `void` (visit everything) or `bool` (false = stop).
//
// Freestanding: no heap, exceptions, RTTI or libc symbols; nothing is copied out of the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <utility>

#include "detail/elf_error.hpp"
#include "detail/elf_format.hpp"

namespace vdsokit::elf {

enum class machine : std::uint16_t { x86_64 = 62, aarch64 = 183, riscv64 = 243 };

#if defined(__x86_64__)
inline constexpr machine native_machine = machine::x86_64;
#elif defined(__aarch64__)
inline constexpr machine native_machine = machine::aarch64;
#elif defined(__riscv) && __riscv_xlen == 64
inline constexpr machine native_machine = machine::riscv64;
#else
#error "vdsokit: unsupported architecture; vdsokit targets x86-64, aarch64 and riscv64"
#endif

// The R_*_RELATIVE relocation type of an architecture: the only kind a vDSO may carry.
constexpr std::uint32_t relative_relocation_type(machine target) noexcept {
    switch (target) {
        case machine::x86_64: return 8;     // R_X86_64_RELATIVE
        case machine::aarch64: return 1027;  // R_AARCH64_RELATIVE
        case machine::riscv64: return 3;     // R_RISCV_RELATIVE
    }
    return 0;
}

// Relocation types that a well-formed shared object of the architecture may carry. vdsokit only
// applies RELATIVE ones (see load_plan.hpp), but ordinary .so files with GOT/PLT entries and TLS
// must still parse so that their symbols can be read.
constexpr bool is_known_relocation_type(machine target, std::uint32_t type) noexcept {
    if (type == 0) return true;  // R_*_NONE
    switch (target) {
        case machine::x86_64:  // 64, COPY, GLOB_DAT, JUMP_SLOT, RELATIVE, DTPMOD64, DTPOFF64,
                               // TPOFF64, TLSDESC, IRELATIVE
            return type == 1 || (type >= 5 && type <= 8) || (type >= 16 && type <= 18) ||
                   type == 36 || type == 37;
        case machine::aarch64:  // ABS64, COPY .. IRELATIVE (1024..1032)
            return type == 257 || (type >= 1024 && type <= 1032);
        case machine::riscv64:  // 64, RELATIVE, COPY, JUMP_SLOT, TLS_DTPMOD64, TLS_DTPREL64,
                                // TLS_TPREL64, TLSDESC, IRELATIVE
            return (type >= 2 && type <= 5) || type == 7 || type == 9 || type == 11 ||
                   type == 12 || type == 58;
    }
    return false;
}

// A name inside the file: pointer + length, compared by our own loop (string_view's compare
// pulls in libc). Not NUL-terminated in general; `data()` of a name read from a string table is.
class name_view {
public:
    constexpr name_view() noexcept = default;
    constexpr name_view(const char* c_string) noexcept
        : chars_(c_string ? c_string : ""), length_(length_of(c_string)) {}
    constexpr name_view(const char* chars, std::size_t length) noexcept
        : chars_(chars), length_(length) {}

    constexpr const char* data() const noexcept { return chars_; }
    constexpr std::size_t size() const noexcept { return length_; }
    constexpr bool empty() const noexcept { return length_ == 0; }
    constexpr char operator[](std::size_t i) const noexcept { return chars_[i]; }

    friend constexpr bool operator==(name_view a, name_view b) noexcept {
        if (a.length_ != b.length_) return false;
        for (std::size_t i = 0; i < a.length_; ++i)
            if (a.chars_[i] != b.chars_[i]) return false;
        return true;
    }

private:
    static constexpr std::size_t length_of(const char* s) noexcept {
        std::size_t n = 0;
        if (s)
            while (s[n] != '\0') ++n;
        return n;
    }
    const char* chars_ = "";
    std::size_t length_ = 0;
};

struct segment {
    std::uint32_t type, flags;
    std::uint64_t offset, vaddr, file_size, memory_size, align;
    std::uint32_t index;  // position in the program header table
};

struct section {
    name_view name;
    std::uint32_t type;
    std::uint64_t flags, address, offset, size, entry_size;
    std::uint32_t link, info;
    std::uint32_t index;
};

struct symbol {
    name_view name;
    name_view version;  // dynamic symbols only; empty if unversioned (or index 0/1, the base)
    std::uint64_t value, size;
    std::uint8_t type, binding, visibility;
    std::uint16_t section_index;
    bool hidden_version;  // the version index had its hidden bit (0x8000) set
    std::uint32_t index;  // position in its symbol table
    constexpr bool defined() const noexcept { return section_index != 0; }
};

struct relocation {
    std::uint32_t type, symbol_index;
    std::uint64_t offset;  // r_offset: a virtual address in the image's link-time layout
    std::int64_t addend;
    std::uint64_t file_offset;  // where the Elf64_Rela entry itself is in the file
};

struct note {
    name_view owner;  // without the terminating NUL
    std::uint32_t type;
    std::span<const std::byte> description;
};

namespace detail {

// Calls a visitor and tells whether to continue: a `void` visitor always continues.
template <class F, class... Args>
constexpr bool visit(F& visitor, Args&&... args) {
    if constexpr (std::is_void_v<std::invoke_result_t<F&, Args...>>) {
        visitor(std::forward<Args>(args)...);
        return true;
    } else {
        return static_cast<bool>(visitor(std::forward<Args>(args)...));
    }
}

constexpr error make_error(error_code code, error_structure structure, std::uint32_t index,
                           const char* field, std::uint64_t offset, std::uint64_t expected,
                           std::uint64_t found, const char* limit = "",
                           const char* reason = "") noexcept {
    error e;
    e.code = code;
    e.structure = structure;
    e.index = index;
    e.field = field;
    e.offset = offset;
    e.expected = expected;
    e.found = found;
    e.limit = limit;
    e.reason = reason;
    return e;
}

// Where a virtual address lands in the file, and how many file-backed bytes follow it in its
// PT_LOAD (tables are read only within those bytes).
struct file_location {
    std::uint64_t offset = 0;
    std::uint64_t available = 0;
};

}  // namespace detail

namespace detail {
constexpr relocation read_relocation(const byte_reader& reader, std::uint64_t at) noexcept {
    relocation r{};
    r.offset = reader.u64(at);
    const std::uint64_t info = reader.u64(at + 8);
    r.type = static_cast<std::uint32_t>(info);
    r.symbol_index = static_cast<std::uint32_t>(info >> 32);
    r.addend = static_cast<std::int64_t>(reader.u64(at + 16));
    r.file_offset = at;
    return r;
}
}  // namespace detail

namespace detail {
// Translates a virtual address through the PT_LOADs of the program header table at `phoff`.
constexpr bool locate_in_loads(const byte_reader& reader, std::uint64_t phoff,
                               std::uint32_t segment_count, std::uint64_t vaddr, std::uint64_t size,
                               file_location& where) noexcept {
    for (std::uint32_t i = 0; i < segment_count; ++i) {
        const std::uint64_t header = phoff + std::uint64_t{i} * program_header_size;
        if (reader.u32(header + p_type) != pt_load) continue;
        const std::uint64_t start = reader.u64(header + p_vaddr);
        const std::uint64_t file_size = reader.u64(header + p_filesz);
        if (vaddr < start) continue;
        const std::uint64_t into = vaddr - start;
        if (into > file_size || size > file_size - into) continue;
        where.offset = reader.u64(header + p_offset) + into;
        where.available = file_size - into;
        return true;
    }
    return false;
}
}  // namespace detail

// The relocation tables of a parsed image (validated by `image::parse`) as a view small enough to
// keep in a load plan: DT_RELA, then DT_JMPREL, then DT_RELR expanded into RELATIVE relocations
// whose addend is the value stored at the relocated place (RELR addends are implicit).
class relocation_table {
public:
    struct layout {
        std::uint64_t phoff = 0, rela_offset = 0, jmprel_offset = 0, relr_offset = 0;
        std::uint32_t segment_count = 0, rela_count = 0, jmprel_count = 0, relr_words = 0;
        std::uint32_t relr_count = 0;
        machine target = native_machine;
    };

    constexpr relocation_table() noexcept = default;
    constexpr relocation_table(std::span<const std::byte> file, const layout& tables) noexcept
        : reader_(file), tables_(tables) {}

    constexpr std::uint64_t size() const noexcept {
        return std::uint64_t{tables_.rela_count} + tables_.jmprel_count + tables_.relr_count;
    }

    template <class F>
    constexpr void for_each(F&& visitor) const {
        for (std::uint64_t i = 0; i < tables_.rela_count; ++i)
            if (!detail::visit(visitor, detail::read_relocation(
                                            reader_, tables_.rela_offset + i * detail::relocation_entry_size)))
                return;
        for (std::uint64_t i = 0; i < tables_.jmprel_count; ++i)
            if (!detail::visit(visitor, detail::read_relocation(
                                            reader_, tables_.jmprel_offset + i * detail::relocation_entry_size)))
                return;
        // RELR: an even word is an address to relocate; an odd word is a bitmap of the 63 words
        // that follow the last address (bit i set: relocate where + (i - 1) * 8).
        std::uint64_t where = 0;
        for (std::uint64_t k = 0; k < tables_.relr_words; ++k) {
            const std::uint64_t at = tables_.relr_offset + k * 8;
            std::uint64_t entry = reader_.u64(at);
            if ((entry & 1) == 0) {
                if (!detail::visit(visitor, relr_relocation(entry, at))) return;
                where = entry + 8;
                continue;
            }
            for (std::uint64_t bit = 0; (entry >>= 1) != 0; ++bit)
                if ((entry & 1) && !detail::visit(visitor, relr_relocation(where + bit * 8, at)))
                    return;
            where += 63 * 8;
        }
    }

private:
    constexpr relocation relr_relocation(std::uint64_t place, std::uint64_t entry_at) const noexcept {
        relocation r{};
        r.type = relative_relocation_type(tables_.target);
        r.offset = place;
        detail::file_location location;
        if (detail::locate_in_loads(reader_, tables_.phoff, tables_.segment_count, place, 8, location))
            r.addend = static_cast<std::int64_t>(reader_.u64(location.offset));
        r.file_offset = entry_at;
        return r;
    }

    detail::byte_reader reader_{};
    layout tables_{};
};

class image {
public:
    constexpr image() noexcept = default;

    static result<image> parse(std::span<const std::byte> file,
                               machine expected = native_machine) noexcept {
        result<image> out(build_in_place);
        image& parsed = out.value_being_built();
        parsed.reader_ = detail::byte_reader(file);
        error failure;
        if (!parsed.parse_header(expected, failure) || !parsed.parse_segments(failure) ||
            !parsed.parse_sections(failure))
            out.set_failure(failure);
        return out;
    }
    static result<image> parse(const unsigned char* bytes, std::size_t size,
                               machine expected = native_machine) noexcept {
        return parse(std::span<const std::byte>(reinterpret_cast<const std::byte*>(bytes), size),
                     expected);
    }

    constexpr machine target() const noexcept { return machine_; }
    constexpr std::span<const std::byte> bytes() const noexcept {
        return {reader_.data(), static_cast<std::size_t>(reader_.size())};
    }
    // p_vaddr of the first PT_LOAD: the vVAR bytes reserved below the image base.
    constexpr std::uint64_t vvar_size() const noexcept { return first_load_vaddr_; }
    // From the first PT_LOAD's p_vaddr to the page-rounded end of the last PT_LOAD.
    constexpr std::uint64_t image_size() const noexcept { return image_end_ - first_load_vaddr_; }
    // Every PT_LOAD has the same p_vaddr - p_offset, as vDSO clients require (see load_plan.hpp).
    constexpr bool has_uniform_load_bias() const noexcept { return uniform_load_bias_; }
    constexpr std::uint32_t segment_count() const noexcept { return segment_count_; }
    constexpr std::uint32_t load_segment_count() const noexcept { return load_count_; }
    constexpr std::uint32_t section_count() const noexcept { return section_count_; }
    constexpr std::uint64_t dynamic_symbol_count() const noexcept { return dynsym_count_; }
    constexpr bool has_sysv_hash() const noexcept { return sysv_.bucket_count != 0; }
    constexpr bool has_gnu_hash() const noexcept { return gnu_.bucket_count != 0; }
    constexpr bool has_versions() const noexcept { return versym_present_; }

    segment segment_at(std::uint32_t index) const noexcept {
        const std::uint64_t at = phoff_ + std::uint64_t{index} * detail::program_header_size;
        segment s{};
        s.type = reader_.u32(at + detail::p_type);
        s.flags = reader_.u32(at + detail::p_flags);
        s.offset = reader_.u64(at + detail::p_offset);
        s.vaddr = reader_.u64(at + detail::p_vaddr);
        s.file_size = reader_.u64(at + detail::p_filesz);
        s.memory_size = reader_.u64(at + detail::p_memsz);
        s.align = reader_.u64(at + detail::p_align);
        s.index = index;
        return s;
    }

    template <class F>
    void for_each_segment(F&& visitor) const {
        for (std::uint32_t i = 0; i < segment_count_; ++i)
            if (!detail::visit(visitor, segment_at(i))) return;
    }

    // Sections come from the section header table; none if the image is stripped of it.
    section section_at(std::uint32_t index) const noexcept {
        const std::uint64_t at = shoff_ + std::uint64_t{index} * detail::section_header_size;
        section s{};
        s.name = shstrtab_index_ == 0
                     ? name_view{}
                     : string_at(section_u64(shstrtab_index_, detail::sh_offset),
                                 section_u64(shstrtab_index_, detail::sh_size),
                                 reader_.u32(at + detail::sh_name));
        s.type = reader_.u32(at + detail::sh_type);
        s.flags = reader_.u64(at + detail::sh_flags);
        s.address = reader_.u64(at + detail::sh_addr);
        s.offset = reader_.u64(at + detail::sh_offset);
        s.size = reader_.u64(at + detail::sh_size);
        s.link = reader_.u32(at + detail::sh_link);
        s.info = reader_.u32(at + detail::sh_info);
        s.entry_size = reader_.u64(at + detail::sh_entsize);
        s.index = index;
        return s;
    }

    template <class F>
    void for_each_section(F&& visitor) const {
        for (std::uint32_t i = 0; i < section_count_; ++i)
            if (!detail::visit(visitor, section_at(i))) return;
    }

    bool find_section(name_view name, section& out) const noexcept {
        for (std::uint32_t i = 0; i < section_count_; ++i) {
            section s = section_at(i);
            if (s.name == name) {
                out = s;
                return true;
            }
        }
        return false;
    }

    // The bytes of a section (empty for SHT_NOBITS).
    std::span<const std::byte> section_bytes(const section& s) const noexcept {
        if (s.type == detail::sht_nobits || !reader_.contains(s.offset, s.size)) return {};
        return {reader_.data() + s.offset, static_cast<std::size_t>(s.size)};
    }

    // Visits (tag, value) of each dynamic entry before DT_NULL.
    template <class F>
    void for_each_dynamic_entry(F&& visitor) const {
        for (std::uint64_t i = 0; i < dynamic_count_; ++i) {
            const std::uint64_t at = dynamic_offset_ + i * detail::dynamic_entry_size;
            const auto tag = static_cast<std::int64_t>(reader_.u64(at));
            const std::uint64_t value = reader_.u64(at + 8);
            if (!detail::visit(visitor, tag, value)) return;
        }
    }

    // Symbols of .dynsym (DT_SYMTAB), counted from the hash tables, with their version names.
    // The null symbol at index 0 is skipped.
    template <class F>
    void for_each_dynamic_symbol(F&& visitor) const {
        for (std::uint64_t i = 1; i < dynsym_count_; ++i)
            if (!detail::visit(visitor, dynamic_symbol_at(static_cast<std::uint32_t>(i)))) return;
    }

    symbol dynamic_symbol_at(std::uint32_t index) const noexcept {
        symbol s = read_symbol(dynsym_offset_ + std::uint64_t{index} * detail::symbol_entry_size,
                               dynstr_offset_, dynstr_size_);
        s.index = index;
        version_of(index, s.version, s.hidden_version);
        return s;
    }

    // Symbols of .symtab (local and global, names from its linked string table); none if the
    // image has no section headers or no .symtab. The null symbol at index 0 is skipped.
    template <class F>
    void for_each_symbol(F&& visitor) const {
        for (std::uint64_t i = 1; i < symtab_count_; ++i) {
            const std::uint32_t strtab = static_cast<std::uint32_t>(
                reader_.u32(section_header(symtab_index_) + detail::sh_link));
            symbol s = read_symbol(section_u64(symtab_index_, detail::sh_offset) +
                                       i * detail::symbol_entry_size,
                                   section_u64(strtab, detail::sh_offset),
                                   section_u64(strtab, detail::sh_size));
            s.index = static_cast<std::uint32_t>(i);
            if (!detail::visit(visitor, s)) return;
        }
    }

    // Relocations of DT_RELA, then of DT_JMPREL, then DT_RELR (expanded; see relocation_table).
    template <class F>
    void for_each_relocation(F&& visitor) const {
        relocations().for_each(visitor);
    }
    constexpr std::uint64_t relocation_count() const noexcept {
        return std::uint64_t{rela_count_} + jmprel_count_ + relr_count_;
    }
    // A small copyable view of the relocation tables that stays valid as long as the file bytes.
    constexpr relocation_table relocations() const noexcept {
        relocation_table::layout tables;
        tables.phoff = phoff_;
        tables.segment_count = segment_count_;
        tables.rela_offset = rela_offset_;
        tables.rela_count = rela_count_;
        tables.jmprel_offset = jmprel_offset_;
        tables.jmprel_count = jmprel_count_;
        tables.relr_offset = relr_offset_;
        tables.relr_words = relr_words_;
        tables.relr_count = relr_count_;
        tables.target = machine_;
        return relocation_table(bytes(), tables);
    }

    // Notes of every PT_NOTE segment (4- and 8-byte aligned layouts).
    template <class F>
    void for_each_note(F&& visitor) const {
        for (std::uint32_t i = 0; i < segment_count_; ++i) {
            const segment s = segment_at(i);
            if (s.type != detail::pt_note) continue;
            bool keep_going = true;
            walk_notes(s, [&](const note& n) { return keep_going = detail::visit(visitor, n); });
            if (!keep_going) return;
        }
    }

    // Finds a defined global or weak symbol by name and version ("" = any version), through the
    // GNU hash table if present, else the SysV one.
    bool lookup(name_view name, name_view version, symbol& out) const noexcept {
        if (gnu_.bucket_count != 0) return lookup_gnu_hash(name, version, out);
        return lookup_sysv_hash(name, version, out);
    }
    bool lookup(name_view name, symbol& out) const noexcept { return lookup(name, "", out); }

    bool lookup_gnu_hash(name_view name, name_view version, symbol& out) const noexcept {
        if (gnu_.bucket_count == 0) return false;
        const std::uint32_t h1 = detail::gnu_hash(name.data(), name.size());
        // The Bloom filter rejects most absent names with one word read.
        const std::uint64_t word_index = (h1 / 64) % gnu_.bloom_size;
        const std::uint64_t word = reader_.u64(gnu_.offset + 16 + word_index * 8);
        const std::uint64_t mask = (std::uint64_t{1} << (h1 % 64)) |
                                   (std::uint64_t{1} << ((h1 >> (gnu_.bloom_shift & 31)) % 64));
        if ((word & mask) != mask) return false;
        std::uint32_t i = reader_.u32(gnu_.buckets_offset() + std::uint64_t{h1 % gnu_.bucket_count} * 4);
        if (i == 0 || i < gnu_.symbol_offset) return false;
        for (; i < dynsym_count_; ++i) {
            const std::uint32_t h2 = reader_.u32(gnu_.chain_offset() + std::uint64_t{i - gnu_.symbol_offset} * 4);
            if ((h1 | 1) == (h2 | 1) && matches(i, name, version, out)) return true;
            if (h2 & 1) break;  // end of this bucket's chain
        }
        return false;
    }

    bool lookup_sysv_hash(name_view name, name_view version, symbol& out) const noexcept {
        if (sysv_.bucket_count == 0) return false;
        const std::uint32_t h = detail::sysv_hash(name.data(), name.size());
        std::uint32_t i = reader_.u32(sysv_.offset + 8 + std::uint64_t{h % sysv_.bucket_count} * 4);
        // A chain longer than the table is a cycle: stop instead of looping forever.
        for (std::uint64_t steps = 0; i != 0 && i < sysv_.chain_count && i < dynsym_count_ &&
                                      steps < sysv_.chain_count;
             ++steps) {
            if (matches(i, name, version, out)) return true;
            i = reader_.u32(sysv_.chains_offset() + std::uint64_t{i} * 4);
        }
        return false;
    }

    // Translates a virtual address into a file offset through the PT_LOADs; false if the
    // `size` bytes from it are not all file-backed in one PT_LOAD.
    bool file_offset_of(std::uint64_t vaddr, std::uint64_t size, std::uint64_t& offset) const noexcept {
        detail::file_location where;
        if (!locate(vaddr, size, where)) return false;
        offset = where.offset;
        return true;
    }

private:
    // A table is absent when its bucket count is 0 (parse rejects an empty GNU table).
    struct sysv_table {
        std::uint64_t offset = 0;
        std::uint32_t bucket_count = 0, chain_count = 0;
        constexpr std::uint64_t chains_offset() const noexcept {
            return offset + 8 + 4 * std::uint64_t{bucket_count};
        }
    };
    struct gnu_table {
        std::uint64_t offset = 0;
        std::uint32_t bucket_count = 0, symbol_offset = 0, bloom_size = 0, bloom_shift = 0;
        constexpr std::uint64_t buckets_offset() const noexcept {
            return offset + 16 + 8 * std::uint64_t{bloom_size};
        }
        constexpr std::uint64_t chain_offset() const noexcept {
            return buckets_offset() + 4 * std::uint64_t{bucket_count};
        }
    };

    // ---- Reading --------------------------------------------------------------------------------

    constexpr std::uint64_t section_header(std::uint32_t index) const noexcept {
        return shoff_ + std::uint64_t{index} * detail::section_header_size;
    }
    constexpr std::uint64_t section_u64(std::uint32_t index, std::uint64_t field) const noexcept {
        return reader_.u64(section_header(index) + field);
    }

    name_view string_at(std::uint64_t table, std::uint64_t table_size, std::uint64_t index) const noexcept {
        if (index >= table_size || !reader_.contains(table, table_size)) return {};
        const char* chars = reinterpret_cast<const char*>(reader_.data() + table + index);
        std::size_t length = 0;
        while (index + length < table_size && chars[length] != '\0') ++length;
        return {chars, length};
    }

    symbol read_symbol(std::uint64_t at, std::uint64_t strtab, std::uint64_t strtab_size) const noexcept {
        symbol s{};
        s.name = string_at(strtab, strtab_size, reader_.u32(at));
        const std::uint8_t info = reader_.u8(at + 4);
        s.type = info & 0xf;
        s.binding = info >> 4;
        s.visibility = reader_.u8(at + 5) & 0x3;
        s.section_index = reader_.u16(at + 6);
        s.value = reader_.u64(at + 8);
        s.size = reader_.u64(at + 16);
        return s;
    }

    relocation relocation_at(std::uint64_t at) const noexcept {
        return detail::read_relocation(reader_, at);
    }

    // Version name of dynamic symbol `index`: DT_VERSYM gives an index, DT_VERDEF the name.
    void version_of(std::uint32_t index, name_view& version, bool& hidden) const noexcept {
        version = {};
        hidden = false;
        if (!versym_present_) return;
        const std::uint16_t raw = reader_.u16(versym_offset_ + std::uint64_t{index} * 2);
        hidden = (raw & detail::versym_hidden) != 0;
        const std::uint16_t wanted = raw & 0x7fff;
        if (wanted <= 1) return;  // 0 = local, 1 = global (the base definition)
        std::uint64_t at = 0;
        for (std::uint64_t k = 0; k < verdef_count_; ++k) {
            if (!reader_.contains(verdef_offset_ + at, detail::verdef_size) ||
                at + detail::verdef_size > verdef_available_)
                return;
            const std::uint64_t entry = verdef_offset_ + at;
            const std::uint16_t flags = reader_.u16(entry + 2);
            const std::uint16_t def_index = reader_.u16(entry + 4);
            if (!(flags & detail::ver_flg_base) && (def_index & 0x7fff) == wanted) {
                const std::uint64_t aux = entry + reader_.u32(entry + 12);
                version = string_at(dynstr_offset_, dynstr_size_, reader_.u32(aux));
                return;
            }
            const std::uint32_t next = reader_.u32(entry + 16);
            if (next == 0) return;
            at += next;
        }
    }

    bool matches(std::uint32_t index, name_view name, name_view version, symbol& out) const noexcept {
        // The name first: a hash chain mostly holds other names, and versions cost a table walk.
        const std::uint64_t at = dynsym_offset_ + std::uint64_t{index} * detail::symbol_entry_size;
        if (!(string_at(dynstr_offset_, dynstr_size_, reader_.u32(at)) == name)) return false;
        symbol s = dynamic_symbol_at(index);
        if (!s.defined() || (s.binding != detail::stb_global && s.binding != detail::stb_weak))
            return false;
        if (!(s.name == name)) return false;
        // Like parse_vdso.c: an image without version information matches any version.
        if (!version.empty() && versym_present_ && !(s.version == version)) return false;
        out = s;
        return true;
    }

    bool locate(std::uint64_t vaddr, std::uint64_t size, detail::file_location& where) const noexcept {
        return detail::locate_in_loads(reader_, phoff_, segment_count_, vaddr, size, where);
    }

    // Walks the notes of one PT_NOTE segment; returns the error of the first malformed note.
    template <class F>
    bool walk_notes(const segment& s, F&& visitor, error* failure = nullptr) const {
        const std::uint64_t align = s.align == 8 ? 8 : 4;
        auto round = [align](std::uint64_t v) { return (v + align - 1) & ~(align - 1); };
        std::uint64_t at = 0;
        std::uint32_t number = 0;
        while (at < s.file_size) {
            const std::uint64_t entry = s.offset + at;
            auto fail = [&](const char* field, std::uint64_t found, std::uint64_t limit) {
                if (failure)
                    *failure = detail::make_error(error_code::exceeds, error_structure::note, number,
                                                  field, entry, limit, found,
                                                  "bytes left in its PT_NOTE segment");
                return false;
            };
            const std::uint64_t left = s.file_size - at;
            if (left < 12) return fail("note header size", 12, left);
            const std::uint64_t name_size = reader_.u32(entry);
            const std::uint64_t description_size = reader_.u32(entry + 4);
            const std::uint32_t type = reader_.u32(entry + 8);
            const std::uint64_t description_at = round(12 + name_size);
            if (description_at > left) return fail("n_namesz", name_size, left - 12);
            if (description_size > left - description_at)
                return fail("n_descsz", description_size, left - description_at);
            note n{};
            const char* owner = reinterpret_cast<const char*>(reader_.data() + entry + 12);
            std::size_t owner_length = static_cast<std::size_t>(name_size);
            while (owner_length > 0 && owner[owner_length - 1] == '\0') --owner_length;
            n.owner = {owner, owner_length};
            n.type = type;
            n.description = {reader_.data() + entry + description_at,
                             static_cast<std::size_t>(description_size)};
            if (!visitor(n)) return true;
            const std::uint64_t next = round(description_at + description_size);
            if (next >= left) break;
            at += next;
            ++number;
        }
        return true;
    }

    // ---- Validation -----------------------------------------------------------------------------

    bool parse_header(machine expected, error& failure) noexcept {
        using detail::make_error;
        const auto header = error_structure::elf_header;
        const std::uint64_t size = reader_.size();
        if (size < detail::elf_header_size) {
            failure = make_error(error_code::file_too_small, header, error::no_index, "file size", 0,
                                 detail::elf_header_size, size, "the ELF64 header size");
            return false;
        }
        auto expect = [&](const char* field, std::uint64_t offset, std::uint64_t found,
                          std::uint64_t wanted, const char* meaning) {
            if (found == wanted) return true;
            failure = make_error(error_code::bad_value, header, error::no_index, field, offset,
                                 wanted, found, meaning);
            return false;
        };
        if (!expect("e_ident[EI_MAG0..EI_MAG3]", 0, reader_.u32(0), detail::elf_magic,
                    "\\x7fELF") ||
            !expect("e_ident[EI_CLASS]", detail::ei_class, reader_.u8(detail::ei_class),
                    detail::elf_class_64, "ELFCLASS64") ||
            !expect("e_ident[EI_DATA]", detail::ei_data, reader_.u8(detail::ei_data),
                    detail::elf_data_little_endian, "ELFDATA2LSB, little-endian") ||
            !expect("e_ident[EI_VERSION]", detail::ei_version, reader_.u8(detail::ei_version),
                    detail::elf_version_current, "EV_CURRENT") ||
            !expect("e_type", detail::e_type, reader_.u16(detail::e_type), detail::elf_type_shared,
                    "ET_DYN, a shared object") ||
            !expect("e_machine", detail::e_machine, reader_.u16(detail::e_machine),
                    static_cast<std::uint16_t>(expected), "the expected machine") ||
            !expect("e_version", detail::e_version, reader_.u32(detail::e_version),
                    detail::elf_version_current, "EV_CURRENT") ||
            !expect("e_ehsize", detail::e_ehsize, reader_.u16(detail::e_ehsize),
                    detail::elf_header_size, "the ELF64 header size") ||
            !expect("e_phentsize", detail::e_phentsize, reader_.u16(detail::e_phentsize),
                    detail::program_header_size, "sizeof(Elf64_Phdr)"))
            return false;
        machine_ = expected;
        phoff_ = reader_.u64(detail::e_phoff);
        segment_count_ = reader_.u16(detail::e_phnum);
        if (segment_count_ == 0) {
            failure = make_error(error_code::missing, header, error::no_index,
                                 "program header table (e_phnum = 0)", detail::e_phnum, 0, 0,
                                 "a loadable image needs PT_LOAD segments");
            return false;
        }
        const std::uint64_t table_size = std::uint64_t{segment_count_} * detail::program_header_size;
        if (!reader_.contains(phoff_, table_size)) {
            failure = make_error(error_code::exceeds, header, error::no_index,
                                 "e_phoff + e_phnum * e_phentsize", detail::e_phoff, size,
                                 phoff_ > ~table_size ? ~std::uint64_t{0} : phoff_ + table_size,
                                 "file size");
            return false;
        }
        return true;
    }

    bool parse_segments(error& failure) noexcept {
        using detail::make_error;
        const auto where = error_structure::program_header;
        const std::uint64_t size = reader_.size();
        bool have_load = false, have_dynamic = false;
        std::uint32_t dynamic_segment = 0;
        std::uint64_t previous_end = 0, bias = 0, previous_vaddr = 0;
        uniform_load_bias_ = true;
        for (std::uint32_t i = 0; i < segment_count_; ++i) {
            const segment s = segment_at(i);
            const std::uint64_t header = phoff_ + std::uint64_t{i} * detail::program_header_size;
            auto fail = [&](error_code code, const char* field, std::uint64_t field_offset,
                            std::uint64_t expected, std::uint64_t found, const char* limit = "",
                            const char* reason = "") {
                failure = make_error(code, where, i, field, header + field_offset, expected, found,
                                     limit, reason);
                return false;
            };
            if (s.file_size != 0 && !reader_.contains(s.offset, s.file_size))
                return fail(error_code::exceeds, "p_offset + p_filesz", detail::p_offset, size,
                            s.offset > ~s.file_size ? ~std::uint64_t{0} : s.offset + s.file_size,
                            "file size");
            if ((s.flags & detail::pf_w) && (s.flags & detail::pf_x))
                return fail(error_code::writable_and_executable, "p_flags", detail::p_flags, 0,
                            s.flags);
            if (s.type == detail::pt_dynamic) {
                if (have_dynamic) return fail(error_code::duplicate, "PT_DYNAMIC", 0, 0, 0);
                have_dynamic = true;
                dynamic_segment = i;
            }
            if (s.type != detail::pt_load) continue;
            if (s.memory_size < s.file_size)
                return fail(error_code::below, "p_memsz", detail::p_memsz, s.file_size,
                            s.memory_size, "p_filesz");
            if (s.vaddr > ~std::uint64_t{0} - s.memory_size - detail::minimum_page_size)
                return fail(error_code::exceeds, "p_vaddr + p_memsz", detail::p_vaddr,
                            ~std::uint64_t{0} - detail::minimum_page_size, s.vaddr,
                            "the address space");
            if (s.align > 1 && !detail::is_power_of_two(s.align))
                return fail(error_code::not_power_of_two, "p_align", detail::p_align, 0, s.align);
            if (s.align > detail::maximum_alignment)
                return fail(error_code::exceeds, "p_align", detail::p_align,
                            detail::maximum_alignment, s.align, "the largest supported alignment");
            const std::uint64_t segment_bias = s.vaddr - s.offset;
            // The loader maps whole pages of the file: an address and its file offset must
            // share their position within a page (and within p_align, per the gABI).
            const std::uint64_t congruence =
                s.align > detail::minimum_page_size ? s.align : detail::minimum_page_size;
            if (segment_bias % congruence != 0)
                return fail(error_code::not_multiple, "p_vaddr - p_offset", detail::p_vaddr,
                            congruence, segment_bias, "the page size");
            if (have_load) {
                if (s.vaddr < previous_vaddr)
                    return fail(error_code::below, "p_vaddr", detail::p_vaddr, previous_vaddr,
                                s.vaddr, "p_vaddr of the previous PT_LOAD",
                                "PT_LOADs must be sorted by address");
                if (s.vaddr < previous_end)
                    return fail(error_code::below, "p_vaddr", detail::p_vaddr, previous_end, s.vaddr,
                                "the end of the previous PT_LOAD", "PT_LOADs must not overlap");
                if (segment_bias != bias) uniform_load_bias_ = false;
            } else {
                first_load_vaddr_ = s.vaddr;
                bias = segment_bias;
                have_load = true;
            }
            previous_vaddr = s.vaddr;
            previous_end = s.vaddr + s.memory_size;
            ++load_count_;
        }
        if (!have_load) {
            failure = make_error(error_code::missing, where, error::no_index, "PT_LOAD", phoff_, 0,
                                 0, "nothing to map");
            return false;
        }
        if (!have_dynamic) {
            failure = make_error(error_code::missing, where, error::no_index, "PT_DYNAMIC", phoff_,
                                 0, 0, "symbols are found through the dynamic table");
            return false;
        }
        image_end_ = (previous_end + detail::minimum_page_size - 1) & ~(detail::minimum_page_size - 1);
        return parse_notes(failure) && parse_dynamic(dynamic_segment, failure);
    }

    bool parse_notes(error& failure) const noexcept {
        for (std::uint32_t i = 0; i < segment_count_; ++i) {
            const segment s = segment_at(i);
            if (s.type != detail::pt_note || s.file_size == 0) continue;
            failure.code = error_code::bad_value;
            failure.field = nullptr;
            walk_notes(s, [](const note&) { return true; }, &failure);
            if (failure.field != nullptr) return false;
        }
        return true;
    }

    bool parse_dynamic(std::uint32_t dynamic_segment, error& failure) noexcept {
        using detail::make_error;
        const segment d = segment_at(dynamic_segment);
        const std::uint64_t header =
            phoff_ + std::uint64_t{dynamic_segment} * detail::program_header_size;
        detail::file_location table;
        if (!locate(d.vaddr, d.file_size, table) || table.offset != d.offset) {
            failure = make_error(error_code::unmapped_address, error_structure::dynamic_table,
                                 error::no_index, "PT_DYNAMIC p_vaddr", header + detail::p_vaddr,
                                 d.file_size, d.vaddr);
            return false;
        }
        dynamic_offset_ = d.offset;
        const std::uint64_t capacity = d.file_size / detail::dynamic_entry_size;
        std::uint64_t strtab = 0, strsz = 0, symtab = 0, syment = 0, hash = 0, gnu_hash = 0,
                      versym = 0, verdef = 0, verdefnum = 0, rela = 0, relasz = 0, relaent = 0,
                      jmprel = 0, pltrelsz = 0, pltrel = 0, relr = 0, relrsz = 0, relrent = 0;
        bool has_strtab = false, has_strsz = false, has_symtab = false, has_hash = false,
             has_gnu_hash = false, has_versym = false, has_verdef = false, has_rela = false,
             has_jmprel = false, has_verdefnum = false, has_relr = false, has_relrent = false;
        // Counts are kept in 32 bits to keep `image` small; no real table comes near.
        dynamic_count_ = static_cast<std::uint32_t>(capacity > 0xffffffffu ? 0xffffffffu : capacity);
        for (std::uint64_t i = 0; i < capacity; ++i) {
            const std::uint64_t at = dynamic_offset_ + i * detail::dynamic_entry_size;
            const auto tag = static_cast<std::int64_t>(reader_.u64(at));
            const std::uint64_t value = reader_.u64(at + 8);
            const auto index = static_cast<std::uint32_t>(i);
            auto fail = [&](error_code code, const char* field, const char* limit = "") {
                failure = make_error(code, error_structure::dynamic_entry, index, field, at, 0,
                                     value, limit);
                return false;
            };
            switch (tag) {
                case detail::dt_null: dynamic_count_ = index; i = capacity; break;
                case detail::dt_strtab: strtab = value; has_strtab = true; break;
                case detail::dt_strsz: strsz = value; has_strsz = true; break;
                case detail::dt_symtab: symtab = value; has_symtab = true; break;
                case detail::dt_syment: syment = value; break;
                case detail::dt_hash: hash = value; has_hash = true; break;
                case detail::dt_gnu_hash: gnu_hash = value; has_gnu_hash = true; break;
                case detail::dt_versym: versym = value; has_versym = true; break;
                case detail::dt_verdef: verdef = value; has_verdef = true; break;
                case detail::dt_verdefnum: verdefnum = value; has_verdefnum = true; break;
                case detail::dt_rela: rela = value; has_rela = true; break;
                case detail::dt_relasz: relasz = value; break;
                case detail::dt_relaent: relaent = value; break;
                case detail::dt_jmprel: jmprel = value; has_jmprel = true; break;
                case detail::dt_pltrelsz: pltrelsz = value; break;
                case detail::dt_pltrel: pltrel = value; break;
                case detail::dt_textrel: return fail(error_code::text_relocations, "DT_TEXTREL");
                case detail::dt_flags:
                    if (value & detail::df_textrel)
                        return fail(error_code::text_relocations, "DT_FLAGS (DF_TEXTREL)");
                    break;
                case detail::dt_rel:
                case detail::dt_relsz:
                    return fail(error_code::unsupported_feature, "DT_REL/DT_RELSZ",
                                "ELF64 images on x86-64, aarch64 and riscv64 use DT_RELA");
                case detail::dt_relr: relr = value; has_relr = true; break;
                case detail::dt_relrsz: relrsz = value; break;
                case detail::dt_relrent: relrent = value; has_relrent = true; break;
                default: break;
            }
        }
        // Remembers the file offset of a dynamic entry's value for error messages.
        auto entry_offset = [&](std::int64_t wanted) {
            for (std::uint64_t i = 0; i < dynamic_count_; ++i) {
                const std::uint64_t at = dynamic_offset_ + i * detail::dynamic_entry_size;
                if (static_cast<std::int64_t>(reader_.u64(at)) == wanted) return at + 8;
            }
            return dynamic_offset_;
        };
        auto unmapped = [&](std::int64_t tag, const char* field, std::uint64_t address,
                            std::uint64_t length, error_structure structure) {
            failure = make_error(error_code::unmapped_address, structure, error::no_index, field,
                                 entry_offset(tag), length, address);
            return false;
        };
        auto missing = [&](const char* field, const char* why) {
            failure = make_error(error_code::missing, error_structure::dynamic_table,
                                 error::no_index, field, dynamic_offset_, 0, 0, why);
            return false;
        };
        detail::file_location location;

        // String table: must end with NUL so every in-bounds name is terminated.
        if (has_strtab) {
            if (!has_strsz) return missing("DT_STRSZ", "DT_STRTAB has no size");
            if (!locate(strtab, strsz, location))
                return unmapped(detail::dt_strtab, "DT_STRTAB", strtab, strsz,
                                error_structure::string_table);
            dynstr_offset_ = location.offset;
            dynstr_size_ = strsz;
            if (strsz != 0 && reader_.u8(dynstr_offset_ + strsz - 1) != 0) {
                failure = make_error(error_code::not_terminated, error_structure::string_table,
                                     error::no_index, "last byte of DT_STRTAB",
                                     dynstr_offset_ + strsz - 1, 0,
                                     reader_.u8(dynstr_offset_ + strsz - 1));
                return false;
            }
        }

        // SysV hash: nbucket, nchain, buckets[nbucket], chains[nchain]; nchain = symbol count.
        if (has_hash) {
            if (!locate(hash, 8, location))
                return unmapped(detail::dt_hash, "DT_HASH", hash, 8, error_structure::sysv_hash_table);
            sysv_.offset = location.offset;
            sysv_.bucket_count = reader_.u32(location.offset);
            sysv_.chain_count = reader_.u32(location.offset + 4);
            const std::uint64_t length =
                8 + 4 * (std::uint64_t{sysv_.bucket_count} + sysv_.chain_count);
            if (length > location.available) {
                failure = make_error(error_code::exceeds, error_structure::sysv_hash_table,
                                     error::no_index, "8 + 4 * (nbucket + nchain)", location.offset,
                                     location.available, length,
                                     "the file bytes of its PT_LOAD");
                return false;
            }
            dynsym_count_ = sysv_.chain_count;
        }

        // GNU hash: nbuckets, symoffset, bloom_size, bloom_shift, bloom[], buckets[], chain[].
        if (has_gnu_hash) {
            if (!locate(gnu_hash, 16, location))
                return unmapped(detail::dt_gnu_hash, "DT_GNU_HASH", gnu_hash, 16,
                                error_structure::gnu_hash_table);
            gnu_.offset = location.offset;
            gnu_.bucket_count = reader_.u32(location.offset);
            gnu_.symbol_offset = reader_.u32(location.offset + 4);
            gnu_.bloom_size = reader_.u32(location.offset + 8);
            gnu_.bloom_shift = reader_.u32(location.offset + 12);
            auto bad = [&](error_code code, const char* field, std::uint64_t field_offset,
                           std::uint64_t expected, std::uint64_t found, const char* limit = "") {
                failure = make_error(code, error_structure::gnu_hash_table, error::no_index, field,
                                     location.offset + field_offset, expected, found, limit);
                return false;
            };
            if (gnu_.bucket_count == 0)
                return bad(error_code::below, "nbuckets", 0, 1, 0, "the minimum");
            if (gnu_.bloom_size == 0)
                return bad(error_code::below, "bloom_size", 8, 1, 0, "the minimum");
            // The second Bloom bit is h >> bloom_shift of a 32-bit hash: a larger shift is garbage.
            if (gnu_.bloom_shift > 31)
                return bad(error_code::exceeds, "bloom_shift", 12, 31, gnu_.bloom_shift, "the maximum");
            const std::uint64_t header_length =
                16 + 8 * std::uint64_t{gnu_.bloom_size} + 4 * std::uint64_t{gnu_.bucket_count};
            if (header_length > location.available)
                return bad(error_code::exceeds, "16 + 8 * bloom_size + 4 * nbuckets", 0,
                           location.available, header_length, "the file bytes of its PT_LOAD");
            // The symbol count is not stored: it is one past the end of the last bucket's chain.
            std::uint32_t last_start = 0;
            for (std::uint32_t b = 0; b < gnu_.bucket_count; ++b) {
                const std::uint32_t start = reader_.u32(gnu_.buckets_offset() + std::uint64_t{b} * 4);
                if (start != 0 && start < gnu_.symbol_offset)
                    return bad(error_code::below, "bucket", 16 + 8 * std::uint64_t{gnu_.bloom_size} + 4 * std::uint64_t{b},
                               gnu_.symbol_offset, start, "symoffset");
                if (start > last_start) last_start = start;
            }
            std::uint64_t symbol_count = gnu_.symbol_offset;
            if (last_start != 0) {
                const std::uint64_t chain_bytes = location.available - header_length;
                std::uint64_t i = last_start;
                for (;; ++i) {
                    const std::uint64_t slot = (i - gnu_.symbol_offset) * 4;
                    if (slot + 4 > chain_bytes)
                        return bad(error_code::exceeds, "chain end of the last bucket",
                                   header_length, location.available, header_length + slot + 4,
                                   "the file bytes of its PT_LOAD");
                    if (reader_.u32(gnu_.chain_offset() + slot) & 1) break;
                }
                symbol_count = i + 1;
            }
            if (symbol_count > 0xffffffffu)
                return bad(error_code::too_many, "symbol count", 0, 0xffffffffu, symbol_count);
            if (symbol_count > dynsym_count_) dynsym_count_ = static_cast<std::uint32_t>(symbol_count);
        }

        // Symbol table: syment must be Elf64_Sym; all counted symbols inside the file.
        if (has_symtab) {
            if (syment != 0 && syment != detail::symbol_entry_size) {
                failure = make_error(error_code::bad_value, error_structure::dynamic_entry,
                                     error::no_index, "DT_SYMENT", entry_offset(detail::dt_syment),
                                     detail::symbol_entry_size, syment, "sizeof(Elf64_Sym)");
                return false;
            }
            const std::uint64_t length = dynsym_count_ * detail::symbol_entry_size;
            if (!locate(symtab, length, location))
                return unmapped(detail::dt_symtab, "DT_SYMTAB", symtab, length,
                                error_structure::dynamic_symbol);
            dynsym_offset_ = location.offset;
        } else if (dynsym_count_ != 0) {
            return missing("DT_SYMTAB", "the hash tables count symbols");
        }
        if (dynsym_count_ > 1 && !has_strtab) return missing("DT_STRTAB", "symbols need names");
        for (std::uint64_t i = 1; i < dynsym_count_; ++i) {
            const std::uint64_t at = dynsym_offset_ + i * detail::symbol_entry_size;
            const std::uint32_t name = reader_.u32(at);
            if (name >= dynstr_size_ && !(name == 0 && dynstr_size_ == 0)) {
                failure = make_error(error_code::exceeds, error_structure::dynamic_symbol,
                                     static_cast<std::uint32_t>(i), "st_name", at,
                                     dynstr_size_, name, "DT_STRSZ");
                return false;
            }
        }

        // Versions: one u16 per symbol, and a chain of Verdef + Verdaux.
        if (has_versym) {
            const std::uint64_t length = dynsym_count_ * 2;
            if (!locate(versym, length, location))
                return unmapped(detail::dt_versym, "DT_VERSYM", versym, length,
                                error_structure::version_symbol_table);
            versym_offset_ = location.offset;
            versym_present_ = true;
        }
        if (has_verdef) {
            if (!has_verdefnum) return missing("DT_VERDEFNUM", "DT_VERDEF has no count");
            if (!locate(verdef, detail::verdef_size, location))
                return unmapped(detail::dt_verdef, "DT_VERDEF", verdef, detail::verdef_size,
                                error_structure::version_definition);
            verdef_offset_ = location.offset;
            // Clamped to 32 bits to keep `image` small: a version chain is never 4 GiB long.
            verdef_available_ = static_cast<std::uint32_t>(
                location.available > 0xffffffffu ? 0xffffffffu : location.available);
            // More definitions than fit in the file cannot exist; the walk below stops at vd_next = 0.
            verdef_count_ = verdefnum > 0xffffffffu ? 0xffffffffu : static_cast<std::uint32_t>(verdefnum);
            std::uint64_t at = 0;
            for (std::uint64_t k = 0; k < verdefnum; ++k) {
                const std::uint64_t entry = verdef_offset_ + at;
                auto bad = [&](error_code code, const char* field, std::uint64_t field_offset,
                               std::uint64_t expected, std::uint64_t found, const char* limit) {
                    failure = make_error(code, error_structure::version_definition,
                                         static_cast<std::uint32_t>(k), field, entry + field_offset,
                                         expected, found, limit);
                    return false;
                };
                if (at + detail::verdef_size > verdef_available_)
                    return bad(error_code::exceeds, "vd_next chain", 0, verdef_available_,
                               at + detail::verdef_size, "the file bytes of its PT_LOAD");
                if (reader_.u16(entry) != 1)
                    return bad(error_code::bad_value, "vd_version", 0, 1, reader_.u16(entry),
                               "VER_DEF_CURRENT");
                const std::uint64_t aux = reader_.u32(entry + 12);
                if (aux + detail::verdaux_size > verdef_available_ - at)
                    return bad(error_code::exceeds, "vd_aux", 12, verdef_available_ - at, aux,
                               "the file bytes of its PT_LOAD");
                const std::uint32_t name = reader_.u32(entry + aux);
                if (name >= dynstr_size_)
                    return bad(error_code::exceeds, "vda_name", aux, dynstr_size_, name,
                               "DT_STRSZ");
                const std::uint32_t next = reader_.u32(entry + 16);
                if (next == 0) break;
                at += next;
            }
        }

        // Relocations: Elf64_Rela tables, types known for the architecture.
        if (has_rela && !read_relocation_table(rela, relasz, relaent, entry_offset(detail::dt_rela),
                                               entry_offset(detail::dt_relaent), "DT_RELA",
                                               rela_offset_, rela_count_, failure))
            return false;
        if (has_jmprel) {
            if (pltrel != static_cast<std::uint64_t>(detail::dt_rela)) {
                failure = make_error(error_code::bad_value, error_structure::dynamic_entry,
                                     error::no_index, "DT_PLTREL", entry_offset(detail::dt_pltrel),
                                     static_cast<std::uint64_t>(detail::dt_rela), pltrel, "DT_RELA");
                return false;
            }
            if (!read_relocation_table(jmprel, pltrelsz, detail::relocation_entry_size,
                                       entry_offset(detail::dt_jmprel), dynamic_offset_,
                                       "DT_JMPREL", jmprel_offset_,
                                       jmprel_count_, failure))
                return false;
        }
        if (has_relr && !read_relr_table(relr, relrsz, has_relrent ? relrent : 8,
                                         entry_offset(detail::dt_relr), failure))
            return false;
        std::uint32_t number = 0;
        const auto check = [&](std::uint64_t table, std::uint64_t count) {
            for (std::uint64_t i = 0; i < count; ++i, ++number) {
                const relocation r = relocation_at(table + i * detail::relocation_entry_size);
                if (!is_known_relocation_type(machine_, r.type)) {
                    failure = detail::make_error(error_code::unsupported_relocation,
                                                 error_structure::relocation, number, "r_info",
                                                 r.file_offset + 8, r.offset, r.type);
                    return false;
                }
                if (r.symbol_index != 0 && r.symbol_index >= dynsym_count_) {
                    failure = detail::make_error(error_code::exceeds, error_structure::relocation,
                                                 number, "symbol index of r_info", r.file_offset + 8,
                                                 dynsym_count_, r.symbol_index,
                                                 "the dynamic symbol count");
                    return false;
                }
            }
            return true;
        };
        return check(rela_offset_, rela_count_) && check(jmprel_offset_, jmprel_count_);
    }

    bool read_relocation_table(std::uint64_t address, std::uint64_t size, std::uint64_t entry_size,
                               std::uint64_t entry_at, std::uint64_t entry_size_at,
                               const char* field, std::uint64_t& offset,
                               std::uint32_t& count, error& failure) const noexcept {
        if (entry_size != detail::relocation_entry_size) {
            failure = detail::make_error(error_code::bad_value, error_structure::dynamic_entry,
                                         error::no_index, "DT_RELAENT", entry_size_at,
                                         detail::relocation_entry_size, entry_size,
                                         "sizeof(Elf64_Rela)");
            return false;
        }
        if (size % detail::relocation_entry_size != 0) {
            failure = detail::make_error(error_code::not_multiple, error_structure::dynamic_entry,
                                         error::no_index, "relocation table size", entry_at,
                                         detail::relocation_entry_size, size, "sizeof(Elf64_Rela)");
            return false;
        }
        // Linkers leave DT_RELA = 0 with DT_RELASZ = 0 when all relocations went to DT_RELR.
        if (size == 0) return true;
        detail::file_location location;
        if (!locate(address, size, location)) {
            failure = detail::make_error(error_code::unmapped_address, error_structure::relocation,
                                         error::no_index, field, entry_at, size, address);
            return false;
        }
        offset = location.offset;
        if (size / detail::relocation_entry_size > 0xffffffffu) {
            failure = detail::make_error(error_code::too_many, error_structure::relocation,
                                         error::no_index, field, entry_at, 0xffffffffu,
                                         size / detail::relocation_entry_size);
            return false;
        }
        count = static_cast<std::uint32_t>(size / detail::relocation_entry_size);
        return true;
    }

    // DT_RELR: 64-bit words, the first an address; counts the relocations they encode.
    bool read_relr_table(std::uint64_t address, std::uint64_t size, std::uint64_t entry_size,
                         std::uint64_t entry_at, error& failure) noexcept {
        using detail::make_error;
        if (entry_size != 8) {
            failure = make_error(error_code::bad_value, error_structure::dynamic_entry,
                                 error::no_index, "DT_RELRENT", entry_at, 8, entry_size, "sizeof(Elf64_Relr)");
            return false;
        }
        if (size % 8 != 0) {
            failure = make_error(error_code::not_multiple, error_structure::dynamic_entry,
                                 error::no_index, "DT_RELRSZ", entry_at, 8, size, "sizeof(Elf64_Relr)");
            return false;
        }
        if (size == 0) return true;
        detail::file_location location;
        if (!locate(address, size, location)) {
            failure = make_error(error_code::unmapped_address, error_structure::relocation,
                                 error::no_index, "DT_RELR", entry_at, size, address);
            return false;
        }
        std::uint64_t count = 0;
        for (std::uint64_t k = 0; k < size / 8; ++k) {
            const std::uint64_t entry = reader_.u64(location.offset + k * 8);
            if (k == 0 && (entry & 1)) {
                failure = make_error(error_code::bad_value, error_structure::relocation, 0,
                                     "first DT_RELR word", location.offset, 0, entry & 1,
                                     "an address, i.e. bit 0 clear");
                return false;
            }
            count += (entry & 1) ? detail::count_bits(entry >> 1) : 1;
        }
        if (size / 8 > 0xffffffffu || count > 0xffffffffu) {
            failure = make_error(error_code::too_many, error_structure::relocation, error::no_index,
                                 "DT_RELR relocation count", entry_at, 0xffffffffu, count);
            return false;
        }
        relr_offset_ = location.offset;
        relr_words_ = static_cast<std::uint32_t>(size / 8);
        relr_count_ = static_cast<std::uint32_t>(count);
        return true;
    }

    bool parse_sections(error& failure) noexcept {
        using detail::make_error;
        const auto header = error_structure::elf_header;
        shoff_ = reader_.u64(detail::e_shoff);
        std::uint64_t count = reader_.u16(detail::e_shnum);
        if (shoff_ == 0) {
            section_count_ = 0;  // stripped of section headers: fine for a loadable image
            return true;
        }
        const std::uint16_t entry_size = reader_.u16(detail::e_shentsize);
        if (entry_size != detail::section_header_size) {
            failure = make_error(error_code::bad_value, header, error::no_index, "e_shentsize",
                                 detail::e_shentsize, detail::section_header_size, entry_size,
                                 "sizeof(Elf64_Shdr)");
            return false;
        }
        if (!reader_.contains(shoff_, detail::section_header_size)) {
            failure = make_error(error_code::exceeds, header, error::no_index, "e_shoff",
                                 detail::e_shoff, reader_.size(), shoff_, "file size");
            return false;
        }
        // Extended numbering: with e_shnum = 0 (or e_shstrndx = SHN_XINDEX) the real values are in
        // section header 0's sh_size (sh_link).
        if (count == 0) count = reader_.u64(shoff_ + detail::sh_size);
        std::uint64_t names = reader_.u16(detail::e_shstrndx);
        if (names == detail::shn_xindex) names = reader_.u32(shoff_ + detail::sh_link);
        const std::uint64_t max_count = (reader_.size() - shoff_) / detail::section_header_size;
        if (count > max_count) {
            failure = make_error(error_code::exceeds, header, error::no_index,
                                 "e_shoff + e_shnum * e_shentsize", detail::e_shnum, reader_.size(),
                                 shoff_ + count * detail::section_header_size, "file size");
            return false;
        }
        section_count_ = static_cast<std::uint32_t>(count);
        for (std::uint32_t i = 0; i < section_count_; ++i) {
            const std::uint64_t at = shoff_ + std::uint64_t{i} * detail::section_header_size;
            const std::uint32_t type = reader_.u32(at + detail::sh_type);
            const std::uint64_t offset = reader_.u64(at + detail::sh_offset);
            const std::uint64_t size = reader_.u64(at + detail::sh_size);
            if (i != 0 && type != detail::sht_nobits && !reader_.contains(offset, size)) {
                failure = make_error(error_code::exceeds, error_structure::section_header, i,
                                     "sh_offset + sh_size", at + detail::sh_offset, reader_.size(),
                                     offset > ~size ? ~std::uint64_t{0} : offset + size, "file size");
                return false;
            }
        }
        if (names != 0) {
            std::uint64_t shstrtab_offset = 0, shstrtab_size_ = 0;
            if (!string_table_section(static_cast<std::uint64_t>(names), "e_shstrndx",
                                      detail::e_shstrndx, shstrtab_offset, shstrtab_size_, failure))
                return false;
            shstrtab_index_ = static_cast<std::uint32_t>(names);
            for (std::uint32_t i = 0; i < section_count_; ++i) {
                const std::uint64_t at = shoff_ + std::uint64_t{i} * detail::section_header_size;
                const std::uint32_t name = reader_.u32(at + detail::sh_name);
                if (name != 0 && name >= shstrtab_size_) {
                    failure = make_error(error_code::exceeds, error_structure::section_header, i,
                                         "sh_name", at + detail::sh_name, shstrtab_size_, name,
                                         "the section name table size");
                    return false;
                }
            }
        }
        // .symtab, the full symbol table (absent from stripped files and from most vDSOs).
        for (std::uint32_t i = 0; i < section_count_; ++i) {
            const std::uint64_t at = shoff_ + std::uint64_t{i} * detail::section_header_size;
            if (reader_.u32(at + detail::sh_type) != detail::sht_symtab) continue;
            const std::uint64_t entry_size_found = reader_.u64(at + detail::sh_entsize);
            const std::uint64_t size = reader_.u64(at + detail::sh_size);
            if (entry_size_found != detail::symbol_entry_size) {
                failure = make_error(error_code::bad_value, error_structure::section_header, i,
                                     "sh_entsize", at + detail::sh_entsize,
                                     detail::symbol_entry_size, entry_size_found, "sizeof(Elf64_Sym)");
                return false;
            }
            std::uint64_t symtab_strtab_offset_ = 0, symtab_strtab_size_ = 0;
            if (!string_table_section(reader_.u32(at + detail::sh_link), "sh_link",
                                      at + detail::sh_link, symtab_strtab_offset_,
                                      symtab_strtab_size_, failure))
                return false;
            const std::uint64_t symtab_offset_ = reader_.u64(at + detail::sh_offset);
            if (size / detail::symbol_entry_size > 0xffffffffu) {
                failure = make_error(error_code::too_many, error_structure::section_header, i,
                                     "sh_size / sh_entsize", at + detail::sh_size, 0xffffffffu,
                                     size / detail::symbol_entry_size);
                return false;
            }
            symtab_count_ = static_cast<std::uint32_t>(size / detail::symbol_entry_size);
            for (std::uint64_t k = 1; k < symtab_count_; ++k) {
                const std::uint64_t symbol_at = symtab_offset_ + k * detail::symbol_entry_size;
                const std::uint32_t name = reader_.u32(symbol_at);
                if (name != 0 && name >= symtab_strtab_size_) {
                    failure = make_error(error_code::exceeds, error_structure::symbol,
                                         static_cast<std::uint32_t>(k), "st_name", symbol_at,
                                         symtab_strtab_size_, name, "its string table size");
                    return false;
                }
            }
            symtab_index_ = i;
            break;
        }
        return true;
    }

    // Checks that section `index` is a NUL-terminated SHT_STRTAB and returns its bytes.
    bool string_table_section(std::uint64_t index, const char* field, std::uint64_t field_offset,
                              std::uint64_t& offset, std::uint64_t& size, error& failure) const noexcept {
        using detail::make_error;
        if (index >= section_count_) {
            failure = make_error(error_code::exceeds, error_structure::section_header,
                                 error::no_index, field, field_offset, section_count_, index,
                                 "the section count");
            return false;
        }
        const std::uint64_t at = shoff_ + index * detail::section_header_size;
        const std::uint32_t type = reader_.u32(at + detail::sh_type);
        if (type != detail::sht_strtab) {
            failure = make_error(error_code::bad_value, error_structure::section_header,
                                 static_cast<std::uint32_t>(index), "sh_type", at + detail::sh_type,
                                 detail::sht_strtab, type, "SHT_STRTAB");
            return false;
        }
        offset = reader_.u64(at + detail::sh_offset);
        size = reader_.u64(at + detail::sh_size);
        if (size != 0 && reader_.u8(offset + size - 1) != 0) {
            failure = make_error(error_code::not_terminated, error_structure::string_table,
                                 static_cast<std::uint32_t>(index), "last byte of section",
                                 offset + size - 1, 0, reader_.u8(offset + size - 1));
            return false;
        }
        return true;
    }

    // Kept under 256 bytes: Clang zeroes larger objects with a call to memset.
    detail::byte_reader reader_{};
    std::uint64_t phoff_ = 0, shoff_ = 0;
    std::uint64_t first_load_vaddr_ = 0, image_end_ = 0;
    std::uint64_t dynamic_offset_ = 0, dynstr_offset_ = 0, dynstr_size_ = 0, dynsym_offset_ = 0;
    std::uint64_t versym_offset_ = 0, verdef_offset_ = 0, relr_offset_ = 0;
    std::uint64_t rela_offset_ = 0, jmprel_offset_ = 0;
    sysv_table sysv_{};
    gnu_table gnu_{};
    std::uint32_t segment_count_ = 0, load_count_ = 0, section_count_ = 0;
    std::uint32_t shstrtab_index_ = 0, symtab_index_ = 0, verdef_available_ = 0;
    std::uint32_t relr_words_ = 0, relr_count_ = 0;
    std::uint32_t symtab_count_ = 0, dynamic_count_ = 0, dynsym_count_ = 0, verdef_count_ = 0;
    std::uint32_t rela_count_ = 0, jmprel_count_ = 0;
    machine machine_ = native_machine;
    bool uniform_load_bias_ = true;
    bool versym_present_ = false;
};

static_assert(sizeof(image) <= 256,
              "vdsokit: keep elf::image under 256 bytes, or Clang zeroes and copies it with "
              "memset/memcpy calls that freestanding users may not have");

}  // namespace vdsokit::elf
