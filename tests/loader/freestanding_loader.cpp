// A kernel-style loader: a static program with no libc (its own _start, raw system calls, no heap,
// no exceptions) that maps the counter vDSO the way a kernel would, from the build-time data in
// counter_image.hpp alone (no ELF parsing at run time), twice, over one vVAR.
//
// For each of two "address spaces" (two mappings in this process): reserve vvar_size + image_size,
// map the vVAR pages (one memfd, so both mappings see the same physical pages) at the bottom,
// copy every segment from the embedded bytes into fresh anonymous memory (a kernel would point its
// page tables at the embedded pages for shared segments), apply the relative relocations to the
// private copy, then give each segment its own permissions: written while RW, then R or RX, never
// W+X. Then it value-initialises the vVAR, binds one generated dispatch table per mapping and
// calls into the image. Exit status 0 only if every check holds; otherwise the failed check's number.
#include <cstddef>
#include <cstdint>
#include <new>

#include <vdsokit/detail/syscall.hpp>
#include <vdsokit/dispatch.hpp>
#include <vdsokit/fingerprint.hpp>
#include <vdsokit/image.hpp>

#include "counter_api.hpp"
#include "counter_image.hpp"
#include "shared.hpp"

// The compiler may emit calls to these for struct copies even under -ffreestanding.
extern "C" void* memcpy(void* destination, const void* source, std::size_t size) {
    auto* to = static_cast<unsigned char*>(destination);
    const auto* from = static_cast<const unsigned char*>(source);
    for (std::size_t i = 0; i < size; ++i) {
        to[i] = from[i];
        asm("" ::: "memory");  // keeps the loop from being turned back into a memcpy call
    }
    return destination;
}
extern "C" void* memset(void* destination, int value, std::size_t size) {
    auto* to = static_cast<unsigned char*>(destination);
    for (std::size_t i = 0; i < size; ++i) {
        to[i] = static_cast<unsigned char>(value);
        asm("" ::: "memory");
    }
    return destination;
}

