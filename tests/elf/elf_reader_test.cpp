// The ELF reader on real images: the running kernel's vDSO, the sample vDSO built by the tests,
// an ordinary -nostdlib shared object, libc.so.6 and this test program (a PIE).
#include <dlfcn.h>

#include <algorithm>

#include <catch2/catch.hpp>

#include "samples.hpp"

using namespace vdsokit::elf;
using namespace vdsokit::elf::testing;

namespace {

struct kernel_names {
    const char* clock_gettime;
    const char* version;
};

constexpr kernel_names kernel_vdso_names() {
    switch (native_machine) {
        case machine::aarch64: return {"__kernel_clock_gettime", "LINUX_2.6.39"};
        case machine::riscv64: return {"__vdso_clock_gettime", "LINUX_4.15"};
        default: return {"__vdso_clock_gettime", "LINUX_2.6"};
    }
}

image parse_or_fail(std::span<const std::byte> file) {
    auto parsed = image::parse(file);
    INFO((parsed ? std::string("ok") : message(parsed.failure())));
    REQUIRE(parsed.ok());
    return parsed.value();
}

}  // namespace

TEST_CASE("The running kernel's vDSO parses and clock_gettime is found where the dynamic linker "
          "found it") {
    const auto vdso = kernel_vdso();
    REQUIRE_FALSE(vdso.empty());
    const image elf = parse_or_fail(vdso);
    CHECK(elf.target() == native_machine);
    CHECK(elf.has_gnu_hash() == true);
    CHECK(elf.has_sysv_hash() == true);

    const auto names = kernel_vdso_names();
    symbol found{};
    REQUIRE(elf.lookup(names.clock_gettime, names.version, found));
    CHECK(found.defined());
    CHECK(text(found.version) == names.version);

    // The load bias is AT_SYSINFO_EHDR - (p_vaddr - p_offset) of the first PT_LOAD.
    std::uint64_t first_bias = 0;
    elf.for_each_segment([&](const segment& s) {
        if (s.type != detail::pt_load) return true;
        first_bias = s.vaddr - s.offset;
        return false;
    });
    const auto address = reinterpret_cast<std::uintptr_t>(vdso.data()) + found.value - first_bias;

    void* handle = dlopen("linux-vdso.so.1", RTLD_NOW | RTLD_NOLOAD);
    if (handle == nullptr) {
        WARN("glibc did not register the vDSO as linux-vdso.so.1; skipping the dlvsym comparison");
        return;
    }
    void* expected = dlvsym(handle, names.clock_gettime, names.version);
    dlclose(handle);
    CHECK(reinterpret_cast<std::uintptr_t>(expected) == address);
}

TEST_CASE("Both hash tables of the kernel vDSO find every exported symbol at the same index") {
    const auto vdso = kernel_vdso();
    REQUIRE_FALSE(vdso.empty());
    const image elf = parse_or_fail(vdso);
    int exported = 0;
    elf.for_each_dynamic_symbol([&](const symbol& s) {
        if (!s.defined() || s.binding == 0 || s.type == 0) return;  // skip locals and ABS versions
        ++exported;
        symbol by_gnu{}, by_sysv{};
        INFO(text(s.name) << "@" << text(s.version));
        REQUIRE(elf.lookup_gnu_hash(s.name, s.version, by_gnu));
        REQUIRE(elf.lookup_sysv_hash(s.name, s.version, by_sysv));
        CHECK(by_gnu.index == by_sysv.index);
        CHECK(by_gnu.value == s.value);
    });
    CHECK(exported >= 4);
}

TEST_CASE("A lookup with the wrong version fails and one with an empty version matches any") {
    const image elf = parse_or_fail(kernel_vdso());
    const auto names = kernel_vdso_names();
    symbol found{};
    CHECK_FALSE(elf.lookup(names.clock_gettime, "LINUX_99", found));
    CHECK(elf.lookup(names.clock_gettime, "", found));
    CHECK(elf.lookup(names.clock_gettime, found));
    CHECK_FALSE(elf.lookup("no_such_symbol", "", found));
    CHECK_FALSE(elf.lookup_gnu_hash("no_such_symbol", "", found));
    CHECK_FALSE(elf.lookup_sysv_hash("no_such_symbol", "", found));
}

