// What loading and calling a vdsokit image costs, next to what glibc's dynamic loader costs for
// the same .so, measured in one run and printed as a markdown table (scripts/bench-loader.sh).
//
//   loader_bench IMAGE.so [samples]
//
// (a) load + bind: vdsokit's image_file::open + vvar_region::create + image_mapping::map + bind
//     (+ unmap), versus dlopen + 6 dlvsym + dlclose of the same file. dlopen maps the file without
//     its vVAR (the pages below its first PT_LOAD belong to someone else), so nothing here calls a
//     function that touches vVAR through the dlopen'ed copy.
// (b) one call of counter_add_private (private data only): through our dispatch table, through a
//     pointer from dlvsym, and the same body linked statically (direct call, separate TU, no LTO).
// (c) a symbol lookup in the running kernel's vDSO: vdsokit's ELF reader versus glibc's dlvsym on
//     dlopen("linux-vdso.so.1", RTLD_NOLOAD) (dlsym(RTLD_DEFAULT, ...) does not search the vDSO).
//
// Each sample times a batch of operations; the table shows the median over the samples, in
// nanoseconds per operation, and each row's ratio to the first row of its group (the reference: glibc or a static call).
#include <dlfcn.h>
#include <sys/auxv.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include <vdsokit/elf.hpp>
#include <vdsokit/linux/loader.hpp>

#include "counter_api.hpp"
#include "shared.hpp"

std::uint64_t static_counter_add_private(std::uint64_t amount) noexcept;

namespace {

using namespace vdsokit;
using clock_type = std::chrono::steady_clock;

int samples = 31;

template <class T>
T take(host::result<T> r) {
    if (!r) {
        std::fprintf(stderr, "loader_bench: %s\n", r.error().c_str());
        std::exit(1);
    }
    return std::move(*r);
}

// Median ns per operation of `operation`, run `batch` times per sample.
double median_ns(std::size_t batch, const std::function<void(std::size_t)>& operation) {
    operation(batch);  // warm up
    std::vector<double> per_op;
    for (int s = 0; s < samples; ++s) {
        const auto start = clock_type::now();
        operation(batch);
        const auto elapsed = std::chrono::duration<double, std::nano>(clock_type::now() - start).count();
        per_op.push_back(elapsed / static_cast<double>(batch));
    }
    std::nth_element(per_op.begin(), per_op.begin() + per_op.size() / 2, per_op.end());
    return per_op[per_op.size() / 2];
}

struct row {
    std::string group, what;
    double ns;
};
std::vector<row> rows;

void record(const std::string& group, const std::string& what, double ns) { rows.push_back({group, what, ns}); }

const char* const api_names[] = {"counter_add_shared", "counter_add_private", "counter_read_shared",
                                 "counter_read_private", "counter_calls", "counter_step"};

void bench_load(const std::string& path) {
    const std::string group = "(a) load + bind";
    record(group, "glibc: dlopen + 6 dlvsym + dlclose", median_ns(50, [&](std::size_t n) {
               for (std::size_t i = 0; i < n; ++i) {
                   void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
                   if (handle == nullptr) {
                       std::fprintf(stderr, "loader_bench: dlopen: %s\n", dlerror());
                       std::exit(1);
                   }
                   for (const char* name : api_names) {
                       void* symbol = dlvsym(handle, name, "COUNTER_1");
                       if (symbol == nullptr) std::exit(1);
                       asm volatile("" ::"r"(symbol));
                   }
                   dlclose(handle);
               }
           }));
    record(group, "vdsokit: open + create vVAR + map + bind + unmap", median_ns(50, [&](std::size_t n) {
               for (std::size_t i = 0; i < n; ++i) {
                   auto image = take(host::image_file::open(path));
                   auto vvar = take(host::vvar_region::create<counter_shared>(image));
                   auto mapping = take(host::image_mapping::map(image, vvar));
                   auto table = take(mapping.bind<counter_vdso::dispatch_table>(counter_vdso::facts));
                   asm volatile("" ::"r"(table.counter_step));
               }
           }));
    auto image = take(host::image_file::open(path));
    auto vvar = take(host::vvar_region::create<counter_shared>(image));
    record(group, "vdsokit: map + bind + unmap (image open, vVAR exists)", median_ns(200, [&](std::size_t n) {
               for (std::size_t i = 0; i < n; ++i) {
                   auto mapping = take(host::image_mapping::map(image, vvar));
                   auto table = take(mapping.bind<counter_vdso::dispatch_table>());
                   asm volatile("" ::"r"(table.counter_step));
               }
           }));
}

void bench_calls(const std::string& path) {
    const std::string group = "(b) one call of counter_add_private";
    auto image = take(host::image_file::open(path));
    auto vvar = take(host::vvar_region::create<counter_shared>(image));
    auto mapping = take(host::image_mapping::map(image, vvar));
    auto table = take(mapping.bind<counter_vdso::dispatch_table>(counter_vdso::facts));
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) std::exit(1);
    auto dl_add_private = reinterpret_cast<decltype(&counter_add_private)>(dlvsym(handle, "counter_add_private", "COUNTER_1"));
    constexpr std::size_t batch = 1 << 20;

