// Every rule of the ELF reader, broken on a mutated copy of a real image: the error must name the
// structure, the field, the file offset and the values, and no input may crash the reader.
#include <filesystem>

#include <catch2/catch.hpp>

#include "samples.hpp"

using namespace vdsokit::elf;
using namespace vdsokit::elf::testing;

namespace {

// Applies mutation `name` to the sample vDSO and returns the error message (or "parsed").
std::string failure_of(const std::string& name, const bytes& original = sample_vdso()) {
    bytes storage;
    auto parsed = parse_mutated(original, name, storage);
    return parsed ? "parsed" : message(parsed.failure());
}

std::string hex(std::uint64_t value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "0x%llx", static_cast<unsigned long long>(value));
    return buffer;
}

#define CHECK_MESSAGE_CONTAINS(message_text, part)                                  \
    do {                                                                           \
        const std::string message_copy = (message_text);                           \
        INFO("message: " << message_copy);                                         \
        CHECK(message_copy.find(part) != std::string::npos);                       \
    } while (0)

}  // namespace

TEST_CASE("A file shorter than the ELF header is refused with both sizes") {
    CHECK(failure_of("truncated-to-header") ==
          "ELF header: file size 0x28 is smaller than the ELF64 header size 0x40 (at file offset 0x0)");
}

TEST_CASE("A truncated file names the first segment that runs past its end") {
    const std::string text = failure_of("truncated-half");
    CHECK_MESSAGE_CONTAINS(text, "program header ");
    CHECK_MESSAGE_CONTAINS(text, ": p_offset + p_filesz = ");
    CHECK_MESSAGE_CONTAINS(text, "exceeds file size " + hex(sample_vdso().size() / 2));
}

TEST_CASE("Identification fields are checked with expected and found values") {
    CHECK_MESSAGE_CONTAINS(failure_of("bad-magic"), "e_ident[EI_MAG0..EI_MAG3] = 0x464c587f, expected 0x464c457f");
    CHECK_MESSAGE_CONTAINS(failure_of("class-32"), "e_ident[EI_CLASS] = 0x1, expected 0x2 (ELFCLASS64) (at file offset 0x4)");
    CHECK_MESSAGE_CONTAINS(failure_of("big-endian"), "e_ident[EI_DATA] = 0x2, expected 0x1");
    CHECK_MESSAGE_CONTAINS(failure_of("executable-type"), "e_type = 0x2, expected 0x3 (ET_DYN");
    CHECK_MESSAGE_CONTAINS(failure_of("wrong-machine"), "e_machine = 0x28, expected " +
                                                            hex(static_cast<unsigned>(native_machine)));
    CHECK_MESSAGE_CONTAINS(failure_of("phentsize"), "e_phentsize = 0x20, expected 0x38 (sizeof(Elf64_Phdr)) (at file offset 0x36)");
}

TEST_CASE("A program header table past the end of the file is refused, even with huge offsets") {
    CHECK_MESSAGE_CONTAINS(failure_of("phoff-past-end"), "ELF header: e_phoff + e_phnum * e_phentsize = ");
    CHECK_MESSAGE_CONTAINS(failure_of("phoff-huge"), "= 0xffffffffffffffff exceeds file size");
    CHECK_MESSAGE_CONTAINS(failure_of("phnum-huge"), "e_phoff + e_phnum * e_phentsize = 0x380008 exceeds file size");
    CHECK_MESSAGE_CONTAINS(failure_of("truncated-phdrs"), "(at file offset 0x20)");
}

TEST_CASE("A segment whose bytes lie past the end of the file is refused") {
    CHECK_MESSAGE_CONTAINS(failure_of("segment-past-end"),
                           "program header 0: p_offset + p_filesz = " + hex(sample_vdso().size() + 0x1000) +
                               " exceeds file size " + hex(sample_vdso().size()) + " (at file offset 0x48)");
    CHECK_MESSAGE_CONTAINS(failure_of("segment-offset-huge"), "program header 0: p_offset + p_filesz = 0xf");
}

TEST_CASE("Overlapping or unsorted PT_LOADs are refused") {
    CHECK_MESSAGE_CONTAINS(failure_of("overlapping-segments"),
                           "program header 1: p_vaddr = 0x1000 is below the end of the previous PT_LOAD");
    CHECK_MESSAGE_CONTAINS(failure_of("overlapping-segments"), "PT_LOADs must not overlap (at file offset 0x88)");
    CHECK_MESSAGE_CONTAINS(failure_of("unsorted-segments"), "PT_LOADs must be sorted by address");
}

TEST_CASE("A segment both writable and executable is refused") {
    CHECK(failure_of("writable-and-executable") ==
          "program header 0: p_flags = 0x7 makes the segment both writable and executable (at file offset 0x44)");
}

