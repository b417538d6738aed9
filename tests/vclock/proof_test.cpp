// Proof that unmodified programs use vclock: static musl and glibc builds of clock_client.c run
// under vdsokit-exec print the time written into vVAR (2001-09-09 for --realtime 1000000000), and
// strace sees no clock system call except for the clocks vclock does not serve, which fall back to
// the kernel and give its answer. Plus vdsokit-exec's refusals and the image's Linux ABI facts.
//
// Paths come from the environment (tests/vclock/meson.build). A missing musl-gcc or strace is a
// failure, not a skip: CI installs both (scripts/install-deps.sh).
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::string environment_path(const char* name, const char* what_to_install) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0')
        FAIL(name << " is empty: " << what_to_install << " was not found when the build was configured. "
                  << "Install it (scripts/install-deps.sh) and reconfigure.");
    return value;
}

struct run_result {
    int exit_status;
    std::string output;
};

run_result run(const std::string& command) {
    run_result result{-1, {}};
    FILE* pipe = popen((command + " 2>&1").c_str(), "r");
    REQUIRE(pipe != nullptr);
    char buffer[4096];
    while (std::size_t got = std::fread(buffer, 1, sizeof buffer, pipe)) result.output.append(buffer, got);
    const int status = pclose(pipe);
    result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// clock_client prints `name value [date]` lines.
std::map<std::string, std::vector<std::string>> parse_client(const std::string& output) {
    std::map<std::string, std::vector<std::string>> fields;
    std::istringstream lines(output);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::string name, word;
        words >> name;
        while (words >> word) fields[name].push_back(word);
    }
    return fields;
}

long long whole_seconds(const std::string& value) { return std::atoll(value.substr(0, value.find('.')).c_str()); }

std::vector<std::string> clock_syscalls(const std::string& trace) {
    std::vector<std::string> calls;
    std::istringstream lines(trace);
    for (std::string line; std::getline(lines, line);)
        if (line.find("clock_gettime(") != std::string::npos || line.find("gettimeofday(") != std::string::npos ||
            line.find(" time(") != std::string::npos)
            calls.push_back(line);
    return calls;
}

constexpr long long set_realtime = 1'000'000'000;  // 2001-09-09T01:46:40Z
constexpr long long set_monotonic = 5000;
constexpr long long one_day = 86400;

// Runs `client` under vdsokit-exec and strace; checks the values and the system calls.
void check_client_uses_vclock(const std::string& label, const std::string& client) {
    const std::string exec = environment_path("VCLOCK_EXEC", "vdsokit-exec");
    const std::string strace = environment_path("VCLOCK_STRACE", "strace");
    const std::string trace_path = environment_path("VCLOCK_WORK_DIR", "the build directory") + "/trace_" + label + ".txt";
    const run_result result = run(strace + " -f -qq -e trace=clock_gettime,gettimeofday,time -o " + trace_path + " " +
                                  exec + " --realtime " + std::to_string(set_realtime) + " --monotonic " +
                                  std::to_string(set_monotonic) + " " + client);
    INFO(label << " output:\n" << result.output);
    REQUIRE(result.exit_status == 0);
    auto fields = parse_client(result.output);

    REQUIRE(fields["sysinfo_ehdr"].size() == 1);
    CHECK(fields["sysinfo_ehdr"][0] != "0");
    // The values written into vVAR, not the host's: the call went through vclock.
    for (const char* name : {"clock_realtime", "clock_realtime_coarse", "gettimeofday", "time"}) {
        INFO(name);
        REQUIRE(fields[name].size() == 2);
        CHECK(fields[name][1] == "2001-09-09");
        CHECK(whole_seconds(fields[name][0]) >= set_realtime);
        CHECK(whole_seconds(fields[name][0]) < set_realtime + one_day);
    }
    for (const char* name : {"clock_monotonic", "clock_monotonic_coarse", "clock_boottime"}) {
        INFO(name);
        REQUIRE(fields[name].size() == 2);
        CHECK(whole_seconds(fields[name][0]) >= set_monotonic);
        CHECK(whole_seconds(fields[name][0]) < set_monotonic + one_day);
    }
    // Unserved clocks: the kernel's answer (TAI is the host's present, CPU time is small).
    REQUIRE(fields["clock_tai"].size() == 2);
    CHECK(whole_seconds(fields["clock_tai"][0]) > set_realtime + 365 * one_day);
    REQUIRE(fields["clock_process_cputime"].size() == 2);
    CHECK(whole_seconds(fields["clock_process_cputime"][0]) < 3600);

    // strace: only the unserved clocks reached the kernel.
    const std::vector<std::string> calls = clock_syscalls(read_text(trace_path));
    std::string all;
    for (const auto& call : calls) all += call + "\n";
    INFO("clock system calls seen by strace:\n" << all);
    REQUIRE(calls.size() == 2);
    CHECK(calls[0].find("clock_gettime(CLOCK_PROCESS_CPUTIME_ID") != std::string::npos);
    CHECK(calls[1].find("clock_gettime(CLOCK_TAI") != std::string::npos);
}

}  // namespace

