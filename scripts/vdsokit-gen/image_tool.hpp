// `vdsokit-gen api`: the post-link checks of a vDSO image, and the two headers generated from it.
//
// The checks refuse, each with a message that names the symbol or section at fault: a malformed or
// non-congruent layout, W+X or TLS segments, text or non-RELATIVE relocations, run-time
// constructors (.init_array and friends), undefined symbols, exports that differ from api.hpp, a
// missing DT_HASH / DT_GNU_HASH / version node, and more than one vVAR object.
#pragma once

#include <algorithm>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <vdsokit/elf.hpp>
#include <vdsokit/load_plan.hpp>
#include <vdsokit/note.hpp>

#include "api_parser.hpp"

namespace vdsokit_gen {

struct image_tool_options {
    std::string name;
    std::string api_path;
    std::string image_path;
    std::string out_dir;
    std::string version_node;
    std::vector<std::string> extra_exports;
    std::vector<std::string> config_headers;
    bool allow_relocations = true;
};

struct generated_headers {
    std::string api;
    std::string image;
};

struct vvar_record {
    bool present = false;
    std::uint64_t fingerprint = 0;
    std::uint32_t size = 0, alignment = 0;
    std::string type_name;
};

struct mut_cfg_record {
    std::string name, value;
    vdsokit::note::mut_cfg_kind kind;
};

inline std::string hex(std::uint64_t value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "0x%llx", static_cast<unsigned long long>(value));
    return buffer;
}

inline std::string to_string(vdsokit::elf::name_view name) { return {name.data(), name.size()}; }

inline std::string absolute_path(const std::string& path) {
    return std::filesystem::absolute(path).lexically_normal().string();
}

namespace detail {

constexpr std::int64_t dt_needed = 1, dt_init = 12, dt_fini = 13, dt_textrel = 22, dt_flags = 30,
                       dt_init_array = 25, dt_fini_array = 26, dt_preinit_array = 32, dt_hash = 4,
                       dt_gnu_hash = 0x6ffffef5, dt_verdef = 0x6ffffffc, dt_strtab = 5;
constexpr std::uint32_t pt_load = 1, pt_dynamic = 2, pt_tls = 7, pt_gnu_stack = 0x6474e551;
constexpr std::uint8_t stt_object = 1, stt_func = 2, stt_section = 3, stt_file = 4, stt_tls = 6;

// The function or object that contains an address, from .symtab, for messages.
inline std::string symbol_containing(const vdsokit::elf::image& image, std::uint64_t address) {
    std::string found;
    image.for_each_symbol([&](const vdsokit::elf::symbol& s) {
        if ((s.type == stt_func || s.type == stt_object) && address >= s.value && address < s.value + std::max<std::uint64_t>(s.size, 1)) {
            found = to_string(s.name);
            return false;
        }
        return true;
    });
    return found.empty() ? "address " + hex(address) : "'" + found + "'";
}

inline std::string symbol_at(const vdsokit::elf::image& image, std::uint64_t address) {
    std::string found;
    image.for_each_symbol([&](const vdsokit::elf::symbol& s) {
        if (s.type == stt_func && s.value == address) {
            found = to_string(s.name);
            return false;
        }
        return true;
    });
    return found.empty() ? "the function at " + hex(address) : found;
}

}  // namespace detail

