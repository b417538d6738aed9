#pragma once
namespace vdsokit_mut_cfg {
inline constexpr bool overrides_included = true;
}
