// Compiled with -ffreestanding -fno-exceptions -fno-rtti -nostdlib: every lock-free header must
// instantiate without a single undefined symbol (checked by check_no_undefined.sh with `nm -u`).
// The extern "C" functions force code to be emitted for each operation.
#include <vdsokit/deque.hpp>
#include <vdsokit/futex.hpp>
#include <vdsokit/ring.hpp>
#include <vdsokit/seqlock.hpp>
#include <vdsokit/split_deque.hpp>

namespace {
struct message {
    std::uint32_t kind;
    std::uint64_t payload[3];
};
constinit vdsokit::deque<message, 64> freestanding_deque;        // elements in a pool of slots
constinit vdsokit::deque<std::uint64_t, 64> freestanding_small_deque;  // elements in the cells
constinit vdsokit::split_deque<std::uint64_t, 64> freestanding_split_deque;
constinit vdsokit::spsc_ring<message, 64> freestanding_ring;
constinit vdsokit::spsc_ring<std::uint64_t, 1024> freestanding_wide_ring;  // large enough to trail
constinit vdsokit::mpmc_ring<std::uint64_t, 64> freestanding_mpmc_ring;
constinit vdsokit::seqlock<message> freestanding_seqlock;
constinit vdsokit::shared_event freestanding_event;
}  // namespace

extern "C" {
bool vdsokit_check_deque(message* inout, std::size_t count) {
    bool ok = freestanding_deque.push_back(inout[0]) && freestanding_deque.push_front(inout[0]);
    if (auto slot = freestanding_deque.push_slot(vdsokit::deque_end::back)) slot->kind = 1;
    ok = ok && freestanding_deque.push_multiple(vdsokit::deque_end::front, {inout, count}, vdsokit::batch_mode::bulk) == count;
    ok = ok && freestanding_deque.pop_front(inout[0]) && freestanding_deque.pop_back(inout[0]);
    return ok && freestanding_deque.pop_multiple(vdsokit::deque_end::back, {inout, count}, vdsokit::batch_mode::burst) > 0;
}
bool vdsokit_check_small_deque(std::uint64_t* inout, std::size_t count) {
    auto pusher = freestanding_small_deque.attach_pusher(1);
    bool ok = pusher.push_back(inout[0]) && freestanding_small_deque.push_front(inout[0]);
    if (auto slot = pusher.push_slot(vdsokit::deque_end::back)) slot.value() = 1;
    ok = ok && pusher.push_multiple(vdsokit::deque_end::front, {inout, count}, vdsokit::batch_mode::bulk) == count;
    ok = ok && freestanding_small_deque.pop_front(inout[0]) && freestanding_small_deque.pop_back(inout[0]);
    ok = ok && freestanding_small_deque.pop_multiple(vdsokit::deque_end::back, {inout, count}, vdsokit::batch_mode::burst) > 0;
    return ok && freestanding_small_deque.reclaim_leaked_slots() == 0 && freestanding_small_deque.reclaim_pushers(2) == 0;
}
bool vdsokit_check_split_deque(std::uint64_t* inout, std::size_t count) {
    bool ok = freestanding_split_deque.push_back(inout[0]) && freestanding_split_deque.push_front(inout[0]);
    ok = ok && freestanding_split_deque.push_burst(vdsokit::deque_end::back, {inout, count}) == count;
    ok = ok && freestanding_split_deque.pop_front(inout[0]) && freestanding_split_deque.pop_back(inout[0]);
    if (auto slot = freestanding_split_deque.push_slot(vdsokit::deque_end::front)) slot.value() = inout[0];
    ok = ok && freestanding_split_deque.push_multiple(vdsokit::deque_end::front, {inout, count}, vdsokit::batch_mode::bulk) == count;
    ok = ok && freestanding_split_deque.pop_multiple(vdsokit::deque_end::back, {inout, count}, vdsokit::batch_mode::bulk) == count;
    freestanding_split_deque.reclaim_leaked_reservations();
    decltype(freestanding_split_deque)::trailing_consumer trailing(freestanding_split_deque);
    ok = ok && trailing.pop_front(inout[0]) && trailing.pop_burst({inout, 1}) == 1;
    decltype(freestanding_split_deque)::trailing_producer trailing_producer(freestanding_split_deque);
    ok = ok && trailing_producer.push_back(inout[0]) && trailing_producer.push_burst({inout, 1}) == 1;
    return ok && freestanding_split_deque.pop_burst(vdsokit::deque_end::front, {inout, count}) > 0 &&
           !freestanding_split_deque.empty();
}
bool vdsokit_check_rings(message* inout, std::size_t count) {
    vdsokit::spsc_ring<message, 64>::producer producer(freestanding_ring);
    vdsokit::spsc_ring<message, 64>::consumer consumer(freestanding_ring);
    bool ok = producer.push(inout[0]) && producer.push_burst({inout, count}) > 0;
    producer.submit();
    ok = ok && consumer.pop(inout[0]) && consumer.pop_burst({inout, count}) > 0;
    vdsokit::spsc_ring<message, 64>::trailing_consumer trailing(freestanding_ring);
    ok = ok && (trailing.ready() > 0 || trailing.peek() == nullptr);
    std::uint64_t wide_value = 0;
    vdsokit::spsc_ring<std::uint64_t, 1024>::trailing_consumer trailing_wide(freestanding_wide_ring);
    ok = ok && (trailing_wide.pop(wide_value) || trailing_wide.pop_burst({&wide_value, 1}) == 0);
    std::uint64_t value = 0;
    return ok && freestanding_mpmc_ring.push(1) && freestanding_mpmc_ring.pop(value);
}
std::uint32_t vdsokit_check_seqlock_and_futex(message* inout) {
    freestanding_seqlock.store(inout[0]);
    inout[1] = freestanding_seqlock.load();
    freestanding_event.notify_all();
    freestanding_event.wait(freestanding_event.prepare_wait() - 1);
    std::atomic<std::uint32_t> word{0};
    return vdsokit::wait_until_changed(word, 1) + vdsokit::futex_wake(word) +
           std::uint32_t(vdsokit::futex_wait(word, 1, 1000));
}
}