// Runs every check; fills `headers` only if there is nothing to complain about.
inline std::vector<std::string> check_and_render(const image_tool_options& options, const api_declarations& api,
                                                 const std::string& file, generated_headers& headers) {
    using namespace vdsokit;
    using namespace detail;
    std::vector<std::string> problems;
    const std::string where = options.image_path + ": error: ";
    auto fail = [&](const std::string& message) { problems.push_back(where + message); };

    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(file.data()), file.size());
    elf::machine target = elf::native_machine;
    if (file.size() > 19) target = static_cast<elf::machine>(std::uint16_t(std::uint8_t(file[18]) | std::uint8_t(file[19]) << 8));
    const auto parsed = elf::image::parse(bytes, target);
    if (!parsed) {
        char message[512];
        elf::describe(parsed.failure(), message, sizeof message);
        fail(message);
        return problems;
    }
    const elf::image& image = parsed.value();

    // Layout.
    if (!image.has_uniform_load_bias())
        fail("the PT_LOAD segments do not all have p_vaddr - p_offset equal to the vVAR size; glibc and "
             "musl would compute different load biases (was the image linked with vdsokit's linker script?)");
    bool has_dynamic = false, has_stack = false;
    image.for_each_segment([&](const elf::segment& s) {
        has_dynamic |= s.type == pt_dynamic;
        if (s.type == pt_gnu_stack) {
            has_stack = true;
            if (s.flags & segment_execute) fail("PT_GNU_STACK asks for an executable stack");
        }
        if (s.type == pt_tls)
            fail("has a PT_TLS segment: thread_local data needs a thread pointer set up per address "
                 "space, which a vDSO does not have");
    });
    if (!has_dynamic) fail("has no PT_DYNAMIC segment");
    if (!has_stack) fail("has no PT_GNU_STACK segment");

    // Dynamic table.
    bool has_hash = false, has_gnu_hash = false, has_verdef = false;
    image.for_each_dynamic_entry([&](std::int64_t tag, std::uint64_t value) {
        has_hash |= tag == dt_hash;
        has_gnu_hash |= tag == dt_gnu_hash;
        has_verdef |= tag == dt_verdef;
        if (tag == dt_needed) fail("depends on another shared object (DT_NEEDED): a vDSO must be self-contained");
        if (tag == dt_textrel || (tag == dt_flags && (value & 4)))
            fail("has text relocations (DT_TEXTREL): compile every source with -fPIC");
        if (tag == dt_init || tag == dt_fini)
            fail(std::string("has a ") + (tag == dt_init ? "DT_INIT" : "DT_FINI") + " function (" +
                 symbol_at(image, value) + "): nothing runs it in a vDSO");
    });
    if (!has_hash) fail("has no DT_HASH table: musl finds vDSO symbols only through it (link with --hash-style=both)");
    if (!has_gnu_hash) fail("has no DT_GNU_HASH table (link with --hash-style=both)");
    if (!has_verdef) fail("has no symbol version definitions (DT_VERDEF): link with the generated version script");

    // Constructors: name the functions .init_array (and friends) would run.
    for (const char* section_name : {".init_array", ".preinit_array", ".fini_array"}) {
        elf::section section{};
        if (!image.find_section(section_name, section) || section.size == 0) continue;
        std::vector<std::string> functions;
        image.for_each_relocation([&](const elf::relocation& r) {
            if (r.offset >= section.address && r.offset < section.address + section.size)
                functions.push_back(symbol_at(image, static_cast<std::uint64_t>(r.addend)));
        });
        std::string list;
        for (const auto& function : functions) list += (list.empty() ? "" : ", ") + function;
        fail(std::string(section_name) + " runs " + (list.empty() ? "code" : list) +
             " at load time: a global needs a run-time constructor (or destructor), and nothing runs "
             "them in a vDSO. Declare the global constinit to have the compiler point at it");
    }

    // TLS.
    image.for_each_symbol([&](const elf::symbol& s) {
        if (s.type == stt_tls) fail("'" + to_string(s.name) + "' is thread_local: a vDSO has no thread pointer of its own");
    });

    // Relocations.
    std::vector<elf::segment> loads;
    image.for_each_segment([&](const elf::segment& s) {
        if (s.type == pt_load) loads.push_back(s);
    });
    std::size_t relocation_count = 0;
    image.for_each_relocation([&](const elf::relocation& r) {
        ++relocation_count;
        const std::string in = symbol_containing(image, r.offset);
        if (r.type != elf::relative_relocation_type(image.target())) {
            fail("relocation type " + std::to_string(r.type) + " at " + hex(r.offset) + " in " + in +
                 ": only RELATIVE relocations are supported (is a symbol preemptible? link with -Bsymbolic)");
            return;
        }
        const bool writable = std::any_of(loads.begin(), loads.end(), [&](const elf::segment& s) {
            return (s.flags & segment_write) && r.offset >= s.vaddr && r.offset + 8 <= s.vaddr + s.memory_size;
        });
        if (!writable) fail("text relocation at " + hex(r.offset) + " in " + in + ": it targets a read-only segment");
        else if (!options.allow_relocations)
            fail("relocation at " + hex(r.offset) + " in " + in + ": this image must have none (--no-relocations): "
                 "a Linux-ABI vDSO is mapped by kernels and libcs that never relocate it");
    });

    // Symbols: nothing undefined, and exactly the API exported.
    std::map<std::string, std::string> exported;  // name -> version
    image.for_each_dynamic_symbol([&](const elf::symbol& s) {
        const std::string name = to_string(s.name);
        if (!s.defined() && !name.empty()) {
            fail("'" + name + "' is undefined: a vDSO links against nothing; define it in the vDSO");
            return;
        }
        const bool version_node = s.type == stt_object && s.value == 0 && s.size == 0 && to_string(s.version) == name;
        if (s.binding != 0 && s.type != stt_section && !version_node && !name.empty())
            exported[name] = to_string(s.version);
    });
    std::set<std::string> expected(options.extra_exports.begin(), options.extra_exports.end());
    for (const auto& alias : options.extra_exports)
        if (!exported.contains(alias)) fail("does not export '" + alias + "', which --export names");
    for (const auto& function : api.functions) {
        expected.insert(function.name);
        const std::string at = options.api_path + ":" + std::to_string(function.line) + ": error: '" + function.name + "' ";
        if (function.name == "bind") {
            problems.push_back(at + "clashes with dispatch_table::bind: give the function another name");
            continue;
        }
        if (!exported.contains(function.name)) {
            problems.push_back(at + "is declared but " + options.image_path +
                               " does not export it (define it in the vDSO sources with C linkage)");
            continue;
        }
        // A data object of the same name would be "called" by the dispatch table.
        elf::symbol s{};
        image.lookup(function.name.c_str(), s);
        const bool in_text = std::any_of(loads.begin(), loads.end(), [&](const elf::segment& segment) {
            return (segment.flags & segment_execute) && s.value >= segment.vaddr && s.value < segment.vaddr + segment.memory_size;
        });
        if (s.type != stt_func || !in_text)
            problems.push_back(at + "is exported by " + options.image_path +
                               " but not as a function in an executable segment (a variable of the same name?)");
    }
    for (const auto& [name, version] : exported) {
        if (!expected.contains(name))
            fail("exports '" + name + "', which " + options.api_path + " does not declare");
        else if (!options.version_node.empty() && version != options.version_node)
            fail("exports '" + name + "' with version '" + version + "', expected '" + options.version_node + "'");
    }

    // vVAR: one object at offset 0, and its layout note.
    elf::section vvar_section{};
    std::vector<std::string> vvar_objects;
    if (image.find_section(".vdsokit.vvar", vvar_section)) {
        image.for_each_symbol([&](const elf::symbol& s) {
            if (s.section_index == vvar_section.index && s.type == stt_object) {
                vvar_objects.push_back(to_string(s.name));
                if (s.value != 0) fail("vVAR object '" + to_string(s.name) + "' is at " + hex(s.value) + ", expected 0");
            }
        });
    }
    if (vvar_objects.size() > 1)
        fail("has " + std::to_string(vvar_objects.size()) + " vVAR objects ('" + vvar_objects[0] + "' and '" +
             vvar_objects[1] + "'): an image has one; put the shared data in one struct");

    vvar_record vvar;
    std::vector<mut_cfg_record> mut_cfg;
    int vvar_notes = 0;
    image.for_each_note([&](const elf::note& n) {
        if (to_string(n.owner) != note::owner) return;
        const auto* description = reinterpret_cast<const char*>(n.description.data());
        const std::size_t size = n.description.size();
        if (n.type == note::vvar_layout && size >= sizeof(note::vvar_layout_description)) {
            note::vvar_layout_description d;
            std::memcpy(&d, description, sizeof d);
            ++vvar_notes;
            vvar = {true, d.fingerprint_low | std::uint64_t(d.fingerprint_high) << 32, d.size, d.alignment,
                    std::string(description + sizeof d, strnlen(description + sizeof d, size - sizeof d))};
        } else if (n.type == note::mut_cfg_value && size >= sizeof(note::mut_cfg_description)) {
            note::mut_cfg_description d;
            std::memcpy(&d, description, sizeof d);
            const std::string text(description + sizeof d, strnlen(description + sizeof d, size - sizeof d));
            const auto equals = text.find('=');
            if (equals != std::string::npos) mut_cfg.push_back({text.substr(0, equals), text.substr(equals + 1), d.kind});
        }
    });
    if (vvar_notes > 1) fail("has " + std::to_string(vvar_notes) + " vVAR layout notes: an image has one vVAR object");
    if (vvar.present && vvar.size > image.vvar_size())
        fail("the vVAR type is " + std::to_string(vvar.size) + " bytes but the vVAR region is " +
             std::to_string(image.vvar_size()));

    const auto plan = make_load_plan(image);
    if (!plan) {
        char message[512];
        elf::describe(plan.failure(), message, sizeof message);
        fail(message);
    }
    if (!problems.empty()) return problems;

    // ---- <name>_api.hpp -----------------------------------------------------------------------
    const std::string ns = options.name + "_vdso";
    std::string& out = headers.api;
    out = "// " + options.name + "_api.hpp: generated by vdsokit-gen from\n//   " + absolute_path(options.api_path) +
          "\n//   " + absolute_path(options.image_path) + "\n// Do not edit: it is rewritten whenever the image changes.\n"
          "#pragma once\n\n#include <cstdint>\n\n#include <vdsokit/dispatch.hpp>\n\n"
          "#include \"" + absolute_path(options.api_path) + "\"\n";
    for (const auto& config : options.config_headers) out += "#include \"" + absolute_path(config) + "\"\n";
    out += "\nnamespace " + ns + " {\n\n";
    out += "// Facts of the image this header was generated from.\n";
    out += "inline constexpr ::vdsokit::image_facts facts{\n";
    out += "    .name = \"" + options.name + "\",\n";
    out += "    .vvar_size = " + hex(image.vvar_size()) + ",\n";
    out += "    .image_size = " + hex(image.image_size()) + ",\n";
    out += "    .vvar_fingerprint = " + hex(vvar.fingerprint) + ",\n";
    out += "    .vvar_type = \"" + vvar.type_name + "\",\n};\n\n";
    out += "// Where each API function starts, as an offset from the image base (the ELF header).\n";
    out += "struct symbol_offsets {\n";
    std::size_t width = 0;
    for (const auto& f : api.functions) width = std::max(width, f.name.size());
    std::map<std::string, std::uint64_t> offsets;
    for (const auto& f : api.functions) {
        elf::symbol s{};
        image.lookup(f.name.c_str(), s);
        offsets[f.name] = s.value - image.vvar_size();
        out += "    static constexpr std::uintptr_t " + f.name + std::string(width - f.name.size(), ' ') + " = " +
               hex(offsets[f.name]) + ";\n";
    }
    out += "};\n\n";
    out += "// The API as one address space sees it: bind one table per mapping of the image.\n";
    out += "struct dispatch_table {\n";
    for (const auto& f : api.functions) out += "    decltype(&" + f.qualified + ") " + f.name + ";\n";
    out += "\n    // `image_base` is where this address space mapped the ELF header (its vVAR is the page(s) below).\n";
    out += "    static dispatch_table bind(const void* image_base) noexcept {\n        return {\n";
    for (const auto& f : api.functions)
        out += "            ::vdsokit::function_at<decltype(&" + f.qualified + ")>(image_base, symbol_offsets::" + f.name + "),\n";
    out += "        };\n    }\n};\n";
    out += "static_assert(::vdsokit::is_dispatch_table<dispatch_table>);\n";
    if (!mut_cfg.empty()) {
        out += "\n// The MUT_CFG values the image was built with (enums by their underlying value).\n";
        out += "inline constexpr ::vdsokit::mut_cfg_entry mut_cfg[] = {\n";
        for (const auto& entry : mut_cfg) out += "    {\"" + entry.name + "\", \"" + entry.value + "\"},\n";
        out += "};\n";
    }
    out += "\n}  // namespace " + ns + "\n";
    if (!options.config_headers.empty() && !mut_cfg.empty()) {
        out += "\n// The caller must see the values the image was built with.\n";
        for (const auto& entry : mut_cfg) {
            const bool negative = !entry.value.empty() && entry.value[0] == '-';
            // The most negative value has no literal: spell it as an expression.
            const std::string literal = !negative ? entry.value + "ull"
                                        : entry.value == "-9223372036854775808" ? "(-9223372036854775807ll - 1)"
                                                                                 : entry.value + "ll";
            const std::string cast = negative ? "static_cast<long long>" : "static_cast<unsigned long long>";
            out += "static_assert(" + cast + "(" + entry.name + ") == " + literal + ",\n              \"vdsokit: " +
                   entry.name + " differs between this build and " + options.name + "'s image (" + entry.value +
                   "): rebuild both with the same MUT_CFG values\");\n";
        }
    }

    // ---- <name>_image.hpp ---------------------------------------------------------------------
    std::string& img = headers.image;
    img = "// " + options.name + "_image.hpp: generated by vdsokit-gen from " + absolute_path(options.image_path) +
          ".\n// The whole image as constant bytes plus what it takes to map it, so a kernel needs no ELF\n"
          "// parser at run time (Linux's vdso2c does this job). Freestanding. Do not edit.\n"
          "#pragma once\n\n#include <cstdint>\n\n#include <vdsokit/image.hpp>\n\n";
    img += "namespace " + ns + "::embedded {\n\n";
    img += "alignas(4096) inline constexpr unsigned char bytes[" + std::to_string(file.size()) + "] = {\n";
    for (std::size_t i = 0; i < file.size(); ++i) {
        if (i % 16 == 0) img += "    ";
        char byte[8];
        std::snprintf(byte, sizeof byte, "0x%02x,", static_cast<unsigned char>(file[i]));
        img += byte;
        img += (i % 16 == 15 || i + 1 == file.size()) ? "\n" : " ";
    }
    img += "};\n\n";
    img += "inline constexpr ::vdsokit::segment_mapping segments[] = {\n";
    for (const auto& s : plan.value().segments())
        img += "    {.image_offset = " + hex(s.image_offset) + ", .file_offset = " + hex(s.file_offset) +
               ", .file_size = " + hex(s.file_size) + ", .memory_size = " + hex(s.memory_size) +
               ", .flags = " + std::to_string(s.flags) + ", .shared = " + (s.shared ? "true" : "false") + "},\n";
    img += "};\n\n";
    std::vector<relative_relocation> relocations;
    plan.value().for_each_relocation([&](const relative_relocation& r) { relocations.push_back(r); });
    if (!relocations.empty()) {
        img += "inline constexpr ::vdsokit::relative_relocation relocations[] = {\n";
        for (const auto& r : relocations)
            img += "    {.image_offset = " + hex(r.image_offset) + ", .value_offset = " + std::to_string(r.value_offset) + "},\n";
        img += "};\n\n";
    }
    img += "inline constexpr ::vdsokit::symbol_offset symbols[] = {\n";
    for (const auto& [name, offset] : offsets) img += "    {\"" + name + "\", " + hex(offset) + "},\n";
    img += "};\n\n";
    img += "inline constexpr ::vdsokit::embedded_image image{\n";
    img += "    .bytes = bytes,\n    .size = sizeof bytes,\n";
    img += "    .vvar_size = " + hex(image.vvar_size()) + ",\n    .image_size = " + hex(image.image_size()) + ",\n";
    img += "    .segments = segments,\n    .segment_count = sizeof segments / sizeof segments[0],\n";
    img += relocations.empty() ? "    .relocations = nullptr,\n    .relocation_count = 0,\n"
                               : "    .relocations = relocations,\n    .relocation_count = sizeof relocations / sizeof relocations[0],\n";
    img += "    .symbols = symbols,\n    .symbol_count = sizeof symbols / sizeof symbols[0],\n";
    img += "    .vvar_fingerprint = " + hex(vvar.fingerprint) + ",\n};\n\n";
    img += "}  // namespace " + ns + "::embedded\n";
    return problems;
}

}  // namespace vdsokit_gen
