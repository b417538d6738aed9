// The Linux loader: mapping the counter vDSO into one process twice, into real child processes
// (fork + exec, the vVAR descriptor inherited or passed over a Unix socket), and refusing what
// must be refused (a different vVAR layout, malformed images) with messages that say why.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <vdsokit/linux/loader.hpp>

#include "counter_api.hpp"
#include "counter_image.hpp"
#include "shared.hpp"

using namespace vdsokit;

namespace {

// Same field count as counter_shared, but a different layout: the loader must refuse it.
struct wrong_counter_shared {
    std::atomic<std::uint64_t> total;
    std::atomic<std::uint32_t> calls;
};

std::string environment(const char* name) {
    const char* value = std::getenv(name);
    REQUIRE(value != nullptr);
    return value;
}

std::string image_path() { return environment("VDSOKIT_COUNTER_IMAGE"); }

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

std::string write_temporary(const std::string& bytes, const char* stem) {
    std::string path = std::string("/tmp/vdsokit-") + stem + "-" + std::to_string(getpid()) + ".so";
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
}

// Lines of /proc/self/maps mentioning `text`.
int mappings_mentioning(const std::string& text) {
    std::ifstream maps("/proc/self/maps");
    int count = 0;
    for (std::string line; std::getline(maps, line);) count += line.find(text) != std::string::npos;
    return count;
}

std::size_t mapping_count() {
    std::ifstream maps("/proc/self/maps");
    std::size_t count = 0;
    for (std::string line; std::getline(maps, line);) ++count;
    return count;
}

// The permissions /proc/self/maps shows for the page at `address`.
std::string permissions_at(const void* address) {
    std::ifstream maps("/proc/self/maps");
    const auto at = reinterpret_cast<std::uintptr_t>(address);
    for (std::string line; std::getline(maps, line);) {
        std::uintptr_t begin = 0, end = 0;
        char perms[5] = {};
        if (std::sscanf(line.c_str(), "%" SCNxPTR "-%" SCNxPTR " %4s", &begin, &end, perms) == 3 && begin <= at &&
            at < end)
            return perms;
    }
    return "unmapped";
}

struct child_report {
    std::uintptr_t base = 0;
    std::uint64_t private_total = 0, shared_seen = 0;
    int exit_status = -1;
};

// Starts loader_child with fork + exec; `extra` names how it gets the vVAR descriptor.
pid_t start_child(const std::vector<std::string>& extra, int report_fd, std::uint64_t adds) {
    std::vector<std::string> args = {environment("VDSOKIT_LOADER_CHILD"), "--image", image_path(), "--adds",
                                     std::to_string(adds), "--report-fd", std::to_string(report_fd)};
    args.insert(args.end(), extra.begin(), extra.end());
    const pid_t pid = ::fork();
    if (pid == 0) {
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    return pid;
}

child_report finish_child(pid_t pid, int report_read_fd) {
    child_report report;
    int status = 0;
    ::waitpid(pid, &status, 0);
    report.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    char line[128] = {};
    const ssize_t n = ::read(report_read_fd, line, sizeof line - 1);
    if (n > 0)
        std::sscanf(line, "%" SCNxPTR " %" SCNu64 " %" SCNu64, &report.base, &report.private_total,
                    &report.shared_seen);
    return report;
}

bool address_space_is_randomised() {
    std::ifstream in("/proc/sys/kernel/randomize_va_space");
    int level = 0;
    in >> level;
    return level != 0;
}

struct loaded_counter {
    host::image_file image;
    host::vvar_region vvar;
};

loaded_counter load_counter() {
    auto image = host::image_file::open(image_path());
    REQUIRE(image.ok());
    auto vvar = host::vvar_region::create<counter_shared>(*image);
    INFO(vvar.error());
    REQUIRE(vvar.ok());
    return {std::move(*image), std::move(*vvar)};
}

}  // namespace

TEST_CASE("Two mappings in one process share the vVAR but keep their private data apart", "[loader]") {
    auto counter = load_counter();
    auto first = host::image_mapping::map(counter.image, counter.vvar);
    auto second = host::image_mapping::map(counter.image, counter.vvar);
    REQUIRE(first.ok());
    REQUIRE(second.ok());
    CHECK(first->image_base() != second->image_base());
    auto a = first->bind<counter_vdso::dispatch_table>(counter_vdso::facts);
    auto b = second->bind<counter_vdso::dispatch_table>(counter_vdso::facts);
    REQUIRE(a.ok());
    REQUIRE(b.ok());

    a->counter_add_shared(2);
    b->counter_add_shared(5);
    a->counter_add_private(3);
    b->counter_add_private(11);
    CHECK(a->counter_read_shared() == 7 * COUNTER_STEP);
    CHECK(b->counter_read_shared() == 7 * COUNTER_STEP);
    CHECK(counter.vvar.object<counter_shared>()->total.load() == 7 * COUNTER_STEP);
    CHECK(first->vvar<counter_shared>()->calls.load() == 2);
    CHECK(a->counter_read_private() == 3);
    CHECK(b->counter_read_private() == 11);
    CHECK(a->counter_step() == COUNTER_STEP);
}

TEST_CASE("The creator value-initialises the vVAR and an attacher does not", "[loader]") {
    auto counter = load_counter();
    CHECK(counter.vvar.object<counter_shared>()->total.load() == 0);
    counter.vvar.object<counter_shared>()->total = 41;
    auto attached = host::vvar_region::attach<counter_shared>(counter.vvar.fd());
    REQUIRE(attached.ok());
    CHECK(attached->object<counter_shared>()->total.load() == 41);
    auto mapping = host::image_mapping::map(counter.image, *attached);
    REQUIRE(mapping.ok());
    CHECK(mapping->bind<counter_vdso::dispatch_table>()->counter_add_shared(1) == 41 + COUNTER_STEP);
}

TEST_CASE("Segments get their own permissions and none is writable and executable", "[loader]") {
    auto counter = load_counter();
    auto mapping = host::image_mapping::map(counter.image, counter.vvar);
    REQUIRE(mapping.ok());
    const auto* base = static_cast<const std::byte*>(mapping->image_base());
    CHECK(permissions_at(base - 1) == "rw-s");  // vVAR: the shared memfd
    for (const segment_mapping& s : counter.image.plan().segments()) {
        const std::string perms = permissions_at(base + s.image_offset);
        INFO("segment at image offset " << s.image_offset << ": " << perms);
        CHECK(perms[0] == ((s.flags & segment_read) ? 'r' : '-'));
        CHECK(perms[1] == ((s.flags & segment_write) ? 'w' : '-'));
        CHECK(perms[2] == ((s.flags & segment_execute) ? 'x' : '-'));
        CHECK(!(perms[1] == 'w' && perms[2] == 'x'));
    }
}

TEST_CASE("An embedded image loads and behaves like the file it was generated from", "[loader]") {
    auto image = host::image_file::from_embedded(counter_vdso::embedded::image, "counter");
    INFO(image.error());
    REQUIRE(image.ok());
    CHECK(image->vvar_type().name == "counter_shared");
    CHECK(image->vvar_type().fingerprint == layout_fingerprint<counter_shared>);
    auto vvar = host::vvar_region::create<counter_shared>(*image);
    REQUIRE(vvar.ok());
    auto mapping = host::image_mapping::map(*image, *vvar);
    REQUIRE(mapping.ok());
    auto api = mapping->bind<counter_vdso::dispatch_table>(counter_vdso::facts);
    REQUIRE(api.ok());
    CHECK(api->counter_add_shared(4) == 4 * COUNTER_STEP);
    CHECK(api->counter_add_private(9) == 9);
}

TEST_CASE("Mappings are unmapped when their owner goes away", "[loader]") {
    auto counter = load_counter();
    const std::size_t before = mapping_count();
    const void* base = nullptr;
    {
        auto mapping = host::image_mapping::map(counter.image, counter.vvar);
        REQUIRE(mapping.ok());
        base = mapping->image_base();
        host::image_mapping moved = std::move(*mapping);  // ownership moves, nothing is unmapped twice
        CHECK(permissions_at(base) != "unmapped");
    }
    CHECK(permissions_at(base) == "unmapped");
    CHECK(mapping_count() == before);
}

TEST_CASE("Child processes started with fork and exec share the counter and keep private counters apart",
          "[loader][multiprocess]") {
    auto counter = load_counter();
    auto own = host::image_mapping::map(counter.image, counter.vvar);
    REQUIRE(own.ok());
    auto api = own->bind<counter_vdso::dispatch_table>(counter_vdso::facts);
    REQUIRE(api.ok());
    REQUIRE(host::keep_across_exec(counter.vvar.fd()).ok());

    constexpr int children = 3;
    constexpr std::uint64_t adds_per_child = 500;
    std::vector<pid_t> pids;
    std::vector<int> report_reads;
    for (int k = 0; k < children; ++k) {
        int report[2];
        REQUIRE(::pipe(report) == 0);
        pids.push_back(start_child({"--vvar-fd", std::to_string(counter.vvar.fd())}, report[1], adds_per_child));
        ::close(report[1]);
        report_reads.push_back(report[0]);
    }
    api->counter_add_shared(7);
    std::set<std::uintptr_t> bases = {own->base_address()};
    for (int k = 0; k < children; ++k) {
        const child_report report = finish_child(pids[k], report_reads[k]);
        ::close(report_reads[k]);
        INFO("child " << k);
        CHECK(report.exit_status == 0);
        CHECK(report.private_total == adds_per_child);  // only its own adds
        CHECK(report.base % page_size == 0);
        bases.insert(report.base);
    }
    CHECK(api->counter_read_shared() == (children * adds_per_child + 7) * COUNTER_STEP);
    CHECK(api->counter_calls() == children * adds_per_child + 1);
    CHECK(api->counter_read_private() == 0);  // the children's private adds never reach us
    if (address_space_is_randomised()) CHECK(bases.size() == children + 1);
}

TEST_CASE("A child receives the vVAR descriptor over a Unix socket and sees the same counter",
          "[loader][multiprocess]") {
    auto counter = load_counter();
    int sockets[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) == 0);
    REQUIRE(host::keep_across_exec(sockets[1]).ok());
    int report[2];
    REQUIRE(::pipe(report) == 0);
    const pid_t pid = start_child({"--socket", std::to_string(sockets[1])}, report[1], 25);
    ::close(report[1]);
    ::close(sockets[1]);
    auto sent = host::send_fd(sockets[0], counter.vvar.fd());
    INFO(sent.error());
    REQUIRE(sent.ok());
    const child_report result = finish_child(pid, report[0]);
    ::close(report[0]);
    ::close(sockets[0]);
    CHECK(result.exit_status == 0);
    CHECK(result.shared_seen == 25 * COUNTER_STEP);
    CHECK(counter.vvar.object<counter_shared>()->total.load() == 25 * COUNTER_STEP);
}