TEST_CASE("The sample vDSO has the vdsokit layout: vVAR below three congruent PT_LOADs") {
    const bytes file = sample_vdso();
    const image elf = parse_or_fail(file);
    CHECK(elf.vvar_size() == 0x1000);
    CHECK(elf.has_uniform_load_bias());
    CHECK(elf.load_segment_count() == 3);
    std::vector<std::uint32_t> flags;
    elf.for_each_segment([&](const segment& s) {
        if (s.type != detail::pt_load) return;
        flags.push_back(s.flags);
        CHECK(s.vaddr - s.offset == elf.vvar_size());
    });
    CHECK(flags == std::vector<std::uint32_t>{5, 4, 6});
    CHECK(elf.image_size() == 0x3000);
}

TEST_CASE("Dynamic symbols of the sample vDSO carry their version names") {
    const image elf = parse_or_fail(sample_vdso());
    std::vector<std::string> names;
    elf.for_each_dynamic_symbol([&](const symbol& s) { names.push_back(text(s.name) + "@" + text(s.version)); });
    CHECK(std::find(names.begin(), names.end(), "__vdso_sample_time@SAMPLE_1.0") != names.end());
    CHECK(std::find(names.begin(), names.end(), "__vdso_sample_clock@SAMPLE_2.0") != names.end());
    CHECK(std::find(names.begin(), names.end(), "sample_time@SAMPLE_1.0") != names.end());

    symbol found{};
    CHECK(elf.lookup("__vdso_sample_clock", "SAMPLE_2.0", found));
    CHECK_FALSE(elf.lookup("__vdso_sample_clock", "SAMPLE_1.0", found));
    REQUIRE(elf.lookup("sample_time", "SAMPLE_1.0", found));
    CHECK(found.binding == detail::stb_weak);
    symbol strong{};
    REQUIRE(elf.lookup("__vdso_sample_time", "SAMPLE_1.0", strong));
    CHECK(strong.value == found.value);
}

TEST_CASE("Sections and the full symbol table of an unstripped image are readable") {
    const image elf = parse_or_fail(sample_vdso());
    section dynsym{};
    REQUIRE(elf.find_section(".dynsym", dynsym));
    CHECK(dynsym.entry_size == 24);
    CHECK_FALSE(elf.find_section(".no_such_section", dynsym));
    int sections = 0;
    elf.for_each_section([&](const section&) { ++sections; });
    CHECK(sections == static_cast<int>(elf.section_count()));

    bool saw_local_counter = false;
    elf.for_each_symbol([&](const symbol& s) {
        if (text(s.name) == "sample_private_counter") saw_local_counter = true;
    });
    CHECK(saw_local_counter);
}

TEST_CASE("Notes are read from PT_NOTE segments: the sample's GNU build-id") {
    const image elf = parse_or_fail(sample_vdso());
    bool build_id = false;
    elf.for_each_note([&](const note& n) {
        if (text(n.owner) == "GNU" && n.type == 3) {
            build_id = true;
            CHECK(n.description.size() == 20);
        }
    });
    CHECK(build_id);
}

TEST_CASE("The sample vDSO's relocations are all RELATIVE") {
    const image elf = parse_or_fail(sample_vdso());
    int count = 0;
    elf.for_each_relocation([&](const relocation& r) {
        ++count;
        CHECK(r.type == relative_relocation_type(native_machine));
        CHECK(r.symbol_index == 0);
    });
    CHECK(count == 4);
    CHECK(elf.relocation_count() == 4);
}

TEST_CASE("Iteration stops as soon as a visitor returns false") {
    const image elf = parse_or_fail(sample_vdso());
    int visited = 0;
    elf.for_each_segment([&](const segment&) { return ++visited < 2; });
    CHECK(visited == 2);
    visited = 0;
    elf.for_each_dynamic_symbol([&](const symbol&) { ++visited; return false; });
    CHECK(visited == 1);
    visited = 0;
    elf.for_each_relocation([&](const relocation&) { ++visited; return false; });
    CHECK(visited == 1);
    visited = 0;
    elf.for_each_dynamic_entry([&](std::int64_t, std::uint64_t) { ++visited; return visited < 3; });
    CHECK(visited == 3);
}