    record(group, "static: direct call, same body", median_ns(batch, [&](std::size_t n) {
               for (std::size_t i = 0; i < n; ++i) asm volatile("" ::"r"(static_counter_add_private(1)));
           }));
    record(group, "vdsokit: through the dispatch table", median_ns(batch, [&](std::size_t n) {
               auto* table_in_memory = &table;
               asm volatile("" : "+r"(table_in_memory));  // a table the compiler cannot see through
               for (std::size_t i = 0; i < n; ++i) asm volatile("" ::"r"(table_in_memory->counter_add_private(1)));
           }));
    record(group, "glibc: pointer from dlvsym", median_ns(batch, [&](std::size_t n) {
               auto function = dl_add_private;
               asm volatile("" : "+r"(function));
               for (std::size_t i = 0; i < n; ++i) asm volatile("" ::"r"(function(1)));
           }));
    record(group, "vdsokit: counter_add_shared (vVAR atomic add, for scale)", median_ns(batch, [&](std::size_t n) {
               auto* table_in_memory = &table;
               asm volatile("" : "+r"(table_in_memory));
               for (std::size_t i = 0; i < n; ++i) asm volatile("" ::"r"(table_in_memory->counter_add_shared(1)));
           }));
    dlclose(handle);
}

void bench_kernel_lookup() {
    const std::string group = "(c) kernel vDSO: look up __vdso_clock_gettime@LINUX_2.6";
    const auto base = getauxval(AT_SYSINFO_EHDR);
    if (base == 0) return;
    // The live mapping is the file: the bytes up to the end of the last PT_LOAD, page rounded.
    const auto* header = reinterpret_cast<const std::byte*>(base);
    std::uint64_t phoff = 0;
    std::uint16_t phnum = 0;
    std::memcpy(&phoff, header + elf::detail::e_phoff, 8);
    std::memcpy(&phnum, header + elf::detail::e_phnum, 2);
    std::uint64_t end = 0;
    for (std::uint16_t i = 0; i < phnum; ++i) {
        const std::byte* ph = header + phoff + i * elf::detail::program_header_size;
        std::uint32_t type;
        std::uint64_t vaddr, memsz;
        std::memcpy(&type, ph + elf::detail::p_type, 4);
        std::memcpy(&vaddr, ph + elf::detail::p_vaddr, 8);
        std::memcpy(&memsz, ph + elf::detail::p_memsz, 8);
        if (type == elf::detail::pt_load) end = std::max(end, vaddr + memsz);
    }
    const std::span<const std::byte> bytes(header, (end + page_size - 1) / page_size * page_size);
    auto parsed = elf::image::parse(bytes);
    if (!parsed) {
        std::fprintf(stderr, "loader_bench: the kernel vDSO does not parse\n");
        std::exit(1);
    }
    const elf::image kernel = parsed.value();
    elf::symbol found{};
    if (!kernel.lookup("__vdso_clock_gettime", "LINUX_2.6", found)) std::exit(1);

    void* vdso = dlopen("linux-vdso.so.1", RTLD_NOLOAD | RTLD_NOW);
    if (vdso != nullptr && dlvsym(vdso, "__vdso_clock_gettime", "LINUX_2.6") == reinterpret_cast<void*>(base + found.value)) {
        record(group, "glibc: dlvsym on dlopen(\"linux-vdso.so.1\", RTLD_NOLOAD)", median_ns(100000, [&](std::size_t n) {
                   for (std::size_t i = 0; i < n; ++i) asm volatile("" ::"r"(dlvsym(vdso, "__vdso_clock_gettime", "LINUX_2.6")));
               }));
    } else {
        std::fprintf(stderr, "loader_bench: glibc's dlvsym did not find the vDSO symbol at our address\n");
    }
    record(group, "vdsokit: elf::image::lookup (image parsed once)", median_ns(100000, [&](std::size_t n) {
               for (std::size_t i = 0; i < n; ++i) {
                   elf::symbol s{};
                   kernel.lookup("__vdso_clock_gettime", "LINUX_2.6", s);
                   asm volatile("" ::"r"(s.value));
               }
           }));
    record(group, "vdsokit: elf::image::parse + lookup", median_ns(10000, [&](std::size_t n) {
               for (std::size_t i = 0; i < n; ++i) {
                   auto p = elf::image::parse(bytes);
                   elf::symbol s{};
                   p.value().lookup("__vdso_clock_gettime", "LINUX_2.6", s);
                   asm volatile("" ::"r"(s.value));
               }
           }));
    const bool default_finds = dlsym(RTLD_DEFAULT, "__vdso_clock_gettime") != nullptr;
    std::printf("<!-- dlsym(RTLD_DEFAULT, \"__vdso_clock_gettime\") %s -->\n", default_finds ? "finds it" : "returns NULL");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: loader_bench IMAGE.so [samples]\n");
        return 2;
    }
    if (argc > 2) samples = std::max(3, std::atoi(argv[2]));
    bench_load(argv[1]);
    bench_calls(argv[1]);
    bench_kernel_lookup();

    std::printf("| group | operation | median ns/op | ratio to the group's first row |\n|---|---|---:|---:|\n");
    std::string current;
    double baseline = 0;
    for (const row& r : rows) {
        if (r.group != current) {
            current = r.group;
            baseline = r.ns;
        }
        std::printf("| %s | %s | %.1f | %.2fx |\n", r.group.c_str(), r.what.c_str(), r.ns, r.ns / baseline);
    }
    std::printf("\n%d samples per row, median; one run on this machine.\n", samples);
    return 0;
}
