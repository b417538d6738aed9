// The load plan: what to map for a vDSO image, and the rules that make an image mappable.
#include <algorithm>

#include <catch2/catch.hpp>

#include "samples.hpp"

using namespace vdsokit;
using namespace vdsokit::elf::testing;

namespace {

elf::image parse_or_fail(std::span<const std::byte> file) {
    auto parsed = elf::image::parse(file);
    INFO((parsed ? std::string("ok") : message(parsed.failure())));
    REQUIRE(parsed.ok());
    return parsed.value();
}

std::string plan_failure(std::span<const std::byte> file) {
    auto plan = make_load_plan(parse_or_fail(file));
    return plan ? "planned" : message(plan.failure());
}

// Lays the image out in memory as a loader would: each segment's file bytes at its image offset.
std::vector<std::byte> load(const load_plan& plan, const bytes& file) {
    std::vector<std::byte> memory(plan.image_size());
    for (const segment_mapping& m : plan.segments())
        std::copy_n(file.begin() + static_cast<std::ptrdiff_t>(m.file_offset), m.file_size,
                    memory.begin() + static_cast<std::ptrdiff_t>(m.image_offset));
    return memory;
}

std::uint64_t read_u64(const std::vector<std::byte>& memory, std::uint64_t offset) {
    std::uint64_t value = 0;
    for (int i = 7; i >= 0; --i) value = (value << 8) | static_cast<std::uint8_t>(memory.at(offset + i));
    return value;
}

}  // namespace

TEST_CASE("The sample vDSO's plan puts vVAR below the image and maps only the data privately") {
    auto plan = make_load_plan(parse_or_fail(sample_vdso()));
    INFO((plan ? std::string("ok") : message(plan.failure())));
    REQUIRE(plan.ok());
    const load_plan& p = plan.value();
    CHECK(p.vvar_size() == 0x1000);
    CHECK(p.vvar_offset() == -0x1000);
    CHECK(p.image_size() == 0x3000);
    REQUIRE(p.segments().size() == 3);

    const segment_mapping& text = p.segments()[0];
    CHECK(text.image_offset == 0);
    CHECK(text.file_offset == 0);
    CHECK(text.memory_size == 0x1000);
    CHECK(text.flags == (segment_read | segment_execute));
    CHECK(text.shared);

    const segment_mapping& rodata = p.segments()[1];
    CHECK(rodata.image_offset == 0x1000);
    CHECK(rodata.file_offset == 0x1000);
    CHECK(rodata.flags == segment_read);
    CHECK(rodata.shared);

    const segment_mapping& data = p.segments()[2];
    CHECK(data.image_offset == 0x2000);
    CHECK(data.file_offset == 0x2000);
    CHECK(data.memory_size == 0x1000);
    CHECK(data.file_size <= data.memory_size);
    CHECK(data.flags == (segment_read | segment_write));
    CHECK_FALSE(data.shared);
}

TEST_CASE("RELATIVE relocations are relative to the image base, negative when they point into vVAR") {
    auto plan = make_load_plan(parse_or_fail(sample_vdso()));
    REQUIRE(plan.ok());
    std::vector<relative_relocation> relocations;
    plan.value().for_each_relocation([&](const relative_relocation& r) { relocations.push_back(r); });
    REQUIRE(relocations.size() == 4);
    CHECK(plan.value().relocation_count() == 4);
    bool points_at_vvar_start = false, points_into_data = false;
    for (const auto& r : relocations) {
        CHECK(r.image_offset >= 0x2000);  // all in the private data segment
        CHECK(r.image_offset < 0x3000);
        points_at_vvar_start = points_at_vvar_start || r.value_offset == -0x1000;
        points_into_data = points_into_data || (r.value_offset >= 0x2000 && r.value_offset < 0x3000);
    }
    CHECK(points_at_vvar_start);  // sample_vvar_pointer = &sample_vvar.ticks
    CHECK(points_into_data);      // sample_private_pointer = &sample_private_counter
}

