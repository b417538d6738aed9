// Uses the vDSO-side headers the way a vDSO does, for the freestanding check (freestanding.sh):
// this must compile with -ffreestanding -fno-exceptions -fno-rtti -nostdlib and leave no undefined
// symbol except the memory functions vdso.hpp itself defines.
#include <vdsokit.hpp>
#include <vdsokit/vdso.hpp>

#include "freestanding_mut_cfg.hpp"

struct freestanding_shared {
    std::atomic<std::uint64_t> counter;
    vdsokit::seqlock<std::uint64_t> snapshot;
};

VDSOKIT_VVAR(freestanding_shared, freestanding_vvar);
VDSOKIT_MUT_CFG(std::uint32_t, FREESTANDING_STEP, 3);

struct freestanding_table {
    std::uint64_t (*add)(std::uint64_t) noexcept;
};
static_assert(vdsokit::is_dispatch_table<freestanding_table>);

extern "C" std::uint64_t freestanding_add(std::uint64_t amount) noexcept {
    freestanding_vvar.snapshot.store(amount);
    return freestanding_vvar.counter.fetch_add(amount * FREESTANDING_STEP) + freestanding_vvar.snapshot.load() +
           vdsokit::layout_fingerprint<freestanding_shared>;
}

extern "C" std::uint64_t freestanding_call(const void* base) noexcept {
    return vdsokit::function_at<std::uint64_t (*)(std::uint64_t) noexcept>(base, 0x100)(1);
}