TEST_CASE("An ordinary -nostdlib shared object parses and carries a RELATIVE relocation") {
    const image elf = parse_or_fail(sample_library());
    bool relative = false;
    elf.for_each_relocation([&](const relocation& r) {
        relative = relative || r.type == relative_relocation_type(native_machine);
    });
    CHECK(relative);
    symbol found{};
    CHECK(elf.lookup("sample_library_get", "", found));
    CHECK(found.type == 2);  // STT_FUNC
}

TEST_CASE("libc.so.6 parses and clock_gettime is found where dlsym finds it") {
    Dl_info info{};
    void* clock_gettime_address = dlsym(RTLD_DEFAULT, "clock_gettime");
    REQUIRE(clock_gettime_address != nullptr);
    REQUIRE(dladdr(clock_gettime_address, &info) != 0);
    const bytes file = read_file(info.dli_fname);
    REQUIRE_FALSE(file.empty());
    const image elf = parse_or_fail(file);
    symbol found{};
    REQUIRE(elf.lookup("clock_gettime", "", found));
    CHECK(reinterpret_cast<std::uintptr_t>(info.dli_fbase) + found.value ==
          reinterpret_cast<std::uintptr_t>(clock_gettime_address));
    // Versioned lookup through both tables agrees.
    symbol by_gnu{}, by_sysv{};
    if (elf.has_gnu_hash()) {
        REQUIRE(elf.lookup_gnu_hash("clock_gettime", found.version, by_gnu));
        CHECK(by_gnu.value == found.value);
    }
    if (elf.has_sysv_hash()) {
        REQUIRE(elf.lookup_sysv_hash("clock_gettime", found.version, by_sysv));
        CHECK(by_sysv.value == found.value);
    }
}

TEST_CASE("This test program, a PIE, parses as an ET_DYN image") {
    const bytes file = read_file("/proc/self/exe");
    auto parsed = image::parse(file);
    INFO((parsed ? std::string("ok") : message(parsed.failure())));
    CHECK(parsed.ok());  // the load plan refuses it: see load_plan_test.cpp
}

TEST_CASE("An image stripped of its section headers still finds its symbols") {
    bytes storage;
    auto parsed = parse_mutated(sample_vdso(), "stripped-section-headers", storage);
    REQUIRE(parsed.ok());
    CHECK(parsed.value().section_count() == 0);
    int sections = 0;
    parsed.value().for_each_section([&](const section&) { ++sections; });
    CHECK(sections == 0);
    symbol found{};
    CHECK(parsed.value().lookup("__vdso_sample_clock", "SAMPLE_2.0", found));
}

TEST_CASE("The reader is given the machine it expects") {
    const bytes file = sample_vdso();
    const machine other = native_machine == machine::aarch64 ? machine::riscv64 : machine::aarch64;
    auto parsed = image::parse(file, other);
    REQUIRE_FALSE(parsed.ok());
    CHECK(message(parsed.failure()).find("e_machine") != std::string::npos);
}

TEST_CASE("describe() fits any buffer, stays NUL-terminated and returns the full length") {
    auto parsed = image::parse(std::span<const std::byte>{});
    REQUIRE_FALSE(parsed.ok());
    const std::string full = message(parsed.failure());
    CHECK(full == "ELF header: file size 0x0 is smaller than the ELF64 header size 0x40 "
                  "(at file offset 0x0)");
    char small[10];
    CHECK(describe(parsed.failure(), small, sizeof small) == full.size());
    CHECK(std::string(small) == full.substr(0, 9));
    CHECK(describe(parsed.failure(), nullptr, 0) == full.size());
}

TEST_CASE("Names compare by content, not by pointer") {
    const char stored[] = "LINUX_2.6\0junk";
    CHECK(name_view(stored) == name_view("LINUX_2.6"));
    CHECK_FALSE(name_view(stored, 5) == name_view("LINUX_2.6"));
    CHECK(name_view() == name_view(""));
    CHECK(name_view(nullptr).empty());
    static_assert(name_view("abc") == name_view("abc"));
}