TEST_CASE("PT_LOAD alignment and page congruence are checked") {
    CHECK_MESSAGE_CONTAINS(failure_of("incongruent-segment"),
                           "program header 0: p_vaddr - p_offset = 0x1010 is not a multiple of 0x1000");
    CHECK_MESSAGE_CONTAINS(failure_of("align-not-power-of-two"), "p_align = 0x3000 is not a power of two (at file offset 0x70)");
    CHECK_MESSAGE_CONTAINS(failure_of("memsz-below-filesz"), "p_memsz = ");
}

TEST_CASE("An image without a usable dynamic table is refused") {
    CHECK_MESSAGE_CONTAINS(failure_of("no-dynamic"), "PT_DYNAMIC is missing");
    CHECK_MESSAGE_CONTAINS(failure_of("dynamic-outside-load"),
                           "dynamic table: PT_DYNAMIC p_vaddr = 0x7fff0000 (size ");
    CHECK_MESSAGE_CONTAINS(failure_of("dynamic-outside-load"), "is not inside the file bytes of any PT_LOAD");
}

TEST_CASE("Text relocations are refused, as DT_TEXTREL or as DF_TEXTREL") {
    const std::uint64_t entry = dynamic_entry_offset(sample_vdso(), detail::dt_syment);
    CHECK_MESSAGE_CONTAINS(failure_of("textrel"), "DT_TEXTREL = ");
    CHECK_MESSAGE_CONTAINS(failure_of("textrel"), "(at file offset " + hex(entry) + ")");
    CHECK_MESSAGE_CONTAINS(failure_of("flags-textrel"), "DT_FLAGS (DF_TEXTREL) = 0x4 requests text relocations");
}

TEST_CASE("An unknown relocation type is reported with its number and target offset") {
    const std::uint64_t rela = dynamic_table_file_offset(sample_vdso(), detail::dt_rela);
    const std::uint64_t target = get(sample_vdso(), rela, 8);
    CHECK(failure_of("unsupported-relocation") ==
          "relocation 0: unsupported relocation type 200 at offset " + hex(target) +
              " (at file offset " + hex(rela + 8) + ")");
}

TEST_CASE("Tables that the dynamic table places outside the file are refused") {
    CHECK_MESSAGE_CONTAINS(failure_of("relocation-table-past-end"), "relocation: DT_RELA = ");
    CHECK_MESSAGE_CONTAINS(failure_of("relocation-table-past-end"), "(size 0x1800000) is not inside");
    CHECK_MESSAGE_CONTAINS(failure_of("strtab-unmapped"), "string table: DT_STRTAB = 0x7fff0000");
    CHECK_MESSAGE_CONTAINS(failure_of("strsz-huge"), "(size 0x7fffffffffffffff)");
    CHECK_MESSAGE_CONTAINS(failure_of("symtab-unmapped"), "dynamic symbol: DT_SYMTAB = 0x7fff0000");
    CHECK_MESSAGE_CONTAINS(failure_of("versym-unmapped"), "version symbol table: DT_VERSYM = 0x7fff0000");
    CHECK_MESSAGE_CONTAINS(failure_of("sysv-hash-unmapped"), "SysV hash table: DT_HASH = 0x7fff0000 (size 0x8)");
    CHECK_MESSAGE_CONTAINS(failure_of("gnu-hash-unmapped"), "GNU hash table: DT_GNU_HASH = 0x7fff0000 (size 0x10)");
}

TEST_CASE("Hash tables with huge counts are refused before anything is read") {
    const std::uint64_t hash = dynamic_table_file_offset(sample_vdso(), detail::dt_hash);
    CHECK_MESSAGE_CONTAINS(failure_of("sysv-hash-huge-counts"), "SysV hash table: 8 + 4 * (nbucket + nchain) = ");
    CHECK_MESSAGE_CONTAINS(failure_of("sysv-hash-huge-counts"), "(at file offset " + hex(hash) + ")");
    CHECK_MESSAGE_CONTAINS(failure_of("sysv-hash-huge-nchain"), "exceeds the file bytes of its PT_LOAD");
    CHECK_MESSAGE_CONTAINS(failure_of("gnu-hash-huge-bloom"), "GNU hash table: 16 + 8 * bloom_size + 4 * nbuckets = ");
    CHECK_MESSAGE_CONTAINS(failure_of("gnu-hash-zero-buckets"), "GNU hash table: nbuckets = 0x0 is below the minimum 0x1");
}

TEST_CASE("A GNU hash chain that never ends is refused at the end of its segment") {
    CHECK_MESSAGE_CONTAINS(failure_of("gnu-hash-endless-chain"),
                           "GNU hash table: chain end of the last bucket = ");
    CHECK_MESSAGE_CONTAINS(failure_of("gnu-hash-bucket-below-symoffset"), "bucket = 0x1 is below symoffset 0x1000");
}

