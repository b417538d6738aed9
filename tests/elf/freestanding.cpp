// Instantiates the whole ELF reader and load plan API, to be compiled with -ffreestanding
// -fno-exceptions -fno-rtti -nostdlib: `nm -u` on the object must print nothing, proving that a
// vDSO or a kernel can use these headers without libc or the C++ runtime.
#include <vdsokit/elf.hpp>
#include <vdsokit/load_plan.hpp>

using namespace vdsokit::elf;

extern "C" std::size_t vdsokit_freestanding_probe(const unsigned char* bytes, std::size_t size,
                                                  char* message, std::size_t capacity) {
    auto parsed = image::parse(bytes, size);
    if (!parsed) return describe(parsed.failure(), message, capacity);
    const image& elf = parsed.value();
    std::size_t total = elf.vvar_size() + elf.image_size() + static_cast<unsigned>(elf.target());
    elf.for_each_segment([&](const segment& s) { total += s.vaddr; });
    elf.for_each_section([&](const section& s) { total += s.name.size(); return true; });
    section found{};
    if (elf.find_section(".text", found)) total += found.size;
    elf.for_each_dynamic_entry([&](std::int64_t tag, std::uint64_t value) { total += static_cast<std::size_t>(tag) + value; });
    elf.for_each_dynamic_symbol([&](const symbol& s) { total += s.version.size() + s.defined(); });
    elf.for_each_symbol([&](const symbol& s) { total += s.value; });
    elf.for_each_relocation([&](const relocation& r) { total += r.offset; });
    elf.for_each_note([&](const note& n) { total += n.description.size() + n.owner.size(); });
    symbol s{};
    if (elf.lookup("__vdso_clock_gettime", "LINUX_2.6", s)) total += s.value;
    if (elf.lookup_gnu_hash("__vdso_time", "", s)) total += s.value;
    if (elf.lookup_sysv_hash("__vdso_time", "", s)) total += s.value;
    auto plan = vdsokit::make_load_plan(elf);
    if (!plan) return describe(plan.failure(), message, capacity);
    for (const vdsokit::segment_mapping& m : plan.value().segments()) total += m.memory_size;
    vdsokit::relative_relocation relocations[4];
    total += plan.value().copy_relocations(relocations);
    total += vdsokit::apply_relocations(plan.value(), 0x7000, {reinterpret_cast<std::byte*>(message), capacity});
    if (!plan.value().segments().empty())
        total += vdsokit::apply_relocations(plan.value(), 0x7000, plan.value().segments()[0],
                                            {reinterpret_cast<std::byte*>(message), capacity});
    std::uint64_t offset = 0;
    if (vdsokit::find_symbol_offset(elf, "__vdso_time", "LINUX_2.6", offset)) total += offset;
    return total;
}
