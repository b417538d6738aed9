// vdsokit-exec: runs an unmodified static program with vdsokit's vclock vDSO instead of the
// kernel's, doing in user space what a kernel's exec does.
//
//   vdsokit-exec [--realtime SECONDS[.FRACTION]] [--monotonic SECONDS[.FRACTION]] [--fallback]
//                [--tick-ms N] [--vdso PATH] [--] PROGRAM [ARGUMENT...]
//
// It checks PROGRAM (64-bit little-endian x86-64 ELF, ET_EXEC or static-PIE, no PT_INTERP), maps
// its PT_LOADs where they must go (fixed for ET_EXEC, at a free base for static-PIE), maps the
// embedded vclock image with a memfd-backed vVAR below it, writes the time page through
// <vdsokit/vclock.hpp>, builds the initial stack (argc, argv, envp, auxv with AT_SYSINFO_EHDR =
// the vclock image base) and jumps to the entry point with %rdx = 0, as the Linux ABI says.
//
//   --realtime S   CLOCK_REALTIME (and gettimeofday, time) reads S at start and ticks from there
//   --monotonic S  CLOCK_MONOTONIC likewise (BOOTTIME keeps the host's offset from MONOTONIC)
//   --fallback     every clock and getcpu in mode syscall: the vDSO makes the real system call
//   --tick-ms N    a thread advances the page every N ms, as a timer tick does (default 4; 0 = off,
//                  then the *_COARSE clocks stand still)
//   --vdso PATH    map this image file instead of the embedded one (e.g. your own build of
//                  examples/vclock); it is validated by vdsokit's loader and must carry the
//                  vclock::time_page vVAR layout note
//
// The clocks are lines in the TSC, whose rate is measured against CLOCK_MONOTONIC_RAW at start.
// The harness itself is a PIE, so it sits far from the 0x400000 an ET_EXEC program wants; the
// program's segments are mapped with MAP_FIXED_NOREPLACE, so any overlap is an error, not damage.
#include <elf.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/random.h>
#if __has_include(<sys/rseq.h>)
#include <sys/rseq.h>
#endif
#include <sys/syscall.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <vdsokit/linux/loader.hpp>
#include <vdsokit/vclock.hpp>

#include "map_vclock.hpp"
#include "vclock_image.hpp"

extern char** environ;

namespace {

namespace vclock = vdsokit::vclock;

const char* program_name = "vdsokit-exec";

[[noreturn]] void die(const std::string& message) {
    std::fprintf(stderr, "%s: %s\n", program_name, message.c_str());
    std::exit(127);
}

[[noreturn]] void refuse(const std::string& path, const std::string& reason) {
    die(path + ": cannot run: " + reason);
}

[[noreturn]] void usage() {
    std::fprintf(stderr,
                 "usage: %s [--realtime SECONDS[.FRACTION]] [--monotonic SECONDS[.FRACTION]] [--fallback]\n"
                 "       %*s [--tick-ms N] [--vdso PATH] [--] PROGRAM [ARGUMENT...]\n"
                 "Runs a static x86-64 program with vdsokit's vclock vDSO (AT_SYSINFO_EHDR).\n",
                 program_name, static_cast<int>(std::strlen(program_name)), "");
    std::exit(2);
}

struct options {
    bool fallback = false;
    bool has_realtime = false, has_monotonic = false;
    vclock::kernel_timespec realtime{}, monotonic{};
    unsigned tick_ms = 4;
    std::string vdso_path;
    int program_index = 0;
};

vclock::kernel_timespec parse_seconds(const char* option, const char* text) {
    vclock::kernel_timespec out{};
    const char* p = text;
    if (*p < '0' || *p > '9') die(std::string(option) + ": '" + text + "' is not SECONDS[.FRACTION]");
    for (; *p >= '0' && *p <= '9'; ++p) out.tv_sec = out.tv_sec * 10 + (*p - '0');
    if (*p == '.') {
        std::int64_t scale = 100'000'000;
        for (++p; *p >= '0' && *p <= '9'; ++p, scale /= 10) out.tv_nsec += (*p - '0') * scale;
    }
    if (*p != '\0') die(std::string(option) + ": '" + text + "' is not SECONDS[.FRACTION]");
    return out;
}

options parse_options(int argc, char** argv) {
    options o;
    int i = 1;
    for (; i < argc; ++i) {
        const std::string word = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) die(word + " needs a value");
            return argv[++i];
        };
        if (word == "--") {
            ++i;
            break;
        } else if (word == "--realtime") {
            o.realtime = parse_seconds("--realtime", value());
            o.has_realtime = true;
        } else if (word == "--monotonic") {
            o.monotonic = parse_seconds("--monotonic", value());
            o.has_monotonic = true;
        } else if (word == "--vdso") {
            o.vdso_path = value();
        } else if (word == "--fallback") {
            o.fallback = true;
        } else if (word == "--tick-ms") {
            const char* text = value();
            char* end = nullptr;
            const unsigned long milliseconds = std::strtoul(text, &end, 10);
            if (end == text || *end != '\0' || milliseconds > 60'000)
                die(std::string("--tick-ms: '") + text + "' is not a number of milliseconds (0 to 60000)");
            o.tick_ms = static_cast<unsigned>(milliseconds);
        } else if (word == "--help" || word == "-h") {
            usage();
        } else if (word.rfind("--", 0) == 0) {
            die("unknown option " + word);
        } else {
            break;
        }
    }
    if (i >= argc) usage();
    o.program_index = i;
    return o;
}