TEST_CASE("A SysV hash chain that loops back on itself ends the lookup instead of hanging") {
    bytes storage;
    auto parsed = parse_mutated(sample_vdso(), "sysv-hash-chain-cycle", storage);
    REQUIRE(parsed.ok());
    symbol found{};
    CHECK_FALSE(parsed.value().lookup_sysv_hash("not_there", "", found));
    CHECK_FALSE(parsed.value().lookup_sysv_hash("__vdso_sample_clock", "", found));
}

TEST_CASE("Symbol names and version definitions must point inside the string table") {
    const std::uint64_t symtab = dynamic_table_file_offset(sample_vdso(), detail::dt_symtab);
    CHECK(failure_of("symbol-name-past-strtab") ==
          "dynamic symbol 1: st_name = 0xfffffff0 exceeds DT_STRSZ " +
              hex(get(sample_vdso(), dynamic_entry_offset(sample_vdso(), detail::dt_strsz) + 8, 8)) +
              " (at file offset " + hex(symtab + 24) + ")");
    CHECK_MESSAGE_CONTAINS(failure_of("verdef-huge-aux"), "version definition 0: vd_aux = 0xfffffff0 exceeds");
}

TEST_CASE("A huge DT_VERDEFNUM is bounded by the definitions actually chained") {
    bytes storage;
    auto parsed = parse_mutated(sample_vdso(), "verdef-huge-count", storage);
    REQUIRE(parsed.ok());
    symbol found{};
    CHECK(parsed.value().lookup("__vdso_sample_clock", "SAMPLE_2.0", found));
}

TEST_CASE("A note larger than its segment is refused") {
    CHECK_MESSAGE_CONTAINS(failure_of("note-huge-descsz"),
                           "note 0: n_descsz = 0xfffffff0 exceeds bytes left in its PT_NOTE segment");
}

TEST_CASE("Section headers, when present, are checked like everything else") {
    CHECK_MESSAGE_CONTAINS(failure_of("shoff-past-end"), "ELF header: e_shoff = ");
    CHECK_MESSAGE_CONTAINS(failure_of("shnum-huge"), "e_shoff + e_shnum * e_shentsize = ");
    CHECK_MESSAGE_CONTAINS(failure_of("section-past-end"), "section header 1: sh_offset + sh_size = ");
    CHECK_MESSAGE_CONTAINS(failure_of("shstrndx-out-of-range"), "e_shstrndx = 0xfff0 exceeds the section count");
}

TEST_CASE("Every mutation of every real image yields an error or a readable image, never a crash") {
    std::vector<bytes> originals{sample_vdso(), read_file(environment_path("VDSOKIT_ELF_SAMPLE_LIBRARY"))};
    const auto vdso = kernel_vdso();
    if (!vdso.empty()) originals.emplace_back(vdso.begin(), vdso.end());
    for (const bytes& original : originals) {
        for (const mutation& m : mutations()) {
            bytes copy = original;
            if (!m.apply(copy)) continue;
            // Every prefix of the mutated file, at a coarse stride: truncation anywhere.
            for (std::size_t size = 0; size <= copy.size(); size += 1 + copy.size() / 16) {
                auto parsed = image::parse(std::span<const std::byte>(copy.data(), size));
                if (!parsed) {
                    CHECK(!message(parsed.failure()).empty());
                    continue;
                }
                int visited = 0;
                parsed.value().for_each_dynamic_symbol([&](const symbol&) { ++visited; });
                parsed.value().for_each_relocation([&](const relocation&) { ++visited; });
                parsed.value().for_each_note([&](const note&) { ++visited; });
                parsed.value().for_each_section([&](const section&) { ++visited; });
                symbol found{};
                parsed.value().lookup("__vdso_sample_clock", "SAMPLE_2.0", found);
                auto plan = vdsokit::make_load_plan(parsed.value());
                if (!plan) CHECK(!message(plan.failure()).empty());
            }
        }
    }
}

TEST_CASE("Inputs that once made the fuzzer report a bug now parse or fail cleanly") {
    // tests/elf/corpus: a GNU hash bloom_shift above 31 (an undefined shift in the lookup) and a
    // relocation addend that overflowed when made relative to the image base.
    const std::string directory = environment_path("VDSOKIT_ELF_CORPUS");
    REQUIRE_FALSE(directory.empty());
    int inputs = 0;
    for (const auto& entry : std::filesystem::directory_iterator(directory)) {
        const bytes file = read_file(entry.path().string());
        ++inputs;
        for (machine target : {machine::x86_64, machine::aarch64, machine::riscv64}) {
            auto parsed = image::parse(file, target);
            if (!parsed) continue;
            symbol found{};
            parsed.value().for_each_dynamic_symbol([&](const symbol& s) {
                parsed.value().lookup_gnu_hash(s.name, s.version, found);
                parsed.value().lookup_sysv_hash(s.name, s.version, found);
            });
            auto plan = vdsokit::make_load_plan(parsed.value());
            if (plan) plan.value().for_each_relocation([](const vdsokit::relative_relocation&) {});
        }
    }
    CHECK(inputs >= 2);
}
