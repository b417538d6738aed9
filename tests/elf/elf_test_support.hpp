// Hosted helpers for the ELF reader's tests, the seed generator and the fuzz target: reading real
// images (files, the running kernel's vDSO), describing errors as std::string, and a catalogue of
// mutations that each break one rule of a real image (truncation, lying offsets, huge counts,
// overlapping segments, W+X, TEXTREL, out-of-bounds hash tables ...).
#pragma once

#include <sys/auxv.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <iterator>
#include <string>
#include <vector>

#include <vdsokit/elf.hpp>
#include <vdsokit/load_plan.hpp>

namespace vdsokit::elf::testing {

using bytes = std::vector<std::byte>;

inline bytes read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    bytes out(chars.size());
    if (!chars.empty()) std::memcpy(out.data(), chars.data(), chars.size());
    return out;
}

inline std::string environment_path(const char* variable) {
    const char* value = std::getenv(variable);
    return value ? value : "";
}

// The running kernel's vDSO: AT_SYSINFO_EHDR, sized by its [vdso] mapping in /proc/self/maps
// (the section headers lie past the last PT_LOAD's file bytes, inside the mapped pages).
inline std::span<const std::byte> kernel_vdso() {
    const auto base = static_cast<std::uintptr_t>(getauxval(AT_SYSINFO_EHDR));
    if (base == 0) return {};
    std::ifstream maps("/proc/self/maps");
    std::string line;
    while (std::getline(maps, line)) {
        if (line.find("[vdso]") == std::string::npos) continue;
        unsigned long start = 0, end = 0;
        if (std::sscanf(line.c_str(), "%lx-%lx", &start, &end) == 2 && start == base)
            return {reinterpret_cast<const std::byte*>(base), static_cast<std::size_t>(end - start)};
    }
    return {};
}

inline std::string message(const error& failure) {
    char buffer[512];
    describe(failure, buffer, sizeof buffer);
    return buffer;
}

inline std::string text(name_view name) { return std::string(name.data(), name.size()); }

// ---- Editing a copy of an image -------------------------------------------------------------

inline std::uint64_t get(const bytes& file, std::uint64_t offset, unsigned width) {
    std::uint64_t value = 0;
    for (unsigned i = width; i-- > 0;)
        value = (value << 8) | static_cast<std::uint8_t>(file.at(offset + i));
    return value;
}
inline void put(bytes& file, std::uint64_t offset, unsigned width, std::uint64_t value) {
    for (unsigned i = 0; i < width; ++i) file.at(offset + i) = static_cast<std::byte>(value >> (8 * i));
}

inline std::uint64_t program_header_offset(const bytes& file, std::uint32_t index) {
    return get(file, detail::e_phoff, 8) + std::uint64_t{index} * detail::program_header_size;
}
inline std::uint32_t program_header_count(const bytes& file) {
    return static_cast<std::uint32_t>(get(file, detail::e_phnum, 2));
}
// Index of the n-th program header of `type`, or -1.
inline int find_program_header(const bytes& file, std::uint32_t type, int nth = 0) {
    for (std::uint32_t i = 0; i < program_header_count(file); ++i)
        if (get(file, program_header_offset(file, i), 4) == type && nth-- == 0) return static_cast<int>(i);
    return -1;
}
// File offset of the dynamic entry with `tag`, or 0.
inline std::uint64_t dynamic_entry_offset(const bytes& file, std::int64_t tag) {
    const int dynamic = find_program_header(file, detail::pt_dynamic);
    if (dynamic < 0) return 0;
    const std::uint64_t header = program_header_offset(file, static_cast<std::uint32_t>(dynamic));
    const std::uint64_t start = get(file, header + detail::p_offset, 8);
    const std::uint64_t size = get(file, header + detail::p_filesz, 8);
    for (std::uint64_t at = start; at + 16 <= start + size; at += 16) {
        const auto found = static_cast<std::int64_t>(get(file, at, 8));
        if (found == tag) return at;
        if (found == detail::dt_null) break;
    }
    return 0;
}
// File offset that a dynamic entry's address translates to, through a parse of the intact file.
inline std::uint64_t dynamic_table_file_offset(const bytes& file, std::int64_t tag) {
    const std::uint64_t entry = dynamic_entry_offset(file, tag);
    if (entry == 0) return 0;
    auto parsed = image::parse(file);
    std::uint64_t offset = 0;
    if (!parsed || !parsed.value().file_offset_of(get(file, entry + 8, 8), 1, offset)) return 0;
    return offset;
}

// One way to break a real image. `apply` returns false if the image lacks what it mutates.
struct mutation {
    std::string name;
    std::function<bool(bytes&)> apply;
};

