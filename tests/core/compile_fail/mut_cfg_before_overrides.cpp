// Must not compile: the overrides header comes after the declaration, so an override would be
// silently ignored.
#include <cstdint>
#include <vdsokit/mut_cfg.hpp>
VDSOKIT_MUT_CFG(std::uint32_t, EARLY, 1);
