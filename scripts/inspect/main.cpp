// vdsokit-inspect: what a vDSO image holds, read with vdsokit's own ELF reader.
//
//   vdsokit-inspect IMAGE.so      an image on disk (ours, or any shared object)
//   vdsokit-inspect --kernel      the running kernel's vDSO, found through getauxval(AT_SYSINFO_EHDR)
//
// Prints the segments with their permissions, the vVAR size, the exported symbols with versions and
// offsets from the image base, the vVAR type and its layout fingerprint, and the MUT_CFG values, when
// the image records them. A malformed file exits with status 1 and the reader's description of the
// broken field, prefixed by the file name.
#include <sys/auxv.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <vdsokit/elf.hpp>
#include <vdsokit/linux/loader.hpp>
#include <vdsokit/load_plan.hpp>

namespace {

using namespace vdsokit;

std::string permissions(std::uint32_t flags) {
    return std::string((flags & elf::detail::pf_r) ? "r" : "-") + ((flags & elf::detail::pf_w) ? "w" : "-") +
           ((flags & elf::detail::pf_x) ? "x" : "-");
}

const char* segment_type(std::uint32_t type) {
    switch (type) {
        case 1: return "LOAD";
        case 2: return "DYNAMIC";
        case 3: return "INTERP";
        case 4: return "NOTE";
        case 0x6474e550: return "GNU_EH_FRAME";
        case 0x6474e551: return "GNU_STACK";
        case 0x6474e552: return "GNU_RELRO";
        case 0x6474e553: return "GNU_PROPERTY";
        default: return "OTHER";
    }
}

const char* machine_name(elf::machine m) {
    switch (m) {
        case elf::machine::x86_64: return "x86-64";
        case elf::machine::aarch64: return "aarch64";
        case elf::machine::riscv64: return "riscv64";
    }
    return "unknown";
}

const char* kind_name(note::mut_cfg_kind kind) {
    switch (kind) {
        case note::mut_cfg_kind::signed_integer: return "signed";
        case note::mut_cfg_kind::unsigned_integer: return "unsigned";
        case note::mut_cfg_kind::boolean: return "bool";
        case note::mut_cfg_kind::enumeration: return "enum";
    }
    return "?";
}

std::string view(elf::name_view name) { return std::string(name.data(), name.size()); }

// The kernel's vDSO, copied out of our own address space. Its file layout is its memory layout
// (one load bias for every PT_LOAD), so the bytes from AT_SYSINFO_EHDR to the end of the last
// PT_LOAD are the file, up to the section headers, which it keeps inside its mapping.
bool copy_kernel_vdso(std::vector<std::byte>& out, std::string& problem) {
    const auto base = getauxval(AT_SYSINFO_EHDR);
    if (base == 0) {
        problem = "this process has no vDSO (AT_SYSINFO_EHDR is 0)";
        return false;
    }
    const auto* header = reinterpret_cast<const unsigned char*>(base);
    auto u16 = [&](std::uint64_t at) { std::uint16_t v; std::memcpy(&v, header + at, 2); return std::uint64_t{v}; };
    auto u32 = [&](std::uint64_t at) { std::uint32_t v; std::memcpy(&v, header + at, 4); return std::uint64_t{v}; };
    auto u64 = [&](std::uint64_t at) { std::uint64_t v; std::memcpy(&v, header + at, 8); return v; };
    const std::uint64_t phoff = u64(elf::detail::e_phoff), phnum = u16(elf::detail::e_phnum);
    std::uint64_t first_vaddr = ~0ull, end = 0;
    for (std::uint64_t i = 0; i < phnum; ++i) {
        const std::uint64_t at = phoff + i * elf::detail::program_header_size;
        if (u32(at + elf::detail::p_type) != elf::detail::pt_load) continue;
        const std::uint64_t vaddr = u64(at + elf::detail::p_vaddr);
        if (first_vaddr == ~0ull) first_vaddr = vaddr - u64(at + elf::detail::p_offset);
        end = std::max(end, vaddr + u64(at + elf::detail::p_memsz));
    }
    if (first_vaddr == ~0ull) {
        problem = "the kernel vDSO has no PT_LOAD";
        return false;
    }
    const std::uint64_t size = (end - first_vaddr + page_size - 1) / page_size * page_size;
    out.assign(reinterpret_cast<const std::byte*>(header), reinterpret_cast<const std::byte*>(header) + size);
    return true;
}

// The kernel keeps its data pages ([vvar], [vvar_vclock]) below the image, outside the ELF.
void print_kernel_data_pages() {
    std::ifstream maps("/proc/self/maps");
    const auto base = getauxval(AT_SYSINFO_EHDR);
    for (std::string line; std::getline(maps, line);) {
        if (line.find("[vvar") == std::string::npos) continue;
        std::uintptr_t begin = 0, end = 0;
        if (std::sscanf(line.c_str(), "%" SCNxPTR "-%" SCNxPTR, &begin, &end) != 2) continue;
        std::printf("kernel data pages %s: %" PRIuPTR " bytes at image base - %s\n", line.substr(line.rfind('[')).c_str(),
                    end - begin, host::detail::hex(base - begin).c_str());
    }
}

int inspect(const std::string& label, const std::vector<std::byte>& bytes, bool kernel) {
    auto parsed = elf::image::parse(std::span<const std::byte>(bytes.data(), bytes.size()));
    if (!parsed) {
        char text[512];
        elf::describe(parsed.failure(), text, sizeof text);
        std::fprintf(stderr, "vdsokit-inspect: %s: not a valid ELF image: %s\n", label.c_str(), text);
        return 1;
    }
    const elf::image& image = parsed.value();
    const auto notes = host::image_notes::read(image);
    const std::uint64_t vvar_size = image.vvar_size();

    std::printf("%s: %s ELF shared object, %zu bytes\n", label.c_str(), machine_name(image.target()), bytes.size());
    std::printf("vVAR: %" PRIu64 " bytes below the image base; image: %" PRIu64 " bytes from the base\n", vvar_size,
                image.image_size());
    if (notes.vvar.present())
        std::printf("vVAR type: %s, layout fingerprint %s, %" PRIu64 " bytes\n",
                    notes.vvar.name.empty() ? "?" : notes.vvar.name.c_str(),
                    host::detail::hex(notes.vvar.fingerprint).c_str(), notes.vvar.size);
    else
        std::printf("vVAR type: none recorded (no vdsokit vvar_layout note)\n");
    if (kernel) print_kernel_data_pages();

    std::printf("\nsegments:\n  %-13s %-5s %12s %12s %12s %12s\n", "type", "perms", "image offset", "file offset",
                "file size", "memory size");
    image.for_each_segment([&](const elf::segment& s) {
        // Segments without memory (GNU_STACK) have no place in the image.
        const std::string where = s.memory_size == 0 || s.vaddr < vvar_size ? "-" : host::detail::hex(s.vaddr - vvar_size);
        std::printf("  %-13s %-5s %12s %12s %12s %12s\n", segment_type(s.type), permissions(s.flags).c_str(),
                    where.c_str(), host::detail::hex(s.offset).c_str(),
                    host::detail::hex(s.file_size).c_str(), host::detail::hex(s.memory_size).c_str());
    });
    auto plan = make_load_plan(image);
    if (plan) {
        std::printf("load plan: %zu mappings (", plan.value().segments().size());
        const char* separator = "";
        for (const auto& m : plan.value().segments()) {
            std::printf("%s%s %s", separator, permissions(m.flags).c_str(), m.shared ? "shared" : "private");
            separator = ", ";
        }
        std::printf("), %zu relative relocations\n", plan.value().relocation_count());
    } else {
        char text[512];
        elf::describe(plan.failure(), text, sizeof text);
        std::printf("load plan: not mappable by vdsokit's loader: %s\n", text);
    }

    std::printf("\nexported symbols (hash tables:%s%s):\n", image.has_sysv_hash() ? " SysV" : "",
                image.has_gnu_hash() ? " GNU" : "");
    std::printf("  %-32s %-16s %10s %6s  %s\n", "name", "version", "offset", "size", "kind");
    image.for_each_dynamic_symbol([&](const elf::symbol& s) {
        if (!s.defined() || (s.binding != elf::detail::stb_global && s.binding != elf::detail::stb_weak)) return;
        if (s.name == s.version) return;  // the version definition's own absolute symbol
        const std::string version = s.version.empty() ? "" : (s.hidden_version ? "@" : "@@") + view(s.version);
        const char* kind = s.type == 2 ? "function" : s.type == 1 ? "object" : s.type == 10 ? "ifunc" : "other";
        std::printf("  %-32s %-16s %10s %6" PRIu64 "  %s%s\n", view(s.name).c_str(), version.c_str(),
                    host::detail::hex(s.value - vvar_size).c_str(), s.size, kind,
                    s.binding == elf::detail::stb_weak ? " (weak)" : "");
    });

    if (!notes.mut_cfg.empty()) {
        std::printf("\nMUT_CFG values:\n");
        for (const auto& value : notes.mut_cfg)
            std::printf("  %s = %s (%s)\n", value.name.c_str(), value.value.c_str(), kind_name(value.kind));
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
        std::fprintf(argc == 2 ? stdout : stderr, "usage: vdsokit-inspect IMAGE.so | --kernel\n");
        return argc == 2 ? 0 : 2;
    }
    std::vector<std::byte> bytes;
    std::string label = argv[1];
    const bool kernel = label == "--kernel";
    if (kernel) {
        std::string problem;
        label = "kernel vDSO (AT_SYSINFO_EHDR)";
        if (!copy_kernel_vdso(bytes, problem)) {
            std::fprintf(stderr, "vdsokit-inspect: %s\n", problem.c_str());
            return 1;
        }
    } else {
        std::ifstream in(label, std::ios::binary);
        if (!in) {
            std::fprintf(stderr, "vdsokit-inspect: %s: cannot open: %s\n", label.c_str(), std::strerror(errno));
            return 1;
        }
        std::string text{std::istreambuf_iterator<char>(in), {}};
        bytes.resize(text.size());
        std::memcpy(bytes.data(), text.data(), text.size());
    }
    return inspect(label, bytes, kernel);
}