// ---- The program ---------------------------------------------------------------------------

struct program {
    std::string path;
    std::vector<unsigned char> bytes;
    Elf64_Ehdr header{};
    std::vector<Elf64_Phdr> segments;
};

const char* machine_name(unsigned machine) {
    switch (machine) {
        case EM_386: return "i386";
        case EM_ARM: return "arm";
        case EM_X86_64: return "x86-64";
        case EM_AARCH64: return "aarch64";
        case EM_RISCV: return "riscv";
        case EM_PPC64: return "ppc64";
        case EM_S390: return "s390";
        default: return "another architecture";
    }
}

program read_program(const char* path) {
    program p;
    p.path = path;
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) refuse(path, std::string("cannot open it: ") + std::strerror(errno));
    struct stat status {};
    if (fstat(fd, &status) != 0 || !S_ISREG(status.st_mode)) refuse(path, "not a regular file");
    p.bytes.resize(static_cast<std::size_t>(status.st_size));
    for (std::size_t done = 0; done < p.bytes.size();) {
        const ssize_t got = pread(fd, p.bytes.data() + done, p.bytes.size() - done, static_cast<off_t>(done));
        if (got <= 0) refuse(path, std::string("cannot read it: ") + (got < 0 ? std::strerror(errno) : "short file"));
        done += static_cast<std::size_t>(got);
    }
    close(fd);

    if (p.bytes.size() < EI_NIDENT || std::memcmp(p.bytes.data(), ELFMAG, SELFMAG) != 0)
        refuse(path, "not an ELF file (no \\x7fELF magic)");
    if (p.bytes[EI_CLASS] != ELFCLASS64) refuse(path, "a 32-bit ELF file; this harness runs 64-bit x86-64 programs");
    if (p.bytes[EI_DATA] != ELFDATA2LSB) refuse(path, "a big-endian ELF file; this harness runs x86-64 programs");
    if (p.bytes.size() < sizeof(Elf64_Ehdr)) refuse(path, "truncated ELF header");
    std::memcpy(&p.header, p.bytes.data(), sizeof p.header);
    const Elf64_Ehdr& h = p.header;
    if (h.e_machine != EM_X86_64)
        refuse(path, std::string("wrong architecture: built for ") + machine_name(h.e_machine) + " (e_machine " +
                         std::to_string(h.e_machine) + "), this harness runs x86-64 (e_machine " +
                         std::to_string(EM_X86_64) + ") programs");
    if (h.e_type != ET_EXEC && h.e_type != ET_DYN)
        refuse(path, "not an executable (e_type " + std::to_string(h.e_type) + ", expected ET_EXEC or ET_DYN)");
    if (h.e_phentsize != sizeof(Elf64_Phdr) || h.e_phnum == 0 ||
        h.e_phoff + std::uint64_t{h.e_phnum} * sizeof(Elf64_Phdr) > p.bytes.size())
        refuse(path, "program headers missing or outside the file");
    p.segments.resize(h.e_phnum);
    std::memcpy(p.segments.data(), p.bytes.data() + h.e_phoff, h.e_phnum * sizeof(Elf64_Phdr));

    bool has_load = false;
    for (const Elf64_Phdr& s : p.segments) {
        if (s.p_type == PT_INTERP) {
            std::string interpreter = "an interpreter";
            if (s.p_offset < p.bytes.size() && s.p_filesz > 1 && s.p_offset + s.p_filesz <= p.bytes.size())
                interpreter = std::string(reinterpret_cast<const char*>(p.bytes.data() + s.p_offset), s.p_filesz - 1);
            refuse(path, "dynamically linked (PT_INTERP asks for " + interpreter +
                             "); vdsokit-exec runs static programs only (link with -static or -static-pie)");
        }
        if (s.p_type == PT_LOAD) {
            has_load = true;
            if (s.p_filesz > s.p_memsz || s.p_offset + s.p_filesz > p.bytes.size())
                refuse(path, "a PT_LOAD's file bytes lie outside the file");
        }
    }
    if (!has_load) refuse(path, "no PT_LOAD segment");
    if (h.e_type == ET_DYN && h.e_entry == 0) refuse(path, "a shared library, not a program (no entry point)");
    return p;
}

