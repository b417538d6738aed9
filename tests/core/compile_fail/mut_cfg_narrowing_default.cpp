// Must not compile: a default that does not fit the declared type.
#include <cstdint>
#include <vdsokit/mut_cfg.hpp>
namespace vdsokit_mut_cfg {
inline constexpr bool overrides_included = true;
}
VDSOKIT_MUT_CFG(std::uint32_t, NEGATIVE_DEFAULT, -1);
