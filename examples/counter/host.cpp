// The counter demo: one vVAR, several real processes, each mapping the counter vDSO at its own base.
//
//   counter-demo [--children N] [--rounds R] [--image PATH]
//
// The host creates the vVAR (a memfd; it alone value-initialises `counter_shared`), maps the image
// and starts N children with fork + exec of this same binary in child mode. The vVAR descriptor is
// inherited across exec (its number is passed in argv); each child attaches without initialising,
// maps the image at a base of its own and calls the API through its own dispatch table.
// Process k (host = 0) adds k + 1 to the shared counter and to its private counter, R times.
// Once everyone has added, a pipe releases them all to read the shared total: it must be the same
// everywhere, equal to R * sum(k + 1) * COUNTER_STEP, while each private counter holds only its
// own adds. Exits non-zero if any number is wrong.
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <vdsokit/linux/loader.hpp>

#include "counter_api.hpp"
#include "shared.hpp"

namespace {

using namespace vdsokit;

struct options {
    int children = 3;
    std::uint64_t rounds = 1000;
    std::string image = COUNTER_IMAGE_PATH;
    int child_index = -1;  // >= 0: this process is child k
    int vvar_fd = -1, report_fd = -1, go_fd = -1;
};

[[noreturn]] void die(const std::string& message) {
    std::fprintf(stderr, "counter-demo: %s\n", message.c_str());
    std::exit(2);
}

template <class T>
T take(host::result<T> r) {
    if (!r) die(r.error());
    return std::move(*r);
}

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) die(arg + " needs a value");
            return argv[++i];
        };
        if (arg == "--children") o.children = std::stoi(next());
        else if (arg == "--rounds") o.rounds = std::stoull(next());
        else if (arg == "--image") o.image = next();
        else if (arg == "--child") o.child_index = std::stoi(next());
        else if (arg == "--vvar-fd") o.vvar_fd = std::stoi(next());
        else if (arg == "--report-fd") o.report_fd = std::stoi(next());
        else if (arg == "--go-fd") o.go_fd = std::stoi(next());
        else die("unknown argument " + arg + " (usage: counter-demo [--children N] [--rounds R] [--image PATH])");
    }
    if (o.children < 1 || o.children > 64) die("--children must be 1..64");
    return o;
}

// One process's part: map the image at a fresh base, bind, add. Returns the mapping and table.
struct participant {
    host::image_mapping mapping;
    counter_vdso::dispatch_table api;
};

participant join(const host::image_file& image, const host::vvar_region& vvar, int index, std::uint64_t rounds) {
    auto mapping = take(host::image_mapping::map(image, vvar));
    auto api = take(mapping.bind<counter_vdso::dispatch_table>(counter_vdso::facts));
    const auto amount = static_cast<std::uint64_t>(index) + 1;
    for (std::uint64_t round = 0; round < rounds; ++round) {
        api.counter_add_shared(amount);
        api.counter_add_private(amount);
    }
    return {std::move(mapping), api};
}

void write_line(int fd, const std::string& line) {
    // One write below PIPE_BUF: lines from different children never interleave.
    if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) die("report pipe write failed");
}

std::string report(const char* who, int index, const participant& p) {
    char line[200];
    std::snprintf(line, sizeof line, "R %d %s %d %#" PRIxPTR " %" PRIu64 " %" PRIu64 "\n", index, who, getpid(),
                  p.mapping.base_address(), p.api.counter_read_private(), p.api.counter_read_shared());
    return line;
}

int run_child(const options& o) {
    auto image = take(host::image_file::open(o.image));
    auto vvar = take(host::vvar_region::attach<counter_shared>(o.vvar_fd));  // attaches, never initialises
    participant me = join(image, vvar, o.child_index, o.rounds);
    write_line(o.report_fd, "A " + std::to_string(o.child_index) + "\n");
    char byte;
    while (::read(o.go_fd, &byte, 1) > 0) {}  // EOF once the host closes its end: everyone has added
    write_line(o.report_fd, report("child", o.child_index, me));
    return me.api.counter_read_private() == o.rounds * (static_cast<std::uint64_t>(o.child_index) + 1) ? 0 : 1;
}

// Reads "\n"-terminated lines until `want` lines starting with `kind` have arrived.
std::vector<std::string> collect(int fd, char kind, int want, std::string& pending) {
    std::vector<std::string> lines;
    while (static_cast<int>(lines.size()) < want) {
        const auto newline = pending.find('\n');
        if (newline != std::string::npos) {
            std::string line = pending.substr(0, newline);
            pending.erase(0, newline + 1);
            if (!line.empty() && line[0] == kind) lines.push_back(line);
            continue;
        }
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 30000) <= 0) die("children stopped reporting (a child failed; see above)");
        char buffer[512];
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n <= 0) die("children exited before reporting (a child failed; see above)");
        pending.append(buffer, static_cast<std::size_t>(n));
    }
    return lines;
}

