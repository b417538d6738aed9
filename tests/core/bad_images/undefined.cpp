// Calls a function no one defines: a vDSO links against nothing.
#include "api.hpp"
extern "C" int helper_from_libc(int) noexcept;
int bad_entry() noexcept { return helper_from_libc(1); }
