// Everything the API parser must read through. Expected functions are listed in generator_test.cpp.
#pragma once
#include <cstdint>
#define TRICKY_UNUSED(x) \
    extern "C" int not_a_declaration(int);   /* a macro body is not parsed */

struct outside { int (*callback)(int); };    // a C++ struct, not part of the API
int cpp_linkage_helper(int);                 // no C linkage: not part of the API

extern "C" {

/* A block comment that mentions
   int commented_out(void); */

// Multi-line, with attributes of both spellings and noexcept.
[[nodiscard]] __attribute__((visibility("default")))
std::uint64_t
tricky_multi_line(
    std::uint64_t first,   // a trailing comment
    const char* second
) noexcept;

// Function-pointer parameters.
int tricky_callback(int (*on_item)(void* context, int value), void* context) noexcept(true);

// Returns a function pointer.
void (*tricky_returns_handler(int signal))(int);

typedef struct { int a; } tricky_pair;        // a type in the C block: skipped
struct tricky_node { struct tricky_node* next; };
enum tricky_mode { tricky_fast = 1, tricky_safe };

tricky_pair tricky_make_pair(int a) [[deprecated("use something else")]];
struct tricky_node* tricky_first(void);
static_assert(sizeof(int) == 4, "int(32)");

}  // extern "C"

extern "C" long tricky_single(long value) noexcept;   // a single declaration with C linkage

namespace tricky_ns {
extern "C" int tricky_in_namespace(const char (&text)[4]);
}

extern "C++" {
int cpp_block_helper(int);
}