TEST_CASE("a static musl program reads the time written into vVAR and makes no clock system call", "[vclock]") {
    check_client_uses_vclock("musl_static", environment_path("VCLOCK_MUSL_STATIC", "musl-gcc (Debian: musl-tools)"));
}

TEST_CASE("a static glibc program reads the time written into vVAR and makes no clock system call", "[vclock]") {
    check_client_uses_vclock("glibc_static", environment_path("VCLOCK_GLIBC_STATIC", "gcc"));
}

TEST_CASE("a static-pie glibc program reads the time written into vVAR and makes no clock system call", "[vclock]") {
    check_client_uses_vclock("glibc_static_pie", environment_path("VCLOCK_GLIBC_STATIC_PIE", "gcc"));
}

TEST_CASE("in fallback mode every clock goes to the system call and reads the host's time", "[vclock]") {
    const std::string exec = environment_path("VCLOCK_EXEC", "vdsokit-exec");
    const std::string strace = environment_path("VCLOCK_STRACE", "strace");
    const std::string trace_path = environment_path("VCLOCK_WORK_DIR", "the build directory") + "/trace_fallback.txt";
    for (const char* variable : {"VCLOCK_MUSL_STATIC", "VCLOCK_GLIBC_STATIC"}) {
        const std::string client = environment_path(variable, "the client's compiler");
        const run_result result = run(strace + " -f -qq -e trace=clock_gettime,gettimeofday,time -o " + trace_path +
                                      " " + exec + " --fallback --realtime 1000000000 " + client);
        INFO(variable << " output:\n" << result.output);
        REQUIRE(result.exit_status == 0);
        auto fields = parse_client(result.output);
        REQUIRE(fields["clock_realtime"].size() == 2);
        CHECK(whole_seconds(fields["clock_realtime"][0]) > set_realtime + 365 * one_day);
        const std::string trace = read_text(trace_path);
        INFO("trace:\n" << trace);
        CHECK(trace.find("clock_gettime(CLOCK_REALTIME,") != std::string::npos);
        CHECK(trace.find("clock_gettime(CLOCK_MONOTONIC,") != std::string::npos);
        CHECK(trace.find("clock_gettime(CLOCK_BOOTTIME,") != std::string::npos);
    }
}

TEST_CASE("vdsokit-exec passes arguments and the environment and returns the program's exit status", "[vclock]") {
    const std::string exec = environment_path("VCLOCK_EXEC", "vdsokit-exec");
    for (const char* variable : {"VCLOCK_MUSL_STATIC", "VCLOCK_GLIBC_STATIC", "VCLOCK_GLIBC_STATIC_PIE"}) {
        const std::string client = environment_path(variable, "the client's compiler");
        const run_result result = run("VCLOCK_PROBE=seen " + exec + " --realtime 1000000000 -- " + client + " one --two");
        INFO(variable << " output:\n" << result.output);
        CHECK(result.exit_status == 2);
        CHECK(result.output == "argv one\nargv --two\nprobe seen\n");
    }
}

TEST_CASE("--vdso maps an image file through the loader and refuses one with another vVAR layout", "[vclock]") {
    const std::string exec = environment_path("VCLOCK_EXEC", "vdsokit-exec");
    const std::string client = environment_path("VCLOCK_MUSL_STATIC", "musl-gcc (Debian: musl-tools)");
    const std::string image = environment_path("VCLOCK_IMAGE", "the vclock image");
    run_result result = run(exec + " --vdso " + image + " --realtime 1000000000 " + client);
    INFO(result.output);
    REQUIRE(result.exit_status == 0);
    CHECK(parse_client(result.output)["clock_realtime"].at(1) == "2001-09-09");
    const std::string other = environment_path("VCLOCK_OTHER_IMAGE", "examples/counter (the counter image)");
    result = run(exec + " --vdso " + other + " " + client);
    CHECK(result.exit_status != 0);
    CHECK(result.output.find(other + ": vVAR layout mismatch") != std::string::npos);
    CHECK(result.output.find("vdsokit::vclock::time_page") != std::string::npos);
}

