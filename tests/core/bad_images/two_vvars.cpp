// Two vVAR objects: an image has one.
#include <cstdint>
#include <vdsokit/vvar.hpp>
#include "api.hpp"
struct first_block { std::uint64_t a; };
struct second_block { std::uint64_t b; };
VDSOKIT_VVAR(first_block, first_vvar);
VDSOKIT_VVAR(second_block, second_vvar);
int bad_entry() noexcept { return int(first_vvar.a + second_vvar.b); }