TEST_CASE("A descriptor sent over a socket in one process arrives as a new descriptor for the same memfd",
          "[loader]") {
    auto counter = load_counter();
    int sockets[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) == 0);
    REQUIRE(host::send_fd(sockets[0], counter.vvar.fd()).ok());
    auto received = host::receive_fd(sockets[1]);
    REQUIRE(received.ok());
    CHECK(*received != counter.vvar.fd());
    auto attached = host::vvar_region::attach<counter_shared>(*received);
    REQUIRE(attached.ok());
    counter.vvar.object<counter_shared>()->calls = 99;
    CHECK(attached->object<counter_shared>()->calls.load() == 99);
    ::close(*received);
    ::close(sockets[0]);
    auto nothing = host::receive_fd(sockets[1]);  // the peer closed: no descriptor
    CHECK_FALSE(nothing.ok());
    CHECK_THAT(nothing.error(), Catch::Contains("delivered no descriptor"));
    ::close(sockets[1]);
}

TEST_CASE("A host whose vVAR type has another layout is refused with both type names and fingerprints",
          "[loader][refusal]") {
    auto image = host::image_file::open(image_path());
    REQUIRE(image.ok());
    auto vvar = host::vvar_region::create<wrong_counter_shared>(*image);
    REQUIRE_FALSE(vvar.ok());
    const std::string message = vvar.error();
    INFO(message);
    CHECK_THAT(message, Catch::Contains(image_path()));
    CHECK_THAT(message, Catch::Contains("`counter_shared`"));
    CHECK_THAT(message, Catch::Contains("wrong_counter_shared"));
    CHECK_THAT(message, Catch::Contains(host::detail::hex(layout_fingerprint<counter_shared>)));
    CHECK_THAT(message, Catch::Contains(host::detail::hex(layout_fingerprint<wrong_counter_shared>)));

    // The same check guards an attacher that was compiled with the wrong type.
    auto right = host::vvar_region::create<counter_shared>(*image);
    REQUIRE(right.ok());
    auto attached = host::vvar_region::attach<wrong_counter_shared>(right->fd());
    REQUIRE(attached.ok());
    const std::size_t before = mapping_count();
    auto mapping = host::image_mapping::map(*image, *attached);
    REQUIRE_FALSE(mapping.ok());
    CHECK_THAT(mapping.error(), Catch::Contains("wrong_counter_shared"));
    CHECK(mapping_count() == before);
}