TEST_CASE("apply_relocations writes image base + value offset into the private copy") {
    auto plan = make_load_plan(parse_or_fail(sample_vdso()));
    REQUIRE(plan.ok());
    const load_plan& p = plan.value();
    const std::uint64_t base = 0x7f1234560000;

    std::vector<std::byte> whole = load(p, sample_vdso());
    CHECK(apply_relocations(p, base, whole) == p.relocation_count());
    p.for_each_relocation([&](const relative_relocation& r) {
        CHECK(read_u64(whole, r.image_offset) == base + static_cast<std::uint64_t>(r.value_offset));
    });

    // The same, applied to the private segment copied on its own.
    const segment_mapping& data = p.segments()[2];
    std::vector<std::byte> segment(data.memory_size);
    std::copy_n(sample_vdso().begin() + static_cast<std::ptrdiff_t>(data.file_offset), data.file_size, segment.begin());
    CHECK(apply_relocations(p, base, data, segment) == p.relocation_count());
    CHECK(std::equal(segment.begin(), segment.end(),
                     whole.begin() + static_cast<std::ptrdiff_t>(data.image_offset)));
    // Other segments have no relocations.
    CHECK(apply_relocations(p, base, p.segments()[0], whole) == 0);
}

TEST_CASE("A memory view too small for the image skips the relocations that do not fit") {
    auto plan = make_load_plan(parse_or_fail(sample_vdso()));
    REQUIRE(plan.ok());
    std::vector<std::byte> memory(0x2000);  // ends where the data segment starts
    CHECK(apply_relocations(plan.value(), 0x1000, memory) == 0);
}

TEST_CASE("Relocations are copied into a caller's span, up to its size") {
    auto plan = make_load_plan(parse_or_fail(sample_vdso()));
    REQUIRE(plan.ok());
    std::array<relative_relocation, 2> two{};
    CHECK(plan.value().copy_relocations(two) == 2);
    std::array<relative_relocation, 8> eight{};
    CHECK(plan.value().copy_relocations(eight) == 4);
}

TEST_CASE("Symbol offsets are relative to the image base") {
    const elf::image elf = parse_or_fail(sample_vdso());
    std::uint64_t offset = 0;
    REQUIRE(find_symbol_offset(elf, "__vdso_sample_clock", "SAMPLE_2.0", offset));
    elf::symbol found{};
    REQUIRE(elf.lookup("__vdso_sample_clock", "SAMPLE_2.0", found));
    CHECK(offset == found.value - 0x1000);
    CHECK_FALSE(find_symbol_offset(elf, "__vdso_sample_clock", "SAMPLE_9", offset));
}

TEST_CASE("The kernel's own vDSO gets a plan with no vVAR below its ELF header") {
    const auto vdso = kernel_vdso();
    REQUIRE_FALSE(vdso.empty());
    auto plan = make_load_plan(parse_or_fail(vdso));
    INFO((plan ? std::string("ok") : message(plan.failure())));
    REQUIRE(plan.ok());
    CHECK(plan.value().vvar_size() == 0);
    CHECK(plan.value().relocation_count() == 0);
    CHECK(plan.value().segments()[0].shared);
}

TEST_CASE("An ordinary shared object whose PT_LOADs disagree on the load bias is refused") {
    const bytes library = read_file(environment_path("VDSOKIT_ELF_SAMPLE_LIBRARY"));
    const elf::image elf = parse_or_fail(library);
    if (elf.has_uniform_load_bias()) {
        WARN("this linker laid the sample library out congruently; nothing to refuse");
        return;
    }
    const std::string text = plan_failure(library);
    INFO(text);
    CHECK(text.find("p_vaddr - p_offset = ") != std::string::npos);
    CHECK(text.find("glibc and musl derive the load bias") != std::string::npos);
}

TEST_CASE("An executable (this PIE test program) is refused because it has PT_INTERP") {
    const bytes self = read_file("/proc/self/exe");
    const std::string text = plan_failure(self);
    INFO(text);
    CHECK(text.find("PT_INTERP") != std::string::npos);
    CHECK(text.find("this is an executable, not a vDSO") != std::string::npos);
}

TEST_CASE("A RELATIVE relocation into a read-only segment is refused, naming its offset") {
    bytes copy = sample_vdso();
    const std::uint64_t rela = dynamic_table_file_offset(copy, elf::detail::dt_rela);
    put(copy, rela, 8, 0x2010);  // inside the read-only rodata segment
    char rela_hex[32];
    std::snprintf(rela_hex, sizeof rela_hex, "0x%llx", static_cast<unsigned long long>(rela));
    CHECK(plan_failure(copy) ==
          "relocation 0: RELATIVE relocation at offset 0x2010 targets a segment that is not "
          "writable (at file offset " + std::string(rela_hex) + ")");
}

