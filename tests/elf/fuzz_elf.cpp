// libFuzzer target: parse arbitrary bytes, and for whatever parses, run every iterator, symbol
// lookups through both hash tables, the load plan and relocation application. Any sanitizer
// report, crash or hang is a bug: rejected input must come back as an error value.
#include <cstddef>
#include <cstdint>
#include <vector>

#include <vdsokit/elf.hpp>
#include <vdsokit/load_plan.hpp>

using namespace vdsokit::elf;

namespace {
volatile std::uint64_t sink;

void exercise(const image& elf) {
    std::uint64_t total = elf.vvar_size() + elf.image_size() + elf.has_uniform_load_bias();
    elf.for_each_segment([&](const segment& s) { total += s.vaddr + s.file_size; });
    elf.for_each_section([&](const section& s) {
        total += s.name.size() + elf.section_bytes(s).size();
        for (std::size_t i = 0; i < s.name.size(); ++i) total += static_cast<unsigned char>(s.name[i]);
    });
    section found{};
    if (elf.find_section(".dynsym", found)) total += found.size;
    elf.for_each_dynamic_entry([&](std::int64_t tag, std::uint64_t value) { total += tag ^ value; });
    elf.for_each_symbol([&](const symbol& s) {
        for (std::size_t i = 0; i < s.name.size(); ++i) total += static_cast<unsigned char>(s.name[i]);
    });
    int visited = 0;
    elf.for_each_dynamic_symbol([&](const symbol& s) {
        for (std::size_t i = 0; i < s.name.size(); ++i) total += static_cast<unsigned char>(s.name[i]);
        for (std::size_t i = 0; i < s.version.size(); ++i) total += static_cast<unsigned char>(s.version[i]);
        // Look up (a bounded number of) the symbols the table claims to hold, both ways.
        if (visited++ < 64) {
            symbol out{};
            total += elf.lookup_gnu_hash(s.name, s.version, out) + elf.lookup_sysv_hash(s.name, "", out);
        }
        return visited < 4096;
    });
    symbol out{};
    total += elf.lookup("__vdso_clock_gettime", "LINUX_2.6", out) + elf.lookup("", "", out);
    elf.for_each_relocation([&](const relocation& r) { total += r.offset + r.type; });
    elf.for_each_note([&](const note& n) {
        total += n.type + n.owner.size();
        for (std::byte b : n.description) total += static_cast<unsigned char>(b);
    });

    auto plan = vdsokit::make_load_plan(elf);
    if (plan) {
        for (const auto& m : plan.value().segments()) total += m.image_offset + m.memory_size;
        vdsokit::relative_relocation some[8];
        total += plan.value().copy_relocations(some);
        // Apply into a bounded scratch image: out-of-range relocations must be skipped.
        std::vector<std::byte> memory(plan.value().image_size() < (1u << 20) ? plan.value().image_size() : (1u << 20));
        total += vdsokit::apply_relocations(plan.value(), 0x7f0000000000, memory);
        for (const auto& m : plan.value().segments())
            if (!m.shared) total += vdsokit::apply_relocations(plan.value(), 0x7f0000000000, m, memory);
    } else {
        char message[256];
        total += describe(plan.failure(), message, sizeof message);
    }
    sink = total;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    for (machine target : {machine::x86_64, machine::aarch64, machine::riscv64}) {
        auto parsed = image::parse(data, size, target);
        if (parsed) {
            exercise(parsed.value());
        } else {
            char message[256];
            char tiny[8];
            sink = describe(parsed.failure(), message, sizeof message) +
                   describe(parsed.failure(), tiny, sizeof tiny) + describe(parsed.failure(), nullptr, 0);
        }
    }
    return 0;
}