TEST_CASE("A host that passes no vVAR type for an image that has one is refused", "[loader][refusal]") {
    auto image = host::image_file::open(image_path());
    REQUIRE(image.ok());
    auto vvar = host::vvar_region::create_untyped(*image);
    REQUIRE_FALSE(vvar.ok());
    CHECK_THAT(vvar.error(), Catch::Contains("no vVAR type"));
    CHECK_THAT(vvar.error(), Catch::Contains("create<counter_shared>"));
}

TEST_CASE("A dispatch table generated for another image is refused", "[loader][refusal]") {
    auto counter = load_counter();
    auto mapping = host::image_mapping::map(counter.image, counter.vvar);
    REQUIRE(mapping.ok());
    image_facts stale = counter_vdso::facts;
    stale.image_size += page_size;
    auto table = mapping->bind<counter_vdso::dispatch_table>(stale);
    REQUIRE_FALSE(table.ok());
    CHECK_THAT(table.error(), Catch::Contains("describes another image"));
}

TEST_CASE("A truncated image is refused with the file and the broken field named, and nothing is mapped",
          "[loader][refusal]") {
    const std::string bytes = read_file(image_path());
    REQUIRE(bytes.size() > 4096);
    const std::string path = write_temporary(bytes.substr(0, 3000), "truncated");
    const std::size_t before = mapping_count();
    auto image = host::image_file::open(path);
    REQUIRE_FALSE(image.ok());
    INFO(image.error());
    CHECK_THAT(image.error(), Catch::StartsWith(path + ": not a valid vDSO image: "));
    CHECK_THAT(image.error(), Catch::Contains("file offset"));
    CHECK(mappings_mentioning(path) == 0);
    CHECK(mapping_count() == before);
    std::remove(path.c_str());
}

