// vdsokit-inspect on our image, on the running kernel's vDSO, and on malformed input.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include <catch2/catch.hpp>

#include <vdsokit/fingerprint.hpp>
#include <vdsokit/linux/loader.hpp>

#include "shared.hpp"

namespace {

struct run_result {
    int status = -1;
    std::string output;  // stdout and stderr
};

run_result run_inspect(const std::string& argument) {
    const char* inspect = std::getenv("VDSOKIT_INSPECT");
    if (inspect == nullptr) FAIL("VDSOKIT_INSPECT is not set (the test is run by meson)");
    run_result result;
    const std::string command = std::string(inspect) + " '" + argument + "' 2>&1";
    FILE* pipe = ::popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    char buffer[4096];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) result.output.append(buffer, n);
    const int status = ::pclose(pipe);
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return result;
}

}  // namespace

TEST_CASE("Inspect shows our image's segments, vVAR type, fingerprint, symbols and MUT_CFG values", "[inspect]") {
    const std::string image = std::getenv("VDSOKIT_COUNTER_IMAGE");
    const run_result r = run_inspect(image);
    INFO(r.output);
    CHECK(r.status == 0);
    CHECK_THAT(r.output, Catch::Contains("vVAR: 4096 bytes below the image base"));
    CHECK_THAT(r.output, Catch::Contains("vVAR type: counter_shared, layout fingerprint " +
                                         vdsokit::host::detail::hex(vdsokit::layout_fingerprint<counter_shared>)));
    CHECK_THAT(r.output, Catch::Contains("r-x"));
    CHECK_THAT(r.output, Catch::Contains("rw- private"));
    CHECK_THAT(r.output, Catch::Contains("counter_add_shared"));
    CHECK_THAT(r.output, Catch::Contains("@@COUNTER_1"));
    CHECK_THAT(r.output, Catch::Contains("COUNTER_STEP = "));
}

TEST_CASE("Inspect finds the running kernel's vDSO and its versioned clock functions", "[inspect]") {
    const run_result r = run_inspect("--kernel");
    INFO(r.output);
    REQUIRE(r.status == 0);
    CHECK_THAT(r.output, Catch::Contains("kernel vDSO"));
#if defined(__x86_64__)
    CHECK_THAT(r.output, Catch::Contains("__vdso_clock_gettime"));
    CHECK_THAT(r.output, Catch::Contains("@@LINUX_2.6"));
#endif
    CHECK_THAT(r.output, Catch::Contains("vVAR type: none recorded"));
}

TEST_CASE("Inspect refuses a malformed file with a non-zero status and names the file and the field", "[inspect]") {
    const std::string path = "/tmp/vdsokit-inspect-malformed-" + std::to_string(::getpid()) + ".so";
    {
        const std::string image = std::getenv("VDSOKIT_COUNTER_IMAGE");
        std::ifstream in(image, std::ios::binary);
        std::string bytes{std::istreambuf_iterator<char>(in), {}};
        bytes.resize(200);  // the program headers run past the end
        std::ofstream(path, std::ios::binary) << bytes;
    }
    const run_result r = run_inspect(path);
    INFO(r.output);
    CHECK(r.status != 0);
    CHECK_THAT(r.output, Catch::Contains(path + ": not a valid ELF image: "));
    CHECK_THAT(r.output, Catch::Contains("file offset"));
    std::remove(path.c_str());

    const run_result missing = run_inspect("/nonexistent.so");
    CHECK(missing.status != 0);
    CHECK_THAT(missing.output, Catch::Contains("/nonexistent.so: cannot open"));
}
