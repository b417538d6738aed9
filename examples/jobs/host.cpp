// The jobs demo: one job queue in vVAR, several real processes, each mapping the jobs vDSO at its
// own base.
//
//   jobs-demo [--workers N] [--jobs J] [--kill-one-worker yes] [--image PATH]
//
// The host creates the vVAR (a memfd; it alone value-initialises `jobs_shared`) and starts N
// workers with fork + exec of this same binary in worker mode, passing the vVAR descriptor. Each
// worker maps the image at a base of its own, binds its own dispatch table and takes jobs until
// the queue is closed and drained, sleeping while it is empty. The host submits jobs 1..J through
// its own mapping, one at a time and in all-or-nothing batches of 8, waiting while the queue
// (JOBS_CAPACITY places) is full, then closes it. Workers mark each job they take in a ledger
// (the demo's bookkeeping, another memfd): every job must be marked exactly once. With
// --kill-one-worker, worker 1 is SIGKILLed half-way, once it has taken jobs: the others must
// finish, no job may be taken twice, and at most one (the one it was taking) may be lost.
// Exits non-zero if anything is wrong.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

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
    bool kill_one_worker = false;
    int worker_index = -1;  // >= 0: this process is worker k
    int vvar_fd = -1, report_fd = -1, ledger_fd = -1;
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
        if (i + 1 >= argc)
            die(arg + " needs a value (usage: jobs-demo [--workers N] [--jobs J] [--kill-one-worker yes] [--image PATH])");
        const std::string value = argv[++i];
        if (arg == "--workers") o.workers = std::stoi(value);
        else if (arg == "--jobs") o.jobs = std::stoull(value);
        else if (arg == "--kill-one-worker") o.kill_one_worker = value == "yes";
        else if (arg == "--image") o.image = value;
        else if (arg == "--worker") o.worker_index = std::stoi(value);
        else if (arg == "--vvar-fd") o.vvar_fd = std::stoi(value);
        else if (arg == "--report-fd") o.report_fd = std::stoi(value);
        else if (arg == "--ledger-fd") o.ledger_fd = std::stoi(value);
        else die("unknown argument " + arg);
    }
    if (o.workers < 1 || o.workers > 64) die("--workers must be 1..64");
    if (o.kill_one_worker && o.workers < 2) die("--kill-one-worker needs at least 2 workers");
    return o;
}

// The demo's bookkeeping, in a memfd of its own that the host and the workers map: how many times
// each job was taken, and how many jobs each worker took.
struct ledger {
    static constexpr int max_workers = 64;
    std::uint64_t* taken_by;  // [max_workers + 1]
    std::uint8_t* marks;      // [jobs + 1]