TEST_CASE("Files that are not ELF images are refused with a clear message", "[loader][refusal]") {
    const std::string text = write_temporary(std::string(8192, 'x'), "text");
    auto not_elf = host::image_file::open(text);
    REQUIRE_FALSE(not_elf.ok());
    CHECK_THAT(not_elf.error(), Catch::Contains(text));
    CHECK_THAT(not_elf.error(), Catch::Contains("ELF header"));
    std::remove(text.c_str());

    auto missing = host::image_file::open("/nonexistent/libcounter.so");
    REQUIRE_FALSE(missing.ok());
    CHECK_THAT(missing.error(), Catch::Contains("/nonexistent/libcounter.so: cannot open: No such file"));

    std::string corrupt = read_file(image_path());
    corrupt[0x38] = 99;  // e_phnum: far more program headers than the file holds
    const std::string path = write_temporary(corrupt, "corrupt");
    auto refused = host::image_file::open(path);
    REQUIRE_FALSE(refused.ok());
    INFO(refused.error());
    CHECK_THAT(refused.error(), Catch::Contains(path));
    std::remove(path.c_str());
}

TEST_CASE("The run-time field offsets of a vVAR type match the ones its fingerprint assumed", "[loader]") {
    counter_shared object{};
    CHECK(host::detail::check_real_field_offsets(object, "counter_shared").empty());
    struct nested {
        std::uint8_t flag;
        counter_shared inner;
        std::array<std::uint16_t, 3> values;
    } outer{};
    CHECK(host::detail::check_real_field_offsets(outer, "nested").empty());
}