TEST_CASE("vdsokit-exec refuses a dynamically linked program, naming the file and the reason", "[vclock]") {
    const std::string exec = environment_path("VCLOCK_EXEC", "vdsokit-exec");
    const std::string client = environment_path("VCLOCK_GLIBC_DYNAMIC", "gcc");
    const run_result result = run(exec + " " + client);
    INFO(result.output);
    CHECK(result.exit_status != 0);
    CHECK(result.output.find(client + ": cannot run: dynamically linked") != std::string::npos);
    CHECK(result.output.find("PT_INTERP") != std::string::npos);
    CHECK(result.output.find("static") != std::string::npos);
}

TEST_CASE("vdsokit-exec refuses a program built for another architecture", "[vclock]") {
    const std::string exec = environment_path("VCLOCK_EXEC", "vdsokit-exec");
    const std::string source = environment_path("VCLOCK_GLIBC_STATIC", "gcc");
    const std::string copy = environment_path("VCLOCK_WORK_DIR", "the build directory") + "/clock_client_as_aarch64";
    {
        std::string bytes = read_text(source);
        REQUIRE(bytes.size() > 64);
        bytes[18] = static_cast<char>(183);  // e_machine = EM_AARCH64
        bytes[19] = 0;
        std::ofstream(copy, std::ios::binary) << bytes;
    }
    const run_result result = run(exec + " " + copy);
    INFO(result.output);
    CHECK(result.exit_status != 0);
    CHECK(result.output.find(copy + ": cannot run: wrong architecture") != std::string::npos);
    CHECK(result.output.find("aarch64 (e_machine 183)") != std::string::npos);
}

TEST_CASE("vdsokit-exec refuses a file that is not ELF and a missing file", "[vclock]") {
    const std::string exec = environment_path("VCLOCK_EXEC", "vdsokit-exec");
    const std::string text = environment_path("VCLOCK_WORK_DIR", "the build directory") + "/not_a_program.txt";
    std::ofstream(text) << "#!/bin/sh\necho hello\n";
    run_result result = run(exec + " " + text);
    INFO(result.output);
    CHECK(result.exit_status != 0);
    CHECK(result.output.find(text + ": cannot run: not an ELF file") != std::string::npos);
    result = run(exec + " " + text + ".missing");
    CHECK(result.exit_status != 0);
    CHECK(result.output.find(".missing: cannot run: cannot open it") != std::string::npos);
}

TEST_CASE("the image carries the Linux vDSO ABI: soname, both hash tables, LINUX_2.6, no relocations", "[vclock]") {
    const std::string image = environment_path("VCLOCK_IMAGE", "the vclock image");
    const run_result dynamic = run("readelf -dW " + image);
    INFO(dynamic.output);
    CHECK(dynamic.output.find("Library soname: [linux-vdso.so.1]") != std::string::npos);
    CHECK(dynamic.output.find("(HASH)") != std::string::npos);
    CHECK(dynamic.output.find("(GNU_HASH)") != std::string::npos);
    CHECK(dynamic.output.find("(NEEDED)") == std::string::npos);
    const run_result relocations = run("readelf -rW " + image);
    CHECK(relocations.output.find("There are no relocations in this file.") != std::string::npos);
    const run_result symbols = run("readelf --dyn-syms -W " + image);
    INFO(symbols.output);
    for (const char* name : {"__vdso_clock_gettime@@LINUX_2.6", "__vdso_gettimeofday@@LINUX_2.6",
                             "__vdso_time@@LINUX_2.6", "__vdso_getcpu@@LINUX_2.6", " clock_gettime@@LINUX_2.6",
                             " gettimeofday@@LINUX_2.6", " time@@LINUX_2.6", " getcpu@@LINUX_2.6"})
        CHECK(symbols.output.find(name) != std::string::npos);
    // The unprefixed names are weak aliases, as in Linux.
    std::istringstream lines(symbols.output);
    int weak_aliases = 0;
    for (std::string line; std::getline(lines, line);)
        for (const char* alias : {" clock_gettime@@", " gettimeofday@@", " time@@", " getcpu@@"})
            if (line.find(alias) != std::string::npos && line.find(" WEAK ") != std::string::npos) ++weak_aliases;
    CHECK(weak_aliases == 4);
}