int run_host(const options& o) {
    auto image = take(host::image_file::open(o.image));
    auto vvar = take(host::vvar_region::create<counter_shared>(image));  // value-initialises the vVAR
    std::printf("counter vDSO demo: %s\n", o.image.c_str());
    std::printf("  vVAR %s, %zu bytes in memfd %d, created and value-initialised by the host (pid %d)\n",
                image.vvar_type().describe().c_str(), vvar.size(), vvar.fd(), getpid());
    std::printf("  COUNTER_STEP = %u; process k adds k+1 to both counters %" PRIu64 " times\n\n", COUNTER_STEP,
                o.rounds);

    int report_pipe[2], go_pipe[2];
    if (::pipe2(report_pipe, O_CLOEXEC) != 0 || ::pipe2(go_pipe, O_CLOEXEC) != 0) die("pipe2 failed");
    // Only these reach the children; the rest of our descriptors stay close-on-exec.
    take(host::keep_across_exec(vvar.fd()));
    take(host::keep_across_exec(report_pipe[1]));
    take(host::keep_across_exec(go_pipe[0]));

    std::vector<pid_t> children;
    for (int k = 1; k <= o.children; ++k) {
        const pid_t pid = ::fork();
        if (pid < 0) die("fork failed");
        if (pid == 0) {
            const std::string args[] = {"counter-demo", "--child", std::to_string(k), "--vvar-fd",
                                        std::to_string(vvar.fd()), "--report-fd", std::to_string(report_pipe[1]),
                                        "--go-fd", std::to_string(go_pipe[0]), "--rounds", std::to_string(o.rounds),
                                        "--image", o.image};
            std::vector<char*> argv;
            for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
            argv.push_back(nullptr);
            ::execv("/proc/self/exe", argv.data());
            std::perror("counter-demo: exec /proc/self/exe");
            ::_exit(127);
        }
        children.push_back(pid);
    }
    ::close(report_pipe[1]);
    ::close(go_pipe[0]);

    participant me = join(image, vvar, 0, o.rounds);
    std::string pending;
    collect(report_pipe[0], 'A', o.children, pending);
    ::close(go_pipe[1]);  // everyone has added: release them to read the total
    auto reports = collect(report_pipe[0], 'R', o.children, pending);
    reports.insert(reports.begin(), report("host", 0, me).substr(0, report("host", 0, me).size() - 1));

    bool children_ok = true;
    for (pid_t pid : children) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        children_ok = children_ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }

    std::uint64_t adds = 0;
    for (int k = 0; k <= o.children; ++k) adds += o.rounds * (static_cast<std::uint64_t>(k) + 1);
    const std::uint64_t expected_total = adds * COUNTER_STEP;
    const std::uint64_t expected_calls = o.rounds * (static_cast<std::uint64_t>(o.children) + 1);

    std::printf("  %-8s %7s  %-16s %9s  %s\n", "process", "pid", "image base", "private", "shared total it sees");
    std::map<int, std::string> rows;
    bool private_ok = true, everyone_sees_total = true;
    std::map<std::uintptr_t, int> bases;
    for (const auto& line : reports) {
        int index = 0, pid = 0;
        char who[16] = {};
        std::uintptr_t base = 0;
        std::uint64_t priv = 0, seen = 0;
        if (std::sscanf(line.c_str(), "R %d %15s %d %" SCNxPTR " %" SCNu64 " %" SCNu64, &index, who, &pid, &base,
                        &priv, &seen) != 6)
            die("malformed report: " + line);
        private_ok = private_ok && priv == o.rounds * (static_cast<std::uint64_t>(index) + 1);
        everyone_sees_total = everyone_sees_total && seen == expected_total;
        ++bases[base];
        char row[200];
        std::snprintf(row, sizeof row, "  %-5s %-2s %7d  %#-16" PRIxPTR " %9" PRIu64 "  %" PRIu64 "\n", who,
                      index ? std::to_string(index).c_str() : "", pid, base, priv, seen);
        rows[index] = row;
    }
    for (const auto& [index, row] : rows) std::fputs(row.c_str(), stdout);

    const std::uint64_t total = me.api.counter_read_shared();
    const std::uint64_t calls = me.api.counter_calls();
    const bool total_ok = total == expected_total && calls == expected_calls && everyone_sees_total;
    const bool step_ok = me.api.counter_step() == COUNTER_STEP;
    std::printf("\n  shared total %" PRIu64 " = %" PRIu64 " added x COUNTER_STEP %u, calls %" PRIu64
                " = %d processes x %" PRIu64 "   %s\n",
                total, adds, COUNTER_STEP, calls, o.children + 1, o.rounds, total_ok ? "OK" : "WRONG");
    std::printf("  private counters: each process kept only its own adds         %s\n", private_ok ? "OK" : "WRONG");
    std::printf("  image bases: %zu distinct addresses for %zu processes (each chose its own)\n", bases.size(),
                reports.size());
    const bool ok = total_ok && private_ok && step_ok && children_ok;
    std::printf("%s\n", ok ? "demo passed" : "demo FAILED");
    return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const options o = parse(argc, argv);
    return o.child_index >= 0 ? run_child(o) : run_host(o);
}