TEST_CASE("The type name helper spells the type as the source does", "[loader]") {
    CHECK(host::type_name<counter_shared>() == "counter_shared");
    CHECK_THAT(host::type_name<wrong_counter_shared>(), Catch::EndsWith("::wrong_counter_shared"));
}

TEST_CASE("An image file modified after it was validated is refused at mapping time", "[loader][refusal]") {
    const std::string path = write_temporary(read_file(image_path()), "modified");
    auto image = host::image_file::open(path);
    REQUIRE(image.ok());
    auto vvar = host::vvar_region::create<counter_shared>(*image);
    REQUIRE(vvar.ok());
    const timespec later[2] = {{0, UTIME_OMIT}, {1, 0}};  // a rewrite changes the modification time
    REQUIRE(::utimensat(AT_FDCWD, path.c_str(), later, 0) == 0);
    auto mapping = host::image_mapping::map(*image, *vvar);
    REQUIRE_FALSE(mapping.ok());
    CHECK_THAT(mapping.error(), Catch::Contains(path + ": the file was modified after it was validated"));
    std::remove(path.c_str());
}

TEST_CASE("An image passed as an inherited descriptor loads like one opened by path", "[loader]") {
    auto by_path = host::image_file::open(image_path());
    REQUIRE(by_path.ok());
    auto by_fd = host::image_file::from_fd(by_path->fd(), "inherited image");
    REQUIRE(by_fd.ok());
    CHECK(by_fd->fd() != by_path->fd());
    CHECK(by_fd->vvar_type().fingerprint == by_path->vvar_type().fingerprint);
    CHECK(by_fd->mut_cfg().size() == 1);
    CHECK(by_fd->mut_cfg()[0].name == "COUNTER_STEP");
    CHECK(by_fd->mut_cfg()[0].value == std::to_string(COUNTER_STEP));
}

TEST_CASE("Relative relocations in private data point into this mapping and its vVAR", "[loader]") {
    const char* sample = std::getenv("VDSOKIT_SAMPLE_VDSO");
    if (sample == nullptr) {
        WARN("VDSOKIT_SAMPLE_VDSO is not set (the ELF tests are not built): nothing to check");
        return;
    }
    auto image = host::image_file::open(sample);
    INFO(image.error());
    REQUIRE(image.ok());
    REQUIRE(image->plan().relocation_count() > 0);
    auto vvar = host::vvar_region::create_untyped(*image);  // the sample records no vVAR type
    REQUIRE(vvar.ok());
    auto first = host::image_mapping::map(*image, *vvar);
    auto second = host::image_mapping::map(*image, *vvar);
    REQUIRE(first.ok());
    REQUIRE(second.ok());

    std::uint64_t table_offset = 0, time_offset = 0;
    REQUIRE(find_symbol_offset(image->elf(), "sample_table", "", table_offset));
    REQUIRE(find_symbol_offset(image->elf(), "__vdso_sample_time", "", time_offset));
    for (const host::image_mapping* mapping : {&*first, &*second}) {
        const auto* base = static_cast<const std::byte*>(mapping->image_base());
        std::uintptr_t table[2];
        std::memcpy(table, base + table_offset, sizeof table);
        const auto vvar_words = reinterpret_cast<std::uintptr_t>(mapping->vvar_data());
        CHECK(table[0] == vvar_words + 2 * sizeof(unsigned long));  // &sample_vvar.pad[1]
        CHECK(table[1] == vvar_words + 3 * sizeof(unsigned long));
    }
    static_cast<unsigned long*>(vvar->data())[0] = 10;  // sample_vvar.ticks
    auto sample_time = [](const host::image_mapping& m, std::uint64_t offset) {
        return function_at<long (*)()>(m.image_base(), offset)();
    };
    CHECK(sample_time(*first, time_offset) == 13);  // ticks through a relocated pointer + private 3
    CHECK(sample_time(*second, time_offset) == 13);
}
