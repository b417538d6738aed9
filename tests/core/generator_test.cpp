// vdsokit-gen on tricky and broken inputs: what it finds, and the file:line errors it gives.
#include <catch2/catch.hpp>

#include <filesystem>

#include "test_support.hpp"

using vdsokit_test::run;

namespace {
std::string gen() { return vdsokit_test::required_env("VDSOKIT_GEN"); }
std::string headers(const char* folder) { return vdsokit_test::required_env("VDSOKIT_TEST_SOURCE") + "/" + folder + "/"; }
std::string scratch() {
    auto dir = std::filesystem::temp_directory_path() / ("vdsokit-gen-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    return dir.string();
}
}  // namespace

TEST_CASE("the API parser finds every C-linkage function through comments, attributes and function pointers") {
    const auto result = run(gen() + " parse " + headers("api_headers") + "tricky.hpp");
    REQUIRE(result.status == 0);
    CHECK(result.output ==
          "18 ::tricky_multi_line\n"
          "24 ::tricky_callback\n"
          "27 ::tricky_returns_handler\n"
          "33 ::tricky_make_pair\n"
          "34 ::tricky_first\n"
          "39 ::tricky_single\n"
          "42 ::tricky_ns::tricky_in_namespace\n");
}

TEST_CASE("the API parser accepts C idioms: __cplusplus guards, CRLF, comments in directives, inline helpers") {
    const auto result = run(gen() + " parse " + headers("api_headers") + "c_idioms.hpp");
    REQUIRE(result.status == 0);
    CHECK(result.output ==
          "11 ::idiom_first\n"
          "15 ::idiom_second\n"
          "20 ::idioms::v1::idiom_versioned\n");
}

TEST_CASE("the API parser reads raw string literals over several lines and Unicode identifiers") {
    const auto result = run(gen() + " parse " + headers("api_headers") + "raw_strings_unicode.hpp");
    REQUIRE(result.status == 0);
    CHECK(result.output == "4 ::old_call\n5 ::caf\xc3\xa9\n6 ::after\n");
}

TEST_CASE("the API parser refuses what it cannot classify, naming file and line") {
    struct broken {
        const char* file;
        const char* message;
    };
    const broken cases[] = {
        {"broken_variable.hpp", "broken_variable.hpp:4: error: 'shared_counter' is not a function"},
        {"broken_function_pointer_variable.hpp", "broken_function_pointer_variable.hpp:4: error: 'handler' is not a function"},
        {"broken_body.hpp", "broken_body.hpp:4: error: 'defined_here' has a body"},
        {"broken_unclosed.hpp", "broken_unclosed.hpp:2: error: this '{' is never closed"},
        {"broken_comment.hpp", "broken_comment.hpp:3: error: unterminated /* comment"},
        {"broken_empty.hpp", "broken_empty.hpp:1: error: declares no extern \"C\" function"},
        {"broken_several.hpp", "broken_several.hpp:3: error: declares several names in one declaration"},
        {"broken_conditional.hpp", "broken_conditional.hpp:4: error: a conditional inside extern \"C\""},
        {"broken_asm_label.hpp", "broken_asm_label.hpp:3: error: 'renamed' renames its symbol with an asm label"},
        {"broken_macro.hpp", "broken_macro.hpp:4: error: 'DECLARE_API(...)' has no return type: a macro invocation?"},
    };
    for (const auto& c : cases) {
        INFO(c.file);
        const auto result = run(gen() + " parse " + headers("api_headers") + c.file);
        CHECK(result.status == 1);
        CHECK_THAT(result.output, Catch::Contains(c.message));
    }
}

TEST_CASE("the version script exports exactly the API under one node") {
    const std::string out = scratch() + "/tricky.ver";
    const auto result = run(gen() + " version-script --node TRICKY_1 --export alias_name --out " + out + " " +
                            headers("api_headers") + "tricky.hpp");
    REQUIRE(result.status == 0);
    const std::string script = vdsokit_test::read_text(out);
    CHECK_THAT(script, Catch::Contains("TRICKY_1 {"));
    CHECK_THAT(script, Catch::Contains("tricky_multi_line;"));
    CHECK_THAT(script, Catch::Contains("tricky_in_namespace;"));
    CHECK_THAT(script, Catch::Contains("alias_name;"));
    CHECK_THAT(script, Catch::Contains("local:\n        *;"));
    CHECK_THAT(script, !Catch::Contains("cpp_linkage_helper"));
}

TEST_CASE("MUT_CFG overrides come from the environment, a Meson option wins, and the header changes only with them") {
    const std::string out = scratch() + "/test_mut_cfg.hpp";
    std::filesystem::remove(out);
    const std::string tool = gen() + " mut-cfg --out " + out + " " + headers("mut_cfg_headers") + "config.hpp";

    REQUIRE(run("env -u TEST_STEP -u TEST_MODE " + tool).status == 0);
    const std::string defaults = vdsokit_test::read_text(out);
    CHECK_THAT(defaults, Catch::Contains("TEST_STEP = 1  (default)"));
    CHECK_THAT(defaults, !Catch::Contains("mut_cfg_override TEST_STEP"));
    const auto first_write = std::filesystem::last_write_time(out);

    REQUIRE(run("env -u TEST_STEP -u TEST_MODE " + tool).status == 0);
    CHECK(std::filesystem::last_write_time(out) == first_write);  // unchanged content: not rewritten

    REQUIRE(run("TEST_STEP=0x10 TEST_OFFSET=-128 TEST_TRACE=on TEST_MODE=careful " + tool).status == 0);
    const std::string overridden = vdsokit_test::read_text(out);
    CHECK_THAT(overridden, Catch::Contains("mut_cfg_override TEST_STEP{false, 16u}"));
    CHECK_THAT(overridden, Catch::Contains("mut_cfg_override TEST_OFFSET{true, 128u}"));
    CHECK_THAT(overridden, Catch::Contains("mut_cfg_override TEST_TRACE{false, 1u}"));
    CHECK_THAT(overridden, Catch::Contains("mut_cfg_enumerator TEST_MODE{[]<class Enum>(std::type_identity<Enum>) { return Enum::careful; }}"));
    CHECK_THAT(overridden, Catch::Contains("overrides_included = true"));

    REQUIRE(run("TEST_STEP=010 TEST_MODE=test_mode::paranoid " + tool).status == 0);  // C++ literal rules: octal
    CHECK_THAT(vdsokit_test::read_text(out), Catch::Contains("TEST_STEP{false, 8u}"));
    CHECK_THAT(vdsokit_test::read_text(out), Catch::Contains("return Enum::paranoid;"));

    REQUIRE(run("TEST_STEP=' 7 ' " + tool).status == 0);  // surrounding blanks are not part of the value
    CHECK_THAT(vdsokit_test::read_text(out), Catch::Contains("TEST_STEP{false, 7u}"));

    REQUIRE(run("TEST_STEP=3 " + tool + " --set TEST_STEP=4").status == 0);
    CHECK_THAT(vdsokit_test::read_text(out), Catch::Contains("TEST_STEP{false, 4u}"));
}

TEST_CASE("a MUT_CFG override that does not fit its type is an error naming the constant and the value") {
    const std::string out = scratch() + "/bad_mut_cfg.hpp";
    std::filesystem::remove(out);
    const std::string tool = gen() + " mut-cfg --out " + out + " " + headers("mut_cfg_headers") + "config.hpp";
    struct bad {
        const char* setting;
        const char* message;
    };
    const bad cases[] = {
        {"TEST_STEP=abc", "MUT_CFG TEST_STEP: \"abc\" (from the environment) is not a valid std::uint32_t: expected an integer in [0, 4294967295]"},
        {"TEST_STEP=4294967296", "MUT_CFG TEST_STEP: \"4294967296\" (from the environment) is out of range for std::uint32_t"},
        {"TEST_STEP=-1", "is out of range for std::uint32_t"},
        {"TEST_STEP=_", "is not a valid std::uint32_t"},
        {"TEST_STEP=\"1''2\"", "is not a valid std::uint32_t"},
        {"TEST_STEP=", "is empty: unset the variable to use the default"},
        {"TEST_MODE=5", "is a number, but test_mode is an enum: expected one of fast, careful, paranoid"},
        {"TEST_OFFSET=128", "MUT_CFG TEST_OFFSET: \"128\" (from the environment) is out of range for std::int8_t: expected an integer in [-128, 127]"},
        {"TEST_TRACE=maybe", "MUT_CFG TEST_TRACE: \"maybe\" (from the environment) is not a valid bool"},
        {"TEST_MODE=reckless", "MUT_CFG TEST_MODE: \"reckless\" (from the environment) is not an enumerator of test_mode: expected one of fast, careful, paranoid"},
    };
    for (const auto& c : cases) {
        INFO(c.setting);
        const auto result = run(std::string(c.setting) + " " + tool);
        CHECK(result.status == 1);
        CHECK_THAT(result.output, Catch::Contains("config.hpp:"));
        CHECK_THAT(result.output, Catch::Contains(c.message));
        CHECK_FALSE(std::filesystem::exists(out));  // nothing written on error
    }
    const auto unknown = run(tool + " --set TEST_SETP=2");
    CHECK(unknown.status == 1);
    CHECK_THAT(unknown.output, Catch::Contains("no MUT_CFG constant is named TEST_SETP"));
}

TEST_CASE("MUT_CFG declarations inside a namespace are refused, naming file and line") {
    const auto result = run(gen() + " mut-cfg --out " + scratch() + "/test_mut_cfg.hpp " + headers("mut_cfg_headers") +
                            "in_namespace.hpp");
    CHECK(result.status == 1);
    CHECK_THAT(result.output, Catch::Contains("in_namespace.hpp:5: error: VDSOKIT_MUT_CFG must be used at global scope"));
}

TEST_CASE("a header that declares MUT_CFG constants without including the overrides is refused") {
    const auto result = run(gen() + " mut-cfg --out " + scratch() + "/test_mut_cfg.hpp " + headers("mut_cfg_headers") +
                            "forgets_include.hpp");
    CHECK(result.status == 1);
    CHECK_THAT(result.output, Catch::Contains("forgets_include.hpp:1: error: declares MUT_CFG constants but does not "
                                              "#include \"test_mut_cfg.hpp\""));
}
