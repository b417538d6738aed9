// The jobs demo: one job queue in vVAR, several real processes, each mapping the jobs vDSO at its
// own base.
//
//   jobs-demo [--workers N] [--jobs J] [--image PATH]
//
// The host creates the vVAR (a memfd; it alone value-initialises `jobs_shared`) and starts N
// workers with fork + exec of this same binary in worker mode, passing the vVAR descriptor. Each
// worker maps the image at a base of its own, binds its own dispatch table and takes jobs until
// the queue is closed and drained, sleeping while it is empty. The host submits jobs 1..J through
// its own mapping, one at a time and in all-or-nothing batches of 8, waiting while the queue
// (JOBS_CAPACITY places) is full, then closes it. Every job must be taken once: the workers'
// counts, sums and sums of squares must add up. Exits non-zero if anything is wrong.
#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include <vdsokit/linux/loader.hpp>

#include "jobs_api.hpp"
#include "shared.hpp"

namespace {

using namespace vdsokit;

struct options {
    int workers = 3;
    std::uint64_t jobs = 200000;
    std::string image = JOBS_IMAGE_PATH;
    int worker_index = -1;  // >= 0: this process is worker k
    int vvar_fd = -1, report_fd = -1;
};

[[noreturn]] void die(const std::string& message) {
    std::fprintf(stderr, "jobs-demo: %s\n", message.c_str());
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
        if (i + 1 >= argc) die(arg + " needs a value (usage: jobs-demo [--workers N] [--jobs J] [--image PATH])");
        const std::string value = argv[++i];
        if (arg == "--workers") o.workers = std::stoi(value);
        else if (arg == "--jobs") o.jobs = std::stoull(value);
        else if (arg == "--image") o.image = value;
        else if (arg == "--worker") o.worker_index = std::stoi(value);
        else if (arg == "--vvar-fd") o.vvar_fd = std::stoi(value);
        else if (arg == "--report-fd") o.report_fd = std::stoi(value);
        else die("unknown argument " + arg);
    }
    if (o.workers < 1 || o.workers > 64) die("--workers must be 1..64");
    return o;
}

// What a worker took; written to the report pipe in one write (below PIPE_BUF, so never split).
struct worker_report {
    int index;
    pid_t pid;
    std::uintptr_t base;
    std::uint64_t taken, sum, sum_of_squares;
};

int run_worker(const options& o) {
    auto image = take(host::image_file::open(o.image));
    auto vvar = take(host::vvar_region::attach<jobs_shared>(o.vvar_fd));  // attaches, never initialises
    auto mapping = take(host::image_mapping::map(image, vvar));
    auto jobs = take(mapping.bind<jobs_vdso::dispatch_table>(jobs_vdso::facts));
    worker_report report{o.worker_index, ::getpid(), mapping.base_address(), 0, 0, 0};
    std::uint64_t job = 0;
    while (jobs.jobs_take(&job) == 1) {
        ++report.taken;
        report.sum += job;
        report.sum_of_squares += job * job;
    }
    return ::write(o.report_fd, &report, sizeof report) == static_cast<ssize_t>(sizeof report) ? 0 : 1;
}

pid_t start_worker(const options& o, int index, int vvar_fd, int report_fd) {
    const pid_t pid = ::fork();
    if (pid < 0) die("fork failed");
    if (pid != 0) return pid;
    const std::string args[] = {"jobs-demo", "--worker", std::to_string(index), "--vvar-fd", std::to_string(vvar_fd),
                                "--report-fd", std::to_string(report_fd), "--image", o.image};
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv("/proc/self/exe", argv.data());
    std::perror("jobs-demo: exec /proc/self/exe");
    ::_exit(127);
}

// Submits 1..count, alternating single jobs and batches of 8; returns how often the queue was full.
std::uint64_t submit_all(const jobs_vdso::dispatch_table& jobs, std::uint64_t count) {
    std::uint64_t next = 1, full = 0;
    while (next <= count) {
        std::uint64_t batch[8];
        std::size_t size = 0;
        while (size < (next % 2 ? 1 : 8) && next + size <= count) batch[size] = next + size, ++size;
        const bool queued = size == 1 ? jobs.jobs_submit(batch[0]) : jobs.jobs_submit_all(batch, size);
        if (queued) {
            next += size;
        } else {
            ++full;
            ::sched_yield();  // the workers make room
        }
    }
    return full;
}

int run_host(const options& o) {
    auto image = take(host::image_file::open(o.image));
    auto vvar = take(host::vvar_region::create<jobs_shared>(image));  // value-initialises the vVAR
    std::printf("jobs vDSO demo: %s\n", o.image.c_str());
    std::printf("  vVAR %zu bytes in memfd %d: a queue of %u jobs, created by the host (pid %d)\n", vvar.size(),
                vvar.fd(), JOBS_CAPACITY, ::getpid());

    int report_pipe[2];
    if (::pipe2(report_pipe, O_CLOEXEC) != 0) die("pipe2 failed");
    take(host::keep_across_exec(vvar.fd()));  // only these two reach the workers
    take(host::keep_across_exec(report_pipe[1]));
    std::vector<pid_t> workers;
    for (int k = 1; k <= o.workers; ++k) workers.push_back(start_worker(o, k, vvar.fd(), report_pipe[1]));
    ::close(report_pipe[1]);

    auto mapping = take(host::image_mapping::map(image, vvar));
    auto jobs = take(mapping.bind<jobs_vdso::dispatch_table>(jobs_vdso::facts));
    const std::uint64_t full = submit_all(jobs, o.jobs);
    jobs.jobs_close();
    std::printf("  host submitted jobs 1..%" PRIu64 " at base %#" PRIxPTR " (found the queue full %" PRIu64
                " times), then closed it\n\n", o.jobs, mapping.base_address(), full);

    std::printf("  %-8s %7s  %-16s %9s\n", "worker", "pid", "image base", "jobs taken");
    std::uint64_t taken = 0, sum = 0, sum_of_squares = 0;
    std::set<std::uintptr_t> bases{mapping.base_address()};
    for (int k = 0; k < o.workers; ++k) {
        worker_report report{};
        if (::read(report_pipe[0], &report, sizeof report) != static_cast<ssize_t>(sizeof report))
            die("a worker exited without reporting (see above)");
        std::printf("  %-8d %7d  %#-16" PRIxPTR " %9" PRIu64 "\n", report.index, report.pid, report.base, report.taken);
        taken += report.taken, sum += report.sum, sum_of_squares += report.sum_of_squares;
        bases.insert(report.base);
    }
    bool workers_ok = true;
    for (pid_t pid : workers) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        workers_ok = workers_ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }

    std::uint64_t want_sum = 0, want_squares = 0;
    for (std::uint64_t job = 1; job <= o.jobs; ++job) want_sum += job, want_squares += job * job;
    const bool once = taken == o.jobs && sum == want_sum && sum_of_squares == want_squares;
    const bool drained = jobs.jobs_queued() == 0 && jobs.jobs_capacity() == JOBS_CAPACITY;
    std::printf("\n  taken %" PRIu64 " of %" PRIu64 " jobs, sums match: every job taken once       %s\n", taken,
                o.jobs, once ? "OK" : "WRONG");
    std::printf("  image bases: %zu distinct addresses for %d processes (each chose its own)\n", bases.size(),
                o.workers + 1);
    const bool ok = once && drained && workers_ok;
    std::printf("%s\n", ok ? "demo passed" : "demo FAILED");
    return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const options o = parse(argc, argv);
    return o.worker_index >= 0 ? run_worker(o) : run_host(o);
}
