// Must not compile: an enum override whose enumerator the declared enum lacks (vdsokit-gen cannot
// always see the enum; the compiler always can).
#include <type_traits>
#include <vdsokit/mut_cfg.hpp>
namespace vdsokit_mut_cfg {
inline constexpr bool overrides_included = true;
inline constexpr ::vdsokit::detail::mut_cfg_enumerator MODE{[]<class Enum>(std::type_identity<Enum>) { return Enum::turbo; }};
}
namespace a { enum class mode { fast, careful }; }
VDSOKIT_MUT_CFG(a::mode, MODE, a::mode::fast);