    static std::size_t size(std::uint64_t jobs) { return (max_workers + 1) * sizeof(std::uint64_t) + jobs + 1; }
    static ledger map(int fd, std::uint64_t jobs) {
        void* view = ::mmap(nullptr, size(jobs), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (view == MAP_FAILED) die("mapping the ledger failed");
        auto* words = static_cast<std::uint64_t*>(view);
        return {words, reinterpret_cast<std::uint8_t*>(words + max_workers + 1)};
    }
    void record(int worker, std::uint64_t job) const {
        std::atomic_ref(marks[job]).fetch_add(1, std::memory_order_relaxed);
        std::atomic_ref(taken_by[worker]).fetch_add(1, std::memory_order_relaxed);
    }
    std::uint64_t taken(int worker) const { return std::atomic_ref(taken_by[worker]).load(std::memory_order_relaxed); }
};

// Where a worker mapped the image; written to the report pipe in one write (below PIPE_BUF).
struct worker_report {
    int index;
    pid_t pid;
    std::uintptr_t base;
};

int run_worker(const options& o) {
    auto image = take(host::image_file::open(o.image));
    auto vvar = take(host::vvar_region::attach<jobs_shared>(o.vvar_fd));  // attaches, never initialises
    auto mapping = take(host::image_mapping::map(image, vvar));
    auto jobs = take(mapping.bind<jobs_vdso::dispatch_table>(jobs_vdso::facts));
    const ledger book = ledger::map(o.ledger_fd, o.jobs);
    std::uint64_t job = 0;
    while (jobs.jobs_take(&job) == 1) book.record(o.worker_index, job);
    const worker_report report{o.worker_index, ::getpid(), mapping.base_address()};
    return ::write(o.report_fd, &report, sizeof report) == static_cast<ssize_t>(sizeof report) ? 0 : 1;
}

pid_t start_worker(const options& o, int index, int vvar_fd, int report_fd, int ledger_fd) {
    const pid_t pid = ::fork();
    if (pid < 0) die("fork failed");
    if (pid != 0) return pid;
    const std::string args[] = {"jobs-demo", "--worker", std::to_string(index), "--vvar-fd", std::to_string(vvar_fd),
                                "--report-fd", std::to_string(report_fd), "--ledger-fd", std::to_string(ledger_fd),
                                "--jobs", std::to_string(o.jobs), "--image", o.image};
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv("/proc/self/exe", argv.data());
    std::perror("jobs-demo: exec /proc/self/exe");
    ::_exit(127);
}

// Submits first..last, alternating single jobs and batches of 8; returns how often the queue was full.
std::uint64_t submit(const jobs_vdso::dispatch_table& jobs, std::uint64_t first, std::uint64_t last) {
    std::uint64_t next = first, full = 0;
    while (next <= last) {
        std::uint64_t batch[8];
        std::size_t size = 0;
        while (size < (next % 2 ? 1 : 8) && next + size <= last) batch[size] = next + size, ++size;
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

    const int ledger_fd = ::memfd_create("jobs-demo-ledger", MFD_CLOEXEC);
    if (ledger_fd < 0 || ::ftruncate(ledger_fd, static_cast<off_t>(ledger::size(o.jobs))) != 0) die("creating the ledger failed");
    const ledger book = ledger::map(ledger_fd, o.jobs);
    int report_pipe[2];
    if (::pipe2(report_pipe, O_CLOEXEC) != 0) die("pipe2 failed");
    take(host::keep_across_exec(vvar.fd()));  // only these three reach the workers
    take(host::keep_across_exec(report_pipe[1]));
    take(host::keep_across_exec(ledger_fd));
    std::vector<pid_t> workers;
    for (int k = 1; k <= o.workers; ++k) workers.push_back(start_worker(o, k, vvar.fd(), report_pipe[1], ledger_fd));
    ::close(report_pipe[1]);

    auto mapping = take(host::image_mapping::map(image, vvar));
    auto jobs = take(mapping.bind<jobs_vdso::dispatch_table>(jobs_vdso::facts));
    std::uint64_t full = submit(jobs, 1, o.jobs / 2);
    if (o.kill_one_worker) {  // once worker 1 is taking jobs (or after 10 s), whatever it is doing
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (book.taken(1) == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
        ::kill(workers[0], SIGKILL);
    }
    full += submit(jobs, o.jobs / 2 + 1, o.jobs);
    jobs.jobs_close();
    std::printf("  host submitted jobs 1..%" PRIu64 " at base %#" PRIxPTR " (found the queue full %" PRIu64
                " times), then closed it\n\n", o.jobs, mapping.base_address(), full);

    bool workers_ok = true;
    for (std::size_t k = 0; k < workers.size(); ++k) {
        int status = 0;
        ::waitpid(workers[k], &status, 0);
        const bool killed = o.kill_one_worker && k == 0;
        workers_ok = workers_ok && (killed ? WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL
                                           : WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    std::printf("  %-8s %7s  %-16s %9s\n", "worker", "pid", "image base", "jobs taken");
    if (o.kill_one_worker) std::printf("  %-8d %7d  %-16s %9" PRIu64 "  killed (SIGKILL)\n", 1, workers[0], "", book.taken(1));
    std::set<std::uintptr_t> bases{mapping.base_address()};
    for (int k = o.kill_one_worker ? 1 : 0; k < o.workers; ++k) {
        worker_report report{};
        if (::read(report_pipe[0], &report, sizeof report) != static_cast<ssize_t>(sizeof report))
            die("a worker exited without reporting (see above)");
        std::printf("  %-8d %7d  %#-16" PRIxPTR " %9" PRIu64 "\n", report.index, report.pid, report.base,
                    book.taken(report.index));
        bases.insert(report.base);
    }

    std::uint64_t lost = 0, twice = 0;
    for (std::uint64_t job = 1; job <= o.jobs; ++job) {
        const std::uint8_t marks = std::atomic_ref(book.marks[job]).load(std::memory_order_relaxed);
        lost += marks == 0, twice += marks > 1;
    }
    const std::uint64_t lost_bound = o.kill_one_worker ? 1 : 0;
    const bool once = twice == 0 && lost <= lost_bound;
    const bool drained = jobs.jobs_queued() == 0 && jobs.jobs_capacity() == JOBS_CAPACITY;
    std::printf("\n  jobs taken twice %" PRIu64 ", lost %" PRIu64 "%s   %s\n", twice, lost,
                o.kill_one_worker ? " (at most 1: the one the killed worker was taking)" : "", once ? "OK" : "WRONG");
    std::printf("  image bases: %zu distinct addresses for the %d processes that reported (each chose its own)\n",
                bases.size(), o.workers + 1 - (o.kill_one_worker ? 1 : 0));
    const bool ok = once && drained && workers_ok;
    std::printf("%s\n", ok ? "demo passed" : "demo FAILED");
    return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const options o = parse(argc, argv);
    return o.worker_index >= 0 ? run_worker(o) : run_host(o);
}
