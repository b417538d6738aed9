// Must not compile: an override (as a stale or hand-edited overrides header would hold) that
// does not fit the declared type.
#include <cstdint>
#include <vdsokit/mut_cfg.hpp>
namespace vdsokit_mut_cfg {
inline constexpr bool overrides_included = true;
inline constexpr ::vdsokit::detail::mut_cfg_override SMALL{false, 300u};
}
VDSOKIT_MUT_CFG(std::uint8_t, SMALL, 7);
