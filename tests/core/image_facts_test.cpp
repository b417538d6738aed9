// The ELF facts of the counter example image, as built by vdsokit's recipe, asserted one by one.
#include <catch2/catch.hpp>

#include <cstring>
#include <set>
#include <string>
#include <vector>

#include <vdsokit/elf.hpp>
#include <vdsokit/load_plan.hpp>
#include <vdsokit/note.hpp>

#include "counter_api.hpp"
#include "shared.hpp"
#include "test_support.hpp"

namespace {

struct loaded_file {
    std::string bytes;
    vdsokit::elf::image image;
};

const loaded_file& counter_image() {
    static const loaded_file file = [] {
        loaded_file f;
        f.bytes = vdsokit_test::read_text(vdsokit_test::required_env("VDSOKIT_COUNTER_IMAGE"));
        auto parsed = vdsokit::elf::image::parse(reinterpret_cast<const unsigned char*>(f.bytes.data()), f.bytes.size());
        if (!parsed) {
            char message[256];
            vdsokit::elf::describe(parsed.failure(), message, sizeof message);
            FAIL(message);
        }
        f.image = parsed.value();
        return f;
    }();
    return file;
}

std::string str(vdsokit::elf::name_view name) { return {name.data(), name.size()}; }

constexpr std::uint32_t pt_load = 1, pt_dynamic = 2, pt_note = 4, pt_gnu_stack = 0x6474e551;

}  // namespace

TEST_CASE("the image is three page-aligned PT_LOADs: RX text with the headers, R rodata, RW data") {
    const auto& image = counter_image().image;
    std::vector<vdsokit::elf::segment> loads;
    image.for_each_segment([&](const vdsokit::elf::segment& s) {
        if (s.type == pt_load) loads.push_back(s);
    });
    REQUIRE(loads.size() == 3);
    CHECK(loads[0].flags == (vdsokit::segment_read | vdsokit::segment_execute));
    CHECK(loads[0].offset == 0);  // the ELF header starts the text segment: the image base
    CHECK(loads[1].flags == vdsokit::segment_read);
    CHECK(loads[2].flags == (vdsokit::segment_read | vdsokit::segment_write));
    for (const auto& s : loads) {
        INFO("segment at " << s.vaddr);
        CHECK(s.vaddr % 4096 == 0);
        CHECK(s.vaddr - s.offset == image.vvar_size());  // congruent: glibc and musl agree on the bias
        const bool write_and_execute = (s.flags & vdsokit::segment_write) && (s.flags & vdsokit::segment_execute);
        CHECK_FALSE(write_and_execute);
    }
}

TEST_CASE("vVAR sits directly below the image and holds the vVAR type") {
    const auto& image = counter_image().image;
    CHECK(image.vvar_size() == 4096);
    CHECK(counter_vdso::facts.vvar_size == image.vvar_size());
    vdsokit::elf::section vvar{};
    REQUIRE(image.find_section(".vdsokit.vvar", vvar));
    CHECK(vvar.address == 0);
    CHECK(vvar.size == sizeof(counter_shared));
}

TEST_CASE("the image has PT_DYNAMIC, PT_NOTE and a non-executable PT_GNU_STACK") {
    std::set<std::uint32_t> types;
    counter_image().image.for_each_segment([&](const vdsokit::elf::segment& s) {
        types.insert(s.type);
        if (s.type == pt_gnu_stack) CHECK((s.flags & vdsokit::segment_execute) == 0);
    });
    CHECK(types.contains(pt_dynamic));
    CHECK(types.contains(pt_note));
    CHECK(types.contains(pt_gnu_stack));
}

TEST_CASE("symbols are found through both DT_HASH and DT_GNU_HASH, under the version node") {
    const auto& image = counter_image().image;
    REQUIRE(image.has_sysv_hash());
    REQUIRE(image.has_gnu_hash());
    vdsokit::elf::symbol through_sysv{}, through_gnu{};
    REQUIRE(image.lookup_sysv_hash("counter_add_shared", "COUNTER_1", through_sysv));
    REQUIRE(image.lookup_gnu_hash("counter_add_shared", "COUNTER_1", through_gnu));
    CHECK(through_sysv.value == through_gnu.value);
    CHECK(through_gnu.value - image.vvar_size() == counter_vdso::symbol_offsets::counter_add_shared);
    CHECK_FALSE(image.lookup_gnu_hash("counter_add_shared", "OTHER_1", through_gnu));
}

TEST_CASE("only the api.hpp functions are exported") {
    std::set<std::string> exported;
    counter_image().image.for_each_dynamic_symbol([&](const vdsokit::elf::symbol& s) {
        if (s.defined() && s.binding != 0 && str(s.name) != "COUNTER_1") exported.insert(str(s.name));
    });
    CHECK(exported == std::set<std::string>{"counter_add_private", "counter_add_shared", "counter_calls",
                                            "counter_read_private", "counter_read_shared", "counter_step"});
}

TEST_CASE("the image needs no relocation and nothing runs at load time") {
    const auto& image = counter_image().image;
    CHECK(image.relocation_count() == 0);
    vdsokit::elf::section section{};
    CHECK_FALSE(image.find_section(".init_array", section));
    CHECK_FALSE(image.find_section(".tbss", section));
}

TEST_CASE("the layout note carries the fingerprint the host computes for the same type") {
    std::uint64_t recorded = 0;
    int notes = 0;
    counter_image().image.for_each_note([&](const vdsokit::elf::note& n) {
        if (str(n.owner) != "vdsokit" || n.type != vdsokit::note::vvar_layout) return;
        ++notes;
        vdsokit::note::vvar_layout_description d;
        std::memcpy(&d, n.description.data(), sizeof d);
        recorded = d.fingerprint_low | std::uint64_t(d.fingerprint_high) << 32;
        CHECK(d.size == sizeof(counter_shared));
    });
    CHECK(notes == 1);
    CHECK(recorded == vdsokit::layout_fingerprint<counter_shared>);
    CHECK(counter_vdso::facts.vvar_fingerprint == recorded);
}

TEST_CASE("the MUT_CFG value is recorded in the image and equals what the host sees") {
    CHECK(std::string(counter_vdso::mut_cfg[0].name) == "COUNTER_STEP");
    CHECK(std::string(counter_vdso::mut_cfg[0].value) == std::to_string(COUNTER_STEP));
}

TEST_CASE("a vVAR access is one PC-relative instruction with no relocation") {
    const auto disassembly = vdsokit_test::run("objdump -d --no-show-raw-insn " +
                                               vdsokit_test::required_env("VDSOKIT_COUNTER_IMAGE"));
    REQUIRE(disassembly.status == 0);
    const auto start = disassembly.output.find("<counter_read_shared>:");
    REQUIRE(start != std::string::npos);
    const std::string body = disassembly.output.substr(start, disassembly.output.find("\n\n", start) - start);
#if defined(__x86_64__)
    CHECK_THAT(body, Catch::Contains("mov    -0x"));  // a negative offset: below the image
    CHECK_THAT(body, Catch::Contains("(%rip)"));
#endif
    CHECK_THAT(body, !Catch::Contains("call"));
}

TEST_CASE("the load plan maps text and rodata shared, data private") {
    const auto plan = vdsokit::make_load_plan(counter_image().image);
    REQUIRE(plan.ok());
    const auto segments = plan.value().segments();
    REQUIRE(segments.size() == 3);
    CHECK(segments[0].image_offset == 0);
    CHECK(segments[0].shared);
    CHECK(segments[1].shared);
    CHECK_FALSE(segments[2].shared);
    CHECK(plan.value().image_size() == counter_vdso::facts.image_size);
}
