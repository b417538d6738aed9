// The control: the same recipe accepts a clean image.
#include "api.hpp"
int bad_entry() noexcept { return 1; }
