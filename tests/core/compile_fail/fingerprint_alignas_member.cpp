// Must not compile: a member's alignas cannot be seen through PFR, so the layout is refused.
#include <vdsokit/fingerprint.hpp>
struct refused { char a; alignas(8) char b; std::uint64_t c; };
constexpr auto value = vdsokit::layout_fingerprint<refused>;
