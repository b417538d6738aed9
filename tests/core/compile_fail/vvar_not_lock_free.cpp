// Must not compile: a lock-based atomic is not address-free.
#include <atomic>
#include <vdsokit/vvar.hpp>
struct big { long a, b, c; };
struct refused { std::atomic<big> value; };
VDSOKIT_VVAR(refused, refused_vvar);
