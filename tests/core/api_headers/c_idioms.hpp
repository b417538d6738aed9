// C idioms the parser must accept: the __cplusplus guard, a multi-line comment in a directive,
// CRLF line ends with continuations, inline helpers, and an inline namespace.
#pragma once
#define LIMIT 4 /* a comment that
   spans lines */
#define TWICE(x) \
    ((x) * 2)
#ifdef __cplusplus
extern "C" {
#endif
int idiom_first(void);
[[gnu::always_inline]] inline int idiom_helper(void) { return 1; }
static int idiom_static_helper(void) { return 2; }
constexpr int idiom_constant(void) { return 3; }
long idiom_second(long);
#ifdef __cplusplus
}
#endif
namespace idioms::inline v1 {
extern "C" int idiom_versioned(void);
}
