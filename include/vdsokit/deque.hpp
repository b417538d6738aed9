// A bounded multi-producer multi-consumer double-ended queue that lives in shared memory: in a vVAR
// page, or in any mapping shared by processes (and a kernel) at different addresses.
//
//   vdsokit::deque<T, Capacity, MaxPushers = 32>
//
// Both ends push and pop (try-variants that report full or empty), push_slot fills an element in
// place and publishes it when its guard goes, push_multiple/pop_multiple take batches in bulk (all
// or nothing) or burst (as many as fit) mode. Lock-free: no operation ever waits for another, and
// a process killed mid-operation blocks nobody.
//
// Two representations behind one interface, chosen by the element size:
//  - up to 8 bytes (detail/inline_deque.hpp): elements live in the cells; a push+pop costs two
//    atomic read-modify-writes. Pushes go through a *pusher*, a process-local handle that owns
//    staging words in the deque (MaxPushers of them); attach one per pushing thread with
//    attach_pusher(owner). Pushes without one attach one for the call. A killed process costs no
//    capacity, only what it had reserved (push_slot) and its pushers, which
//    reclaim_pushers(owner) and reclaim_leaked_slots() give back.
//  - larger (detail/pooled_deque.hpp): elements live in a pool of slots and the deque orders slot
//    indices; a killed process leaks at most the slots of its one operation until
//    reclaim_leaked_slots(). attach_pusher() exists so that code is generic; it costs nothing.
//
// Each header documents its protocol, progress guarantee and what a dead process costs, step by
// step. Both need a 16-byte compare-and-swap (x86-64, aarch64). Freestanding.
#pragma once

#include <cstdint>
#include <type_traits>

#include <vdsokit/detail/deque_common.hpp>
#include <vdsokit/detail/inline_deque.hpp>
#include <vdsokit/detail/pooled_deque.hpp>

namespace vdsokit {

template <class T, std::uint32_t Capacity, std::uint32_t MaxPushers = 32>
using deque = std::conditional_t<(sizeof(T) <= 8), detail::inline_deque<T, Capacity, MaxPushers>,
                                 detail::pooled_deque<T, Capacity, MaxPushers>>;

}  // namespace vdsokit