inline std::vector<mutation> mutations() {
    using detail::p_align;
    using detail::p_filesz;
    using detail::p_flags;
    using detail::p_memsz;
    using detail::p_offset;
    using detail::p_vaddr;
    auto load = [](const bytes& f, int nth) { return find_program_header(f, detail::pt_load, nth); };
    std::vector<mutation> all;
    all.push_back({"truncated-to-header", [](bytes& f) { f.resize(40); return true; }});
    all.push_back({"truncated-half", [](bytes& f) { f.resize(f.size() / 2); return true; }});
    all.push_back({"truncated-phdrs", [](bytes& f) { f.resize(get(f, detail::e_phoff, 8) + 60); return true; }});
    all.push_back({"bad-magic", [](bytes& f) { f[1] = std::byte{'X'}; return true; }});
    all.push_back({"class-32", [](bytes& f) { f[detail::ei_class] = std::byte{1}; return true; }});
    all.push_back({"big-endian", [](bytes& f) { f[detail::ei_data] = std::byte{2}; return true; }});
    all.push_back({"executable-type", [](bytes& f) { put(f, detail::e_type, 2, 2); return true; }});
    all.push_back({"wrong-machine", [](bytes& f) { put(f, detail::e_machine, 2, 40); return true; }});
    all.push_back({"phentsize", [](bytes& f) { put(f, detail::e_phentsize, 2, 32); return true; }});
    all.push_back({"phoff-past-end", [](bytes& f) { put(f, detail::e_phoff, 8, f.size() - 8); return true; }});
    all.push_back({"phoff-huge", [](bytes& f) { put(f, detail::e_phoff, 8, ~std::uint64_t{0} - 16); return true; }});
    all.push_back({"phnum-huge", [](bytes& f) { put(f, detail::e_phnum, 2, 0xffff); return true; }});
    all.push_back({"segment-past-end", [load](bytes& f) {
        const int i = load(f, 0);
        put(f, program_header_offset(f, i) + p_filesz, 8, f.size() + 0x1000);
        put(f, program_header_offset(f, i) + p_memsz, 8, f.size() + 0x1000);
        return true;
    }});
    all.push_back({"segment-offset-huge", [load](bytes& f) {
        put(f, program_header_offset(f, load(f, 0)) + p_offset, 8, ~std::uint64_t{0} - 0xfff);
        return true;
    }});
    all.push_back({"overlapping-segments", [load](bytes& f) {
        const int second = load(f, 1);
        if (second < 0) return false;
        const std::uint64_t at = program_header_offset(f, second);
        const std::uint64_t first_vaddr = get(f, program_header_offset(f, load(f, 0)) + p_vaddr, 8);
        // Keep the congruence so that the overlap is what is reported.
        put(f, at + p_offset, 8, get(f, at + p_offset, 8) - (get(f, at + p_vaddr, 8) - first_vaddr));
        put(f, at + p_vaddr, 8, first_vaddr);
        return true;
    }});
    all.push_back({"unsorted-segments", [load](bytes& f) {
        const int first = load(f, 0), second = load(f, 1);
        if (second < 0) return false;
        const std::uint64_t a = program_header_offset(f, first), b = program_header_offset(f, second);
        for (std::uint64_t k = 0; k < detail::program_header_size; ++k) std::swap(f[a + k], f[b + k]);
        return true;
    }});
    all.push_back({"writable-and-executable", [load](bytes& f) {
        put(f, program_header_offset(f, load(f, 0)) + p_flags, 4, 7);
        return true;
    }});
    all.push_back({"incongruent-segment", [load](bytes& f) {
        const std::uint64_t at = program_header_offset(f, load(f, 0));
        put(f, at + p_vaddr, 8, get(f, at + p_vaddr, 8) + 0x10);
        return true;
    }});
    all.push_back({"align-not-power-of-two", [load](bytes& f) {
        put(f, program_header_offset(f, load(f, 0)) + p_align, 8, 0x3000);
        return true;
    }});
    all.push_back({"memsz-below-filesz", [load](bytes& f) {
        const std::uint64_t at = program_header_offset(f, load(f, 0));
        put(f, at + p_memsz, 8, get(f, at + p_filesz, 8) - 1);
        return true;
    }});
    all.push_back({"no-dynamic", [](bytes& f) {
        const int d = find_program_header(f, detail::pt_dynamic);
        if (d < 0) return false;
        put(f, program_header_offset(f, d), 4, 0x6474e551);  // PT_GNU_STACK
        return true;
    }});
    all.push_back({"dynamic-outside-load", [](bytes& f) {
        const int d = find_program_header(f, detail::pt_dynamic);
        if (d < 0) return false;
        put(f, program_header_offset(f, d) + p_vaddr, 8, 0x7fff0000);
        return true;
    }});
    all.push_back({"textrel", [](bytes& f) {
        const std::uint64_t at = dynamic_entry_offset(f, detail::dt_syment);
        if (at == 0) return false;
        put(f, at, 8, detail::dt_textrel);
        return true;
    }});
    all.push_back({"flags-textrel", [](bytes& f) {
        const std::uint64_t at = dynamic_entry_offset(f, detail::dt_syment);
        if (at == 0) return false;
        put(f, at, 8, detail::dt_flags);
        put(f, at + 8, 8, detail::df_textrel);
        return true;
    }});
    all.push_back({"unsupported-relocation", [](bytes& f) {
        const std::uint64_t rela = dynamic_table_file_offset(f, detail::dt_rela);
        if (rela == 0) return false;
        put(f, rela + 8, 4, 200);
        return true;
    }});
    all.push_back({"relocation-table-past-end", [](bytes& f) {
        const std::uint64_t at = dynamic_entry_offset(f, detail::dt_relasz);
        if (at == 0) return false;
        put(f, at + 8, 8, 24 * 0x100000);
        return true;
    }});
    all.push_back({"strtab-unmapped", [](bytes& f) {
        const std::uint64_t at = dynamic_entry_offset(f, detail::dt_strtab);
        if (at == 0) return false;
        put(f, at + 8, 8, 0x7fff0000);
        return true;
    }});
    all.push_back({"strsz-huge", [](bytes& f) {
        const std::uint64_t at = dynamic_entry_offset(f, detail::dt_strsz);
        if (at == 0) return false;
        put(f, at + 8, 8, ~std::uint64_t{0} / 2);
        return true;
    }});
    all.push_back({"sysv-hash-unmapped", [](bytes& f) {
        const std::uint64_t at = dynamic_entry_offset(f, detail::dt_hash);
        if (at == 0) return false;
        put(f, at + 8, 8, 0x7fff0000);
        return true;
    }});
    all.push_back({"sysv-hash-huge-counts", [](bytes& f) {
        const std::uint64_t hash = dynamic_table_file_offset(f, detail::dt_hash);
        if (hash == 0) return false;
        put(f, hash, 4, 0x10000000);
        return true;
    }});
    all.push_back({"sysv-hash-huge-nchain", [](bytes& f) {
        const std::uint64_t hash = dynamic_table_file_offset(f, detail::dt_hash);
        if (hash == 0) return false;
        put(f, hash + 4, 4, 0xfffffff0);
        return true;
    }});
    all.push_back({"sysv-hash-chain-cycle", [](bytes& f) {
        const std::uint64_t hash = dynamic_table_file_offset(f, detail::dt_hash);
        if (hash == 0) return false;
        const std::uint64_t buckets = get(f, hash, 4), chains = get(f, hash + 4, 4);
        for (std::uint64_t i = 0; i < chains; ++i) put(f, hash + 8 + 4 * buckets + 4 * i, 4, 1);
        for (std::uint64_t b = 0; b < buckets; ++b) put(f, hash + 8 + 4 * b, 4, 1);
        return true;
    }});
    all.push_back({"gnu-hash-unmapped", [](bytes& f) {
        const std::uint64_t at = dynamic_entry_offset(f, detail::dt_gnu_hash);
        if (at == 0) return false;
        put(f, at + 8, 8, 0x7fff0000);
        return true;
    }});
    all.push_back({"gnu-hash-huge-bloom", [](bytes& f) {
        const std::uint64_t gnu = dynamic_table_file_offset(f, detail::dt_gnu_hash);
        if (gnu == 0) return false;
        put(f, gnu + 8, 4, 0x8000000);
        return true;
    }});
    all.push_back({"gnu-hash-zero-buckets", [](bytes& f) {
        const std::uint64_t gnu = dynamic_table_file_offset(f, detail::dt_gnu_hash);
        if (gnu == 0) return false;
        put(f, gnu, 4, 0);
        return true;
    }});
    all.push_back({"gnu-hash-endless-chain", [](bytes& f) {
        const std::uint64_t gnu = dynamic_table_file_offset(f, detail::dt_gnu_hash);
        if (gnu == 0) return false;
        // Without DT_HASH (retagged DT_DEBUG) the symbol count comes from the GNU chains alone.
        if (const std::uint64_t hash = dynamic_entry_offset(f, detail::dt_hash)) put(f, hash, 8, 21);
        const std::uint64_t buckets = get(f, gnu, 4), bloom = get(f, gnu + 8, 4);
        const std::uint64_t chain = gnu + 16 + 8 * bloom + 4 * buckets;
        // Clear every end-of-chain bit up to the end of the PT_LOAD holding the table.
        std::uint64_t end = f.size();
        for (std::uint32_t i = 0; i < program_header_count(f); ++i) {
            const std::uint64_t h = program_header_offset(f, i);
            const std::uint64_t start = get(f, h + detail::p_offset, 8), size = get(f, h + p_filesz, 8);
            if (get(f, h, 4) == detail::pt_load && gnu >= start && gnu < start + size) end = start + size;
        }
        for (std::uint64_t at = chain; at + 4 <= end; at += 4) f[at] &= std::byte{0xfe};
        return true;
    }});
    all.push_back({"gnu-hash-bucket-below-symoffset", [](bytes& f) {
        const std::uint64_t gnu = dynamic_table_file_offset(f, detail::dt_gnu_hash);
        if (gnu == 0) return false;
        // Raise symoffset above every bucket's first symbol.
        put(f, gnu + 4, 4, 0x1000);
        return true;
    }});
    all.push_back({"symtab-unmapped", [](bytes& f) {
        const std::uint64_t at = dynamic_entry_offset(f, detail::dt_symtab);
        if (at == 0) return false;
        put(f, at + 8, 8, 0x7fff0000);
        return true;
    }});
    all.push_back({"symbol-name-past-strtab", [](bytes& f) {
        const std::uint64_t symtab = dynamic_table_file_offset(f, detail::dt_symtab);
        if (symtab == 0) return false;
        put(f, symtab + 24, 4, 0xfffffff0);
        return true;
    }});
    all.push_back({"versym-unmapped", [](bytes& f) {
        const std::uint64_t at = dynamic_entry_offset(f, detail::dt_versym);
        if (at == 0) return false;
        put(f, at + 8, 8, 0x7fff0000);
        return true;
    }});
    all.push_back({"verdef-huge-aux", [](bytes& f) {
        const std::uint64_t verdef = dynamic_table_file_offset(f, detail::dt_verdef);
        if (verdef == 0) return false;
        put(f, verdef + 12, 4, 0xfffffff0);
        return true;
    }});
    all.push_back({"verdef-huge-count", [](bytes& f) {
        const std::uint64_t at = dynamic_entry_offset(f, detail::dt_verdefnum);
        if (at == 0) return false;
        put(f, at + 8, 8, ~std::uint64_t{0});
        return true;
    }});
    all.push_back({"note-huge-descsz", [](bytes& f) {
        const int n = find_program_header(f, detail::pt_note);
        if (n < 0) return false;
        put(f, get(f, program_header_offset(f, n) + p_offset, 8) + 4, 4, 0xfffffff0);
        return true;
    }});
    all.push_back({"shoff-past-end", [](bytes& f) {
        if (get(f, detail::e_shoff, 8) == 0) return false;
        put(f, detail::e_shoff, 8, f.size() - 16);
        return true;
    }});
    all.push_back({"shnum-huge", [](bytes& f) {
        if (get(f, detail::e_shoff, 8) == 0) return false;
        put(f, detail::e_shnum, 2, 0xfff0);
        return true;
    }});
    all.push_back({"section-past-end", [](bytes& f) {
        const std::uint64_t shoff = get(f, detail::e_shoff, 8);
        if (shoff == 0 || get(f, detail::e_shnum, 2) < 2) return false;
        put(f, shoff + 64 + detail::sh_offset, 8, f.size() - 4);
        put(f, shoff + 64 + detail::sh_type, 4, 1);
        put(f, shoff + 64 + detail::sh_size, 8, 0x100);
        return true;
    }});
    all.push_back({"shstrndx-out-of-range", [](bytes& f) {
        if (get(f, detail::e_shoff, 8) == 0) return false;
        put(f, detail::e_shstrndx, 2, 0xfff0);
        return true;
    }});
    all.push_back({"stripped-section-headers", [](bytes& f) {
        put(f, detail::e_shoff, 8, 0);
        put(f, detail::e_shnum, 2, 0);
        put(f, detail::e_shstrndx, 2, 0);
        return true;
    }});
    return all;
}

inline const mutation& find_mutation(const std::vector<mutation>& all, const std::string& name) {
    for (const auto& m : all)
        if (m.name == name) return m;
    std::fprintf(stderr, "no mutation named %s\n", name.c_str());
    std::abort();
}

// Parses a mutated copy of `original`; the test then looks at the error.
inline result<image> parse_mutated(const bytes& original, const std::string& name, bytes& storage) {
    storage = original;
    static const std::vector<mutation> all = mutations();
    if (!find_mutation(all, name).apply(storage)) {
        std::fprintf(stderr, "mutation %s does not apply\n", name.c_str());
        std::abort();
    }
    return image::parse(storage);
}

}  // namespace vdsokit::elf::testing
