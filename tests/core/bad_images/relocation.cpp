// A pointer in private data: one RELATIVE relocation, fine for vdsokit's loader, refused for an
// image that must carry none (a Linux-ABI vDSO).
#include "api.hpp"
int target_value = 7;
int* pointer_to_target = &target_value;
int bad_entry() noexcept { return *pointer_to_target; }
