// api.hpp declares bad_entry, but the source defines something else.
#include "api.hpp"
extern "C" int bad_entyr() noexcept { return 1; }
