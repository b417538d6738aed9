// Built without -fPIC and with the large code model: an absolute address in code, a text relocation.
#include "api.hpp"
int target_value = 7;
int bad_entry() noexcept { return target_value; }