TEST_CASE("A relocation that needs a symbol is refused by the plan though the reader accepts it") {
    bytes copy = sample_vdso();
    const std::uint64_t rela = dynamic_table_file_offset(copy, elf::detail::dt_rela);
    const std::uint32_t glob_dat = elf::native_machine == elf::machine::aarch64   ? 1025
                                   : elf::native_machine == elf::machine::riscv64 ? 5
                                                                                  : 6;
    put(copy, rela + 8, 4, glob_dat);
    const std::string text = plan_failure(copy);
    INFO(text);
    CHECK(text.find("relocation 0: unsupported relocation type " + std::to_string(glob_dat)) == 0);
    CHECK(text.find("a vDSO may only have RELATIVE relocations") != std::string::npos);
}

TEST_CASE("Segments that would share a page are refused") {
    bytes copy = sample_vdso();
    const int data = find_program_header(copy, elf::detail::pt_load, 2);
    REQUIRE(data >= 0);
    const std::uint64_t header = program_header_offset(copy, static_cast<std::uint32_t>(data));
    // Congruent and not overlapping byte-wise, but on the rodata segment's last page.
    const std::uint64_t rodata = program_header_offset(copy, static_cast<std::uint32_t>(
                                                                 find_program_header(copy, elf::detail::pt_load, 1)));
    const std::uint64_t rodata_end =
        (get(copy, rodata + elf::detail::p_vaddr, 8) + get(copy, rodata + elf::detail::p_memsz, 8) + 7) & ~7ull;
    REQUIRE(rodata_end % 0x1000 != 0);
    put(copy, header + elf::detail::p_vaddr, 8, rodata_end);
    put(copy, header + elf::detail::p_offset, 8, rodata_end - 0x1000);
    const std::string text = plan_failure(copy);
    INFO(text);
    CHECK(text.find("program header 2: page-rounded p_vaddr = 0x2000 is below the page-rounded end "
                    "of the previous PT_LOAD 0x3000") == 0);
}

TEST_CASE("Packed relative relocations (DT_RELR) give the same plan as RELA ones") {
    const bytes packed = read_file(environment_path("VDSOKIT_ELF_SAMPLE_VDSO_RELR"));
    REQUIRE_FALSE(packed.empty());
    REQUIRE(dynamic_entry_offset(packed, elf::detail::dt_relr) != 0);
    auto packed_plan = make_load_plan(parse_or_fail(packed));
    auto rela_plan = make_load_plan(parse_or_fail(sample_vdso()));
    INFO((packed_plan ? std::string("ok") : message(packed_plan.failure())));
    REQUIRE(packed_plan.ok());
    REQUIRE(rela_plan.ok());
    std::vector<std::pair<std::uint64_t, std::int64_t>> from_relr, from_rela;
    packed_plan.value().for_each_relocation([&](const relative_relocation& r) { from_relr.emplace_back(r.image_offset, r.value_offset); });
    rela_plan.value().for_each_relocation([&](const relative_relocation& r) { from_rela.emplace_back(r.image_offset, r.value_offset); });
    std::sort(from_relr.begin(), from_relr.end());
    std::sort(from_rela.begin(), from_rela.end());
    CHECK(from_relr == from_rela);
    CHECK(packed_plan.value().relocation_count() == 4);

    const std::uint64_t base = 0x7f0000200000;
    std::vector<std::byte> memory = load(packed_plan.value(), packed);
    CHECK(apply_relocations(packed_plan.value(), base, memory) == 4);
    for (const auto& [offset, value] : from_rela) CHECK(read_u64(memory, offset) == base + static_cast<std::uint64_t>(value));
}

TEST_CASE("A DT_RELR table that starts with a bitmap is refused") {
    bytes packed = read_file(environment_path("VDSOKIT_ELF_SAMPLE_VDSO_RELR"));
    const std::uint64_t relr = dynamic_table_file_offset(packed, elf::detail::dt_relr);
    REQUIRE(relr != 0);
    put(packed, relr, 8, get(packed, relr, 8) | 1);
    auto parsed = elf::image::parse(packed);
    REQUIRE_FALSE(parsed.ok());
    CHECK(message(parsed.failure()).find("relocation 0: first DT_RELR word = 0x1, expected 0x0") == 0);
}