struct loaded_program {
    std::uint64_t bias = 0;
    std::uint64_t entry = 0;
    std::uint64_t program_headers = 0;
};

constexpr std::uint64_t page_bytes = 4096;
std::uint64_t page_down(std::uint64_t v) { return v & ~(page_bytes - 1); }
std::uint64_t page_up(std::uint64_t v) { return (v + page_bytes - 1) & ~(page_bytes - 1); }

int protection_of(std::uint32_t flags) {
    return ((flags & PF_R) ? PROT_READ : 0) | ((flags & PF_W) ? PROT_WRITE : 0) | ((flags & PF_X) ? PROT_EXEC : 0);
}

loaded_program load_program(const program& p) {
    std::uint64_t low = UINT64_MAX, high = 0;
    for (const Elf64_Phdr& s : p.segments) {
        if (s.p_type != PT_LOAD) continue;
        low = std::min(low, page_down(s.p_vaddr));
        high = std::max(high, page_up(s.p_vaddr + s.p_memsz));
    }
    loaded_program out;
    const std::uint64_t span = high - low;
    void* at;
    if (p.header.e_type == ET_EXEC) {
        at = mmap(reinterpret_cast<void*>(low), span, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (at == MAP_FAILED || at != reinterpret_cast<void*>(low)) {
            char range[64];
            std::snprintf(range, sizeof range, "[%#llx, %#llx)", static_cast<unsigned long long>(low),
                          static_cast<unsigned long long>(high));
            refuse(p.path, std::string("cannot map its segments at ") + range + ": " +
                               (at == MAP_FAILED ? std::strerror(errno) : "the kernel ignored the address") +
                               " (they overlap this harness's own mappings)");
        }
    } else {
        at = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (at == MAP_FAILED) refuse(p.path, std::string("cannot reserve its address range: ") + std::strerror(errno));
        out.bias = reinterpret_cast<std::uint64_t>(at) - low;
    }
    for (const Elf64_Phdr& s : p.segments)
        if (s.p_type == PT_LOAD)
            std::memcpy(reinterpret_cast<void*>(s.p_vaddr + out.bias), p.bytes.data() + s.p_offset, s.p_filesz);
    // Protect page by page range; a page two segments share gets both their permissions.
    std::uint64_t previous_end = 0;
    std::uint32_t previous_flags = 0;
    for (const Elf64_Phdr& s : p.segments) {
        if (s.p_type != PT_LOAD) continue;
        std::uint64_t start = page_down(s.p_vaddr);
        const std::uint64_t end = page_up(s.p_vaddr + s.p_memsz);
        if (start < previous_end) {
            mprotect(reinterpret_cast<void*>(start + out.bias), page_bytes, protection_of(s.p_flags | previous_flags));
            start += page_bytes;
        }
        if (end > start && mprotect(reinterpret_cast<void*>(start + out.bias), end - start, protection_of(s.p_flags)) != 0)
            refuse(p.path, std::string("cannot protect a segment: ") + std::strerror(errno));
        previous_end = end;
        previous_flags = s.p_flags;
    }
    out.entry = p.header.e_entry + out.bias;
    for (const Elf64_Phdr& s : p.segments)
        if (s.p_type == PT_PHDR) out.program_headers = s.p_vaddr + out.bias;
    if (out.program_headers == 0)
        for (const Elf64_Phdr& s : p.segments)
            if (s.p_type == PT_LOAD && p.header.e_phoff >= s.p_offset && p.header.e_phoff < s.p_offset + s.p_filesz)
                out.program_headers = s.p_vaddr + (p.header.e_phoff - s.p_offset) + out.bias;
    if (out.program_headers == 0) refuse(p.path, "its program headers are not in any PT_LOAD (AT_PHDR would be wrong)");
    return out;
}

// ---- The time page -------------------------------------------------------------------------

// The TSC rate, measured against CLOCK_MONOTONIC_RAW (the host kernel's own TSC-derived clock).
vclock::counter_scale measure_counter_scale() {
    timespec start{}, end{};
    clock_gettime(CLOCK_MONOTONIC_RAW, &start);
    const std::uint64_t cycles_start = vclock::read_cycles();
    const timespec pause{0, 20'000'000};
    nanosleep(&pause, nullptr);
    clock_gettime(CLOCK_MONOTONIC_RAW, &end);
    const std::uint64_t cycles_end = vclock::read_cycles();
    const std::uint64_t nanoseconds = static_cast<std::uint64_t>(end.tv_sec - start.tv_sec) * 1'000'000'000ull +
                                      static_cast<std::uint64_t>(end.tv_nsec) - static_cast<std::uint64_t>(start.tv_nsec);
    const auto hertz = static_cast<std::uint64_t>(static_cast<unsigned __int128>(cycles_end - cycles_start) *
                                                  1'000'000'000ull / (nanoseconds ? nanoseconds : 1));
    if (hertz == 0) die("the TSC does not advance; run with --fallback");
    return vclock::scale_for_frequency(hertz);
}

// Whether LSL on Linux's per-CPU segment (GDT_ENTRY_PER_CPU * 8 + 3) gives the CPU, as the
// kernel's own vDSO relies on when RDPID is missing.
constexpr std::uint32_t linux_per_cpu_segment = 15 * 8 + 3;
bool segment_limit_gives_cpu() {
    std::uint64_t encoded = ~0ull;
    std::uint64_t selector = linux_per_cpu_segment;
    asm volatile("lsl %1, %0" : "+r"(encoded) : "r"(selector));
    unsigned cpu = 0;
    return getcpu(&cpu, nullptr) == 0 && (encoded & 0xfff) == cpu;
}

void write_time_page(vclock::time_page& page, const options& o) {
    if (o.fallback) {
        vclock::set_all_modes(page, vclock::clock_mode::syscall);
        vclock::set_cpu_mode(page, vclock::cpu_mode::syscall);
        return;
    }
    const vclock::counter_scale scale = measure_counter_scale();
    timespec realtime{}, monotonic{}, raw{}, boottime{};
    const std::uint64_t cycles = vclock::read_cycles();
    clock_gettime(CLOCK_REALTIME, &realtime);
    clock_gettime(CLOCK_MONOTONIC, &monotonic);
    clock_gettime(CLOCK_MONOTONIC_RAW, &raw);
    clock_gettime(CLOCK_BOOTTIME, &boottime);
    auto as_ns = [](std::int64_t s, std::int64_t ns) { return s * 1'000'000'000ll + ns; };
    const std::int64_t suspended = as_ns(boottime.tv_sec, boottime.tv_nsec) - as_ns(monotonic.tv_sec, monotonic.tv_nsec);
    const vclock::kernel_timespec real = o.has_realtime ? o.realtime : vclock::kernel_timespec{realtime.tv_sec, realtime.tv_nsec};
    const vclock::kernel_timespec mono = o.has_monotonic ? o.monotonic : vclock::kernel_timespec{monotonic.tv_sec, monotonic.tv_nsec};
    const std::int64_t boot_ns = as_ns(mono.tv_sec, mono.tv_nsec) + suspended;

    auto set = [&](std::uint32_t clock, std::int64_t seconds, std::int64_t nanoseconds, vclock::clock_mode mode) {
        vclock::set_clock(page, clock, static_cast<std::uint64_t>(seconds), static_cast<std::uint64_t>(nanoseconds),
                          cycles, scale.mult, scale.shift, mode);
    };
    using vclock::clock_mode;
    set(vclock::clock_realtime, real.tv_sec, real.tv_nsec, clock_mode::counter);
    set(vclock::clock_realtime_coarse, real.tv_sec, real.tv_nsec, clock_mode::coarse);
    set(vclock::clock_monotonic, mono.tv_sec, mono.tv_nsec, clock_mode::counter);
    set(vclock::clock_monotonic_coarse, mono.tv_sec, mono.tv_nsec, clock_mode::coarse);
    set(vclock::clock_monotonic_raw, raw.tv_sec, raw.tv_nsec, clock_mode::counter);
    set(vclock::clock_boottime, boot_ns / 1'000'000'000ll, boot_ns % 1'000'000'000ll, clock_mode::counter);
    if (segment_limit_gives_cpu())
        vclock::set_cpu_mode(page, vclock::cpu_mode::segment_limit, linux_per_cpu_segment);
    else
        vclock::set_cpu_mode(page, vclock::cpu_mode::syscall);
}

// The timer tick. It runs in this process beside the program, which never sees it; exit_group
// from the program ends it.
// The thread blocks every signal: a process-directed signal must reach the program's thread, whose
// handlers expect the program's libc and TLS, never this one.
void start_ticker(vclock::time_page* page, unsigned tick_ms) {
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    std::thread([page, tick_ms] {
        const timespec period{static_cast<time_t>(tick_ms / 1000), static_cast<long>(tick_ms % 1000) * 1'000'000};
        for (;;) {
            nanosleep(&period, nullptr);
            vclock::advance(*page, vclock::read_cycles());
        }
    }).detach();
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

// ---- The initial stack ---------------------------------------------------------------------

struct stack_builder {
    unsigned char* bottom;
    unsigned char* top;  // strings grow down from here

    std::uint64_t push_bytes(const void* data, std::size_t size) {
        top -= size;
        std::memcpy(top, data, size);
        return reinterpret_cast<std::uint64_t>(top);
    }
    std::uint64_t push_string(const char* text) { return push_bytes(text, std::strlen(text) + 1); }
};

[[noreturn]] void jump_to(std::uint64_t stack_pointer, std::uint64_t entry) {
    // %rdx = 0: no rtld_fini for the program to register with atexit.
    asm volatile(
        "mov %0, %%rsp\n\t"
        "xor %%ebp, %%ebp\n\t"
        "xor %%edx, %%edx\n\t"
        "jmp *%1\n\t" ::"S"(stack_pointer),
        "a"(entry)
        : "memory");
    __builtin_unreachable();
}

// glibc registers rseq for this thread; the program's libc may want to register its own.
void unregister_rseq() {
#if defined(RSEQ_SIG)
    if (__rseq_size != 0) {
        auto* area = static_cast<char*>(__builtin_thread_pointer()) + __rseq_offset;
        syscall(SYS_rseq, area, 32, RSEQ_FLAG_UNREGISTER, RSEQ_SIG);
    }
#endif
}

}  // namespace

int main(int argc, char** argv) {
    const options o = parse_options(argc, argv);
    const program target = read_program(argv[o.program_index]);

    // The vDSO: the embedded image, or --vdso PATH through vdsokit's loader (which checks the file
    // and that its vVAR is a vclock::time_page). Nothing here is ever unmapped: we never return.
    const unsigned char* image_base = nullptr;
    vclock::time_page* page = nullptr;
    if (o.vdso_path.empty()) {
        vdsokit::exec::mapped_image vdso;
        if (const std::string error = vdsokit::exec::map_embedded_image(vclock_vdso::embedded::image, vdso); !error.empty())
            die("mapping the vclock vDSO: " + error);
        image_base = vdso.image_base;
        page = new (vdso.kernel_vvar) vclock::time_page{};
    } else {
        namespace host = vdsokit::host;
        auto image = host::image_file::open(o.vdso_path);
        if (!image) die("--vdso: " + image.error());
        auto vvar = host::vvar_region::create<vclock::time_page>(*image);
        if (!vvar) die("--vdso: " + vvar.error());
        auto mapping = host::image_mapping::map(*image, *vvar);
        if (!mapping) die("--vdso: " + mapping.error());
        auto* kept = new host::image_mapping(std::move(*mapping));
        new host::vvar_region(std::move(*vvar));
        new host::image_file(std::move(*image));
        image_base = static_cast<const unsigned char*>(kept->image_base());
        page = kept->vvar<vclock::time_page>();
    }
    write_time_page(*page, o);

    const loaded_program loaded = load_program(target);

    // The initial stack: strings and AT_RANDOM's bytes at the top, then (16-byte aligned at argc)
    // argc, argv[], NULL, envp[], NULL, auxv pairs, AT_NULL.
    constexpr std::size_t stack_size = 8 << 20;
    void* stack = mmap(nullptr, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) die(std::string("cannot map the program's stack: ") + std::strerror(errno));
    stack_builder sb{static_cast<unsigned char*>(stack), static_cast<unsigned char*>(stack) + stack_size};

    const std::uint64_t execfn = sb.push_string(target.path.c_str());
    std::vector<std::uint64_t> arguments, environment;
    for (int i = o.program_index; i < argc; ++i) arguments.push_back(sb.push_string(argv[i]));
    for (char** e = environ; *e != nullptr; ++e) environment.push_back(sb.push_string(*e));
    const std::uint64_t platform = sb.push_string("x86_64");
    unsigned char random_bytes[16];
    if (getrandom(random_bytes, sizeof random_bytes, 0) != sizeof random_bytes)
        die(std::string("getrandom: ") + std::strerror(errno));
    const std::uint64_t random = sb.push_bytes(random_bytes, sizeof random_bytes);

    std::vector<std::uint64_t> words;
    words.push_back(arguments.size());
    words.insert(words.end(), arguments.begin(), arguments.end());
    words.push_back(0);
    words.insert(words.end(), environment.begin(), environment.end());
    words.push_back(0);
    auto aux = [&](std::uint64_t type, std::uint64_t value) {
        words.push_back(type);
        words.push_back(value);
    };
    aux(AT_SYSINFO_EHDR, reinterpret_cast<std::uint64_t>(image_base));
    aux(AT_MINSIGSTKSZ, getauxval(AT_MINSIGSTKSZ));
    aux(AT_HWCAP, getauxval(AT_HWCAP));
    aux(AT_PAGESZ, page_bytes);
    aux(AT_CLKTCK, static_cast<std::uint64_t>(sysconf(_SC_CLK_TCK)));
    aux(AT_PHDR, loaded.program_headers);
    aux(AT_PHENT, sizeof(Elf64_Phdr));
    aux(AT_PHNUM, target.header.e_phnum);
    aux(AT_BASE, 0);
    aux(AT_FLAGS, 0);
    aux(AT_ENTRY, loaded.entry);
    aux(AT_UID, getuid());
    aux(AT_EUID, geteuid());
    aux(AT_GID, getgid());
    aux(AT_EGID, getegid());
    aux(AT_SECURE, 0);
    aux(AT_RANDOM, random);
    aux(AT_HWCAP2, getauxval(AT_HWCAP2));
    aux(AT_EXECFN, execfn);
    aux(AT_PLATFORM, platform);
    aux(AT_NULL, 0);

    auto stack_pointer = (reinterpret_cast<std::uint64_t>(sb.top) - words.size() * sizeof(std::uint64_t)) & ~std::uint64_t{15};
    std::memcpy(reinterpret_cast<void*>(stack_pointer), words.data(), words.size() * sizeof(std::uint64_t));

    if (!o.fallback && o.tick_ms != 0) start_ticker(page, o.tick_ms);
    std::fflush(nullptr);
    unregister_rseq();
    jump_to(stack_pointer, loaded.entry);
}
