// Must not compile: a pointer in shared data means a different thing in every address space.
#include <vdsokit/fingerprint.hpp>
struct refused { int* where; };
constexpr auto value = vdsokit::layout_fingerprint<refused>;