namespace {

using vdsokit::detail::raw_syscall;
using numbers = vdsokit::detail::syscall_numbers;

#if defined(__x86_64__)
constexpr long memfd_create_number = 319, ftruncate_number = 77;
#else
constexpr long memfd_create_number = 279, ftruncate_number = 46;
#endif
constexpr long prot_none = 0, prot_read = 1, prot_write = 2, prot_exec = 4;
constexpr long map_shared = 0x01, map_private = 0x02, map_fixed = 0x10, map_anonymous = 0x20;

void say(const char* text) {
    std::size_t length = 0;
    while (text[length] != '\0') ++length;
    raw_syscall(numbers::write, 2, reinterpret_cast<long>(text), static_cast<long>(length));
}

[[noreturn]] void exit_with(int status) {
    for (;;) raw_syscall(numbers::exit_group, status);
}

bool is_error(long value) { return value < 0 && value > -4096; }

long protection_of(std::uint32_t flags) {
    return ((flags & vdsokit::segment_read) ? prot_read : 0) | ((flags & vdsokit::segment_write) ? prot_write : 0) |
           ((flags & vdsokit::segment_execute) ? prot_exec : 0);
}

bool same_name(const char* a, const char* b) {
    while (*a != '\0' && *a == *b) ++a, ++b;
    return *a == *b;
}

// Maps one copy of the image over the vVAR memfd; returns the image base or nullptr.
std::byte* map_image(const vdsokit::embedded_image& image, int vvar_fd) {
    const long reserved = raw_syscall(numbers::mmap, 0, static_cast<long>(image.vvar_size + image.image_size),
                                      prot_none, map_private | map_anonymous, -1, 0);
    if (is_error(reserved)) return nullptr;
    auto* const bottom = reinterpret_cast<std::byte*>(reserved);
    std::byte* const base = bottom + image.vvar_size;
    if (is_error(raw_syscall(numbers::mmap, reserved, static_cast<long>(image.vvar_size), prot_read | prot_write,
                             map_shared | map_fixed, vvar_fd, 0)))
        return nullptr;
    for (std::size_t i = 0; i < image.segment_count; ++i) {
        const vdsokit::segment_mapping& s = image.segments[i];
        if ((s.flags & vdsokit::segment_write) && (s.flags & vdsokit::segment_execute)) return nullptr;  // W^X
        std::byte* const at = base + s.image_offset;
        if (is_error(raw_syscall(numbers::mmap, reinterpret_cast<long>(at), static_cast<long>(s.memory_size),
                                 prot_read | prot_write, map_private | map_fixed | map_anonymous, -1, 0)))
            return nullptr;
        memcpy(at, image.bytes + s.file_offset, s.file_size);
    }
    for (std::size_t i = 0; i < image.relocation_count; ++i) {
        const vdsokit::relative_relocation& r = image.relocations[i];
        const std::uint64_t value = reinterpret_cast<std::uint64_t>(base) + static_cast<std::uint64_t>(r.value_offset);
        memcpy(base + r.image_offset, &value, sizeof value);
    }
    for (std::size_t i = 0; i < image.segment_count; ++i) {
        const vdsokit::segment_mapping& s = image.segments[i];
        if (is_error(raw_syscall(numbers::mprotect, reinterpret_cast<long>(base + s.image_offset),
                                 static_cast<long>(s.memory_size), protection_of(s.flags))))
            return nullptr;
    }
    return base;
}

int run() {
    const vdsokit::embedded_image& image = counter_vdso::embedded::image;
    int check = 0;
    auto expect = [&](bool condition, const char* what) {
        ++check;
        if (!condition) {
            say("freestanding loader: FAILED: ");
            say(what);
            say("\n");
            exit_with(check);
        }
    };

    expect(image.vvar_fingerprint == vdsokit::layout_fingerprint<counter_shared>,
           "the image's vVAR fingerprint is counter_shared's");
    expect(image.vvar_size >= sizeof(counter_shared) && image.vvar_size % vdsokit::page_size == 0,
           "the vVAR region holds counter_shared and is page sized");
    bool symbol_found = false;
    for (std::size_t i = 0; i < image.symbol_count; ++i)
        if (same_name(image.symbols[i].name, "counter_add_shared"))
            symbol_found = image.symbols[i].image_offset == counter_vdso::symbol_offsets::counter_add_shared;
    expect(symbol_found, "the embedded symbol table agrees with the dispatch table's offsets");

    const long vvar_fd = raw_syscall(memfd_create_number, reinterpret_cast<long>("vvar"), 0);
    expect(!is_error(vvar_fd), "memfd_create for the vVAR");
    expect(!is_error(raw_syscall(ftruncate_number, vvar_fd, static_cast<long>(image.vvar_size))), "ftruncate");

    std::byte* const first = map_image(image, static_cast<int>(vvar_fd));
    std::byte* const second = map_image(image, static_cast<int>(vvar_fd));
    expect(first != nullptr && second != nullptr && first != second, "two mappings at distinct bases");

    // Whoever creates the vVAR value-initialises it; the image never does.
    auto* const shared = new (first - image.vvar_size) counter_shared{};
    const auto a = counter_vdso::dispatch_table::bind(first);
    const auto b = counter_vdso::dispatch_table::bind(second);
    expect(vdsokit::table_within(a, first, image.image_size) && vdsokit::table_within(b, second, image.image_size),
           "every dispatch table entry lies inside its mapping");

    expect(a.counter_step() == COUNTER_STEP, "the image was built with this program's COUNTER_STEP");
    expect(a.counter_add_shared(3) == 3 * COUNTER_STEP, "first mapping adds to the shared counter");
    expect(b.counter_add_shared(4) == 7 * COUNTER_STEP, "second mapping sees the first one's add");
    std::uint64_t total_bytes = 0;  // the vVAR as raw bytes, through the second mapping's pages
    memcpy(&total_bytes, second - image.vvar_size, sizeof total_bytes);
    expect(total_bytes == 7 * COUNTER_STEP && shared->total.load() == 7 * COUNTER_STEP,
           "the shared total is visible in the vVAR bytes of both mappings");
    expect(b.counter_calls() == 2, "both calls were counted once");
    expect(a.counter_add_private(5) == 5 && b.counter_add_private(9) == 9, "private counters start apart");
    expect(a.counter_read_private() == 5 && b.counter_read_private() == 9, "private counters stay apart");
    say("freestanding loader: ok (two mappings, one vVAR, private data apart)\n");
    return 0;
}

}  // namespace

extern "C" [[noreturn]] void vdsokit_freestanding_main() { exit_with(run()); }

// The entry point: no libc, so align the stack and call the C++ side ourselves.
#if defined(__x86_64__)
asm(".globl _start\n"
    "_start:\n"
    "  xor %ebp, %ebp\n"
    "  and $-16, %rsp\n"
    "  call vdsokit_freestanding_main\n"
    "  hlt\n");
#elif defined(__aarch64__)
asm(".globl _start\n"
    "_start:\n"
    "  mov x29, #0\n"
    "  bl vdsokit_freestanding_main\n");
#elif defined(__riscv)
asm(".globl _start\n"
    "_start:\n"
    "  .option push\n"
    "  .option norelax\n"
    "  lla gp, __global_pointer$\n"  // the linker relaxes accesses against gp: set it first
    "  .option pop\n"
    "  andi sp, sp, -16\n"
    "  call vdsokit_freestanding_main\n");
#else
#error "vdsokit: the freestanding loader test has entry points for x86-64, aarch64 and riscv64"
#endif
