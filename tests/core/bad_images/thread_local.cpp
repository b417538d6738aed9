// thread_local data: a vDSO has no thread pointer of its own.
#include "api.hpp"
thread_local int per_thread_calls;
int bad_entry() noexcept { return ++per_thread_calls; }
