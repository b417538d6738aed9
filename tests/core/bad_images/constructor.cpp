// A global with a run-time constructor: .init_array, which nothing runs in a vDSO.
#include "api.hpp"
int compute_start() noexcept;
int start_value = compute_start();
int compute_start() noexcept { return 42; }
int bad_entry() noexcept { return start_value; }
