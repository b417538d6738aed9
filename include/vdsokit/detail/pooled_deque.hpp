// vdsokit::deque for elements larger than 8 bytes: elements live in a pool of slots and the deque
// orders slot *indices*.
//
// Design.
//  - The pool of free slots is a stack of indices whose top, free count and a 64-bit tag share one
//    16-byte word, changed by one double-width CAS (the tag defeats ABA).
//  - The deque is a ring of index cells plus an *anchor*: front and back positions, a version and
//    at most one pending push, all in one 16-byte word (after Michael's deque, on an array). A push
//    installs "position p now holds slot i" in the anchor with one CAS and returns; the next
//    operation that needs cell p (a push, or a pop that leaves the pending element in place)
//    writes it first (a CAS tagged with the anchor version, so a late helper can never overwrite
//    a newer cell) before changing the anchor again. A pop that removes the pending element takes
//    its slot straight from the anchor, so the cell is never written at all. A pop reads the cells
//    it takes and moves an end with one CAS, so pop_front and pop_back racing for the last element
//    are settled by that single CAS, and a full deque simply reports full: there is no retry loop
//    on a full ring and no livelock with producers at both ends.
//  - An element is written into its slot before its index is published and read after its index
//    is unpublished, both by the slot's sole owner, so element copies need no atomics at all.
//
// Progress: lock-free. Every retry of a CAS loop means another operation's CAS succeeded, and a
// pending push is finished by whoever sees it, so no thread ever waits for another one.
//
// A process that dies (SIGKILL) mid-operation never blocks the others. What it costs, by step:
//  - while it holds slots taken from the pool (filling a push_slot, copying into slots before
//    publishing, or copying elements out after a pop): those slots leak, at most the slots of that
//    one operation (one for single-element calls, the batch size for *_multiple); the elements it
//    was pushing are not pushed, the elements it had popped are lost with it (they were delivered).
//  - after its push was installed in the anchor: nothing, the next operation completes the push.
//  - anywhere else (before a CAS, between loads): nothing.
// Leaked slots only reduce the usable capacity; free_slots() exposes it, and
// reclaim_leaked_slots() gives them back at a quiescent point (nothing running anywhere).
//
// Cost: a push+pop is four or five atomic read-modify-writes on words that both ends share (pool
// and anchor, which share one cache line, and a cell when the pop does not take the pending
// element), about 28 ns on one thread; failed CASes back off exponentially (bounded). Handing
// elements one at a time between two cores is bound by cache-line latency (on the 2-vCPU test VM
// ~0.5 us per element). Batch operations amortise this; for one-direction traffic the rings in
// ring.hpp are much faster, and elements of up to 8 bytes take the inline representation.
//
// Limits: Capacity is a power of two <= 2^30. The anchor version and cell tags are 32 bits: a
// thread stalled between reading the anchor and its CAS for exactly a multiple of 2^32 anchor
// changes could CAS on a recycled value (the 16-byte pool word carries a full 64-bit tag).
//
// Freestanding: no heap, exceptions, RTTI or libc; every atomic is always lock-free and address-free.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include <vdsokit/detail/deque_common.hpp>
#include <vdsokit/detail/lockfree_primitives.hpp>
#include <vdsokit/fingerprint.hpp>

namespace vdsokit::detail {

template <class T, std::uint32_t Capacity, std::uint32_t MaxPushers>
class pooled_deque {
    static_assert(std::is_trivially_copyable_v<T>,
                  "vdsokit: deque<T> copies elements between address spaces byte for byte; T must be "
                  "trivially copyable.");
    static_assert(std::is_default_constructible_v<T>,
                  "vdsokit: deque<T> needs a default-constructible T for its slot storage.");
    static_assert(Capacity >= 2 && (Capacity & (Capacity - 1)) == 0 && Capacity <= (1u << 30),
                  "vdsokit: deque capacity must be a power of two between 2 and 2^30.");
    static_assert(std::atomic<std::uint64_t>::is_always_lock_free &&
                      std::atomic<std::uint32_t>::is_always_lock_free,
                  "vdsokit: deque needs always-lock-free 32- and 64-bit atomics.");

public:
    using value_type = T;
    static constexpr std::uint32_t capacity() noexcept { return Capacity; }
    // The most elements pop_multiple takes in one atomic step (its index buffer lives on the stack).
    static constexpr std::size_t max_pop_batch = 64;

    constexpr pooled_deque() noexcept = default;
    pooled_deque(const pooled_deque&) = delete;
    pooled_deque& operator=(const pooled_deque&) = delete;

    // Try-variants: false when full (no free slot) or empty.
    [[nodiscard]] bool push_back(const T& value) noexcept { return push_one(deque_end::back, value); }
    [[nodiscard]] bool push_front(const T& value) noexcept { return push_one(deque_end::front, value); }
    [[nodiscard]] bool pop_front(T& out) noexcept { return pop_multiple(deque_end::front, {&out, 1}, batch_mode::bulk) == 1; }
    [[nodiscard]] bool pop_back(T& out) noexcept { return pop_multiple(deque_end::back, {&out, 1}, batch_mode::bulk) == 1; }

    // Pushes items in order at `end` (at the front the last item ends up first, as with repeated
    // push_front). Returns how many were pushed: bulk gives items.size() or 0. Slots are reserved
    // for the whole batch first, so a bulk push never stops half way; each element becomes
    // visible to consumers on its own.
    std::size_t push_multiple(deque_end end, std::span<const T> items, batch_mode mode) noexcept {
        if (items.empty()) return 0;
        const std::uint32_t wanted = items.size() > Capacity ? Capacity : std::uint32_t(items.size());
        if (mode == batch_mode::bulk && wanted != items.size()) return 0;
        const pool_range taken = take_slots(wanted, mode);
        std::uint32_t slot = taken.first;
        for (std::uint32_t i = 0; i < taken.count; ++i) {
            const std::uint32_t next = read_link(slot);  // read before publishing: a consumer may recycle it
            slots_[slot].value = items[i];
            publish_slot(end, slot);
            slot = next;
        }
        return taken.count;
    }

    // Pops up to out.size() (at most max_pop_batch) elements from `end` in one atomic step, nearest
    // the end first. bulk gives out.size() or 0.
    std::size_t pop_multiple(deque_end end, std::span<T> out, batch_mode mode) noexcept {
        if (out.empty()) return 0;
        if (out.size() > max_pop_batch && mode == batch_mode::bulk) return 0;
        const std::uint32_t wanted = out.size() > max_pop_batch ? std::uint32_t(max_pop_batch)
                                                               : std::uint32_t(out.size());
        std::uint32_t slots[max_pop_batch];
        const std::uint32_t count = unpublish_slots(end, wanted, mode, slots);
        if (count == 0) return 0;
        // The slots are ours now: copy out, chain them and give them back in one CAS.
        for (std::uint32_t i = 0; i < count; ++i) {
            out[i] = slots_[slots[i]].value;
            if (i + 1 < count) write_link(slots[i], slots[i + 1]);
        }
        give_slots(slots[0], slots[count - 1], count);
        return count;
    }

    // Claims a slot to fill in place; the element is pushed at `end` when the guard is released
    // (publish() or destruction) and returned unpushed by cancel(). Empty guard when full.
    class push_slot_guard {
    public:
        push_slot_guard() noexcept = default;
        push_slot_guard(push_slot_guard&& other) noexcept
            : owner_(other.owner_), slot_(other.slot_), end_(other.end_) { other.owner_ = nullptr; }
        push_slot_guard& operator=(push_slot_guard&& other) noexcept {
            if (this != &other) {
                publish();
                owner_ = other.owner_, slot_ = other.slot_, end_ = other.end_;
                other.owner_ = nullptr;
            }
            return *this;
        }
        ~push_slot_guard() { publish(); }

        explicit operator bool() const noexcept { return owner_ != nullptr; }
        [[nodiscard]] T& value() const noexcept { return owner_->slots_[slot_].value; }
        T* operator->() const noexcept { return &value(); }

        void publish() noexcept {
            if (owner_ == nullptr) return;
            owner_->publish_slot(end_, slot_);
            owner_ = nullptr;
        }
        void cancel() noexcept {
            if (owner_ == nullptr) return;
            owner_->give_slots(slot_, slot_, 1);
            owner_ = nullptr;
        }

    private:
        friend class pooled_deque;
        push_slot_guard(pooled_deque* owner, std::uint32_t slot, deque_end end) noexcept
            : owner_(owner), slot_(slot), end_(end) {}
        pooled_deque* owner_ = nullptr;  // process-local: the guard lives on a stack, never in shared memory
        std::uint32_t slot_ = 0;
        deque_end end_ = deque_end::back;
    };

    [[nodiscard]] push_slot_guard push_slot(deque_end end) noexcept {
        const pool_range taken = take_slots(1, batch_mode::bulk);
        if (taken.count == 0) return {};
        return push_slot_guard(this, taken.first, end);
    }

    // inline_deque's pusher interface, so that code is generic over the element size. The pool
    // already gives every push a place of its own, so a pusher here is only a reference.
    static constexpr std::uint32_t anonymous_owner = 0xffffffffu;
    static constexpr std::uint32_t max_pushers() noexcept { return MaxPushers; }
    class pusher {
    public:
        pusher() noexcept = default;
        explicit operator bool() const noexcept { return deque_ != nullptr; }
        [[nodiscard]] bool push_back(const T& value) noexcept { return deque_->push_back(value); }
        [[nodiscard]] bool push_front(const T& value) noexcept { return deque_->push_front(value); }
        std::size_t push_multiple(deque_end end, std::span<const T> items, batch_mode mode) noexcept {
            return deque_->push_multiple(end, items, mode);
        }
        [[nodiscard]] push_slot_guard push_slot(deque_end end) noexcept { return deque_->push_slot(end); }
        void detach() noexcept { deque_ = nullptr; }

    private:
        friend class pooled_deque;
        explicit pusher(pooled_deque* deque) noexcept : deque_(deque) {}
        pooled_deque* deque_ = nullptr;
    };
    [[nodiscard]] pusher attach_pusher(std::uint32_t owner = anonymous_owner) noexcept {
        return owner == 0 ? pusher() : pusher(this);
    }
    std::uint32_t reclaim_pushers(std::uint32_t) noexcept { return 0; }

    // Snapshots: exact when nothing else runs.
    [[nodiscard]] std::uint32_t size() const noexcept {
        const anchor_state anchor = load_anchor();
        return anchor.back - anchor.front;
    }
    [[nodiscard]] bool empty() const noexcept { return size() == 0; }
    // Slots not held by the deque, an operation in flight, or a process that died holding them.
    // With the deque quiescent, capacity() - size() - free_slots() is the number of leaked slots.
    [[nodiscard]] std::uint32_t free_slots() const noexcept { return Capacity - load_pool().taken; }

    // Gives every leaked slot (held by a process that died) back to the pool and returns how many.
    // Only at a quiescent point: no operation may run concurrently in any address space (e.g. a
    // supervisor that has paused or reaped all users after a crash). O(Capacity).
    std::uint32_t reclaim_leaked_slots() noexcept {
        const anchor_state anchor = load_anchor();
        complete_pending(anchor);
        const std::uint32_t free_before = free_slots();
        constexpr std::uint32_t unclaimed = 0xffffffffu, in_deque = 0xfffffffeu;
        for (std::uint32_t slot = 0; slot < Capacity; ++slot) slots_[slot].link.store(unclaimed, std::memory_order_relaxed);
        for (std::uint32_t position = anchor.front; position != anchor.back; ++position) {
            const auto slot = std::uint32_t(cells_[position & index_mask].load(std::memory_order_relaxed));
            slots_[slot].link.store(in_deque, std::memory_order_relaxed);
        }
        std::uint32_t free_count = 0, top = no_slot, previous = no_slot;
        for (std::uint32_t slot = 0; slot < Capacity; ++slot) {
            if (slots_[slot].link.load(std::memory_order_relaxed) != unclaimed) continue;
            if (previous == no_slot) top = slot;
            else write_link(previous, slot);
            previous = slot;
            ++free_count;
        }
        const pool_state pool = load_pool();
        const pool_state rebuilt{top, Capacity - free_count, pool.tag + 1};
        compare_exchange_wide(pool_, pack(pool), pack(rebuilt));
        return free_count - free_before;
    }

    static constexpr std::uint64_t vdsokit_layout_fingerprint() noexcept {
        return fingerprint_builder{}
            .add("vdsokit::deque/pooled/1")
            .add(layout_fingerprint<T>)
            .add(Capacity)
            .add(sizeof(pooled_deque))
            .add(alignof(pooled_deque))
            .value();
    }

private:
    bool push_one(deque_end end, const T& value) noexcept {
        const pool_range taken = take_slots(1, batch_mode::bulk);
        if (taken.count == 0) return false;
        slots_[taken.first].value = value;
        publish_slot(end, taken.first);
        return true;
    }

    static constexpr std::uint32_t index_mask = Capacity - 1;
    static constexpr std::uint32_t no_slot = 0xffffffffu;
    static constexpr std::uint32_t pending_back = 1u << 30;
    static constexpr std::uint32_t pending_front = 2u << 30;
    static constexpr std::uint32_t pending_slot_mask = (1u << 30) - 1;

    // anchor_.low = front | back << 32; anchor_.high = version | pending << 32.
    // pending: 0, or pending_back/pending_front | slot: "the cell at the new end holds slot".
    struct anchor_state {
        std::uint32_t front, back, version, pending;
    };
    // pool_.low = top | taken << 32; pool_.high = tag.
    struct pool_state {
        std::uint32_t top, taken;
        std::uint64_t tag;
    };
    struct pool_range {
        std::uint32_t first, count;
    };

    anchor_state load_anchor() const noexcept {
        const lockfree_wide_value word = load_validated(anchor_);
        return {std::uint32_t(word.low), std::uint32_t(word.low >> 32), std::uint32_t(word.high),
                std::uint32_t(word.high >> 32)};
    }
    static lockfree_wide_value pack(const anchor_state& a) noexcept {
        return {a.front | std::uint64_t(a.back) << 32, a.version | std::uint64_t(a.pending) << 32};
    }
    bool anchor_still(const anchor_state& a) const noexcept {
        const lockfree_wide_value now = pack(a);
        return __atomic_load_n(&anchor_.high, __ATOMIC_ACQUIRE) == now.high &&
               __atomic_load_n(&anchor_.low, __ATOMIC_ACQUIRE) == now.low;
    }
    bool replace_anchor(const anchor_state& expected, const anchor_state& desired) noexcept {
        return compare_exchange_wide(anchor_, pack(expected), pack(desired));
    }

    // Makes sure the cell of the anchor's pending push holds its slot. Returns false only if the
    // anchor has already moved on (the caller re-reads it). After true, either the cell is written
    // or the anchor has moved on, so a CAS from `a` succeeds only with the cell written.
    bool complete_pending(const anchor_state& a) noexcept {
        if (a.pending == 0) return true;
        const std::uint32_t position = (a.pending & pending_back) != 0 ? a.back - 1 : a.front;
        std::atomic<std::uint64_t>& cell = cells_[position & index_mask];
        const std::uint64_t wanted = std::uint64_t(a.version) << 32 | (a.pending & pending_slot_mask);
        std::uint64_t seen = cell.load(std::memory_order_acquire);
        // `seen` is only a valid expected value while this push is still pending: a helper that
        // stalled past it must not overwrite a newer cell (which carries a newer version tag).
        // A failed CAS is not proof of completion: a pop may have taken an earlier pending push
        // at this position straight from the anchor, and that push's stalled helper can still
        // land its (older-tagged) value here. So retry until the cell holds `wanted`; each retry
        // means some other CAS on the cell succeeded, and stalled helpers are finitely many.
        // Tags in a cell only grow, so no value ever comes back and a stale CAS cannot succeed
        // once `wanted` is written.
        for (;;) {
            if (seen == wanted) return true;
            if (!anchor_still(a)) return false;
            if (cell.compare_exchange_strong(seen, wanted, std::memory_order_acq_rel,
                                             std::memory_order_acquire))
                return true;
        }
    }

    // Installs the push in the anchor and returns: its cell is written by whoever next needs it
    // (complete_pending), and not at all if a pop takes the element straight from the anchor.
    void publish_slot(deque_end end, std::uint32_t slot) noexcept {
        backoff_state backoff;
        for (;;) {
            const anchor_state current = load_anchor();
            if (!complete_pending(current)) continue;
            // Cannot be full: the pool hands out at most Capacity slots and we hold one of them.
            anchor_state next = current;
            next.version = current.version + 1;
            if (end == deque_end::back) {
                next.back = current.back + 1;
                next.pending = pending_back | slot;
            } else {
                next.front = current.front - 1;
                next.pending = pending_front | slot;
            }
            if (replace_anchor(current, next)) return;
            backoff.pause();
        }
    }

    std::uint32_t unpublish_slots(deque_end end, std::uint32_t wanted, batch_mode mode,
                                  std::uint32_t* slots) noexcept {
        backoff_state backoff;
        for (;;) {
            const anchor_state current = load_anchor();
            const std::uint32_t size = current.back - current.front;
            const std::uint32_t count =
                size >= wanted ? wanted : (mode == batch_mode::burst ? size : 0);
            if (count == 0) return 0;
            // A pending push that this pop removes needs no cell: its slot is in the anchor, and
            // the anchor (read with acquire) already orders its element before our copy. Its cell
            // may still be written late; it is then outside [front, back) and the next push there
            // CASes over it. Any other pending push is finished first, as every cell in
            // [front, back) must hold its slot before the anchor moves on.
            std::uint32_t pending_position = 0;
            bool pending_taken = false;
            if (current.pending != 0) {
                pending_position = (current.pending & pending_back) != 0 ? current.back - 1 : current.front;
                pending_taken = end == deque_end::front ? pending_position - current.front < count
                                                        : current.back - 1 - pending_position < count;
                if (!pending_taken && !complete_pending(current)) continue;
            }
            for (std::uint32_t i = 0; i < count; ++i) {
                const std::uint32_t position =
                    end == deque_end::front ? current.front + i : current.back - 1 - i;
                slots[i] = pending_taken && position == pending_position
                               ? (current.pending & pending_slot_mask)
                               : std::uint32_t(cells_[position & index_mask].load(std::memory_order_acquire));
            }
            anchor_state next = current;
            next.version = current.version + 1;
            next.pending = 0;
            if (end == deque_end::front)
                next.front = current.front + count;
            else
                next.back = current.back - count;
            // Success means the anchor did not change since it was read, so no cell in
            // [front, back) changed either: the slots read above are the ones removed.
            if (replace_anchor(current, next)) return count;
            backoff.pause();
        }
    }

    // Pool links are stored XOR (slot + 1) so that all-zero memory is a full pool 0 -> 1 -> 2 ...
    std::uint32_t read_link(std::uint32_t slot) const noexcept {
        return slots_[slot].link.load(std::memory_order_relaxed) ^ (slot + 1);
    }
    void write_link(std::uint32_t slot, std::uint32_t next) noexcept {
        slots_[slot].link.store(next ^ (slot + 1), std::memory_order_relaxed);
    }
    pool_state load_pool() const noexcept {
        const lockfree_wide_value word = load_validated(pool_);
        return {std::uint32_t(word.low), std::uint32_t(word.low >> 32), word.high};
    }
    static lockfree_wide_value pack(const pool_state& p) noexcept {
        return {p.top | std::uint64_t(p.taken) << 32, p.tag};
    }

    // Takes a chain of slots (follow read_link from `first`); the chain is private afterwards.
    pool_range take_slots(std::uint32_t wanted, batch_mode mode) noexcept {
        backoff_state backoff;
        for (;;) {
            const pool_state current = load_pool();
            const std::uint32_t available = Capacity - current.taken;
            const std::uint32_t count =
                available >= wanted ? wanted : (mode == batch_mode::burst ? available : 0);
            if (count == 0) return {no_slot, 0};
            // Walk the chain; a stale snapshot can show garbage links, which the CAS then rejects.
            std::uint32_t slot = current.top;
            bool consistent = true;
            for (std::uint32_t i = 0; i < count; ++i) {
                if (slot >= Capacity) { consistent = false; break; }
                slot = read_link(slot);
            }
            if (consistent) {
                const pool_state next{slot, current.taken + count, current.tag + 1};
                if (compare_exchange_wide(pool_, pack(current), pack(next)))
                    return {current.top, count};
            }
            backoff.pause();
        }
    }

    // Returns a private chain first -> ... -> last of `count` slots.
    void give_slots(std::uint32_t first, std::uint32_t last, std::uint32_t count) noexcept {
        backoff_state backoff;
        for (;;) {
            const pool_state current = load_pool();
            write_link(last, current.top);
            const pool_state next{first, current.taken - count, current.tag + 1};
            if (compare_exchange_wide(pool_, pack(current), pack(next))) return;
            backoff.pause();
        }
    }

    // The anchor and the pool share one cache line: every push and pop changes both, so one
    // transfer of the line serves both CASes.
    alignas(64) lockfree_wide_word anchor_;
    lockfree_wide_word pool_;
    alignas(64) std::array<std::atomic<std::uint64_t>, Capacity> cells_{};
    // A slot's pool link next to its element: whoever takes or gives a slot touches one line.
    struct slot_storage {
        std::atomic<std::uint32_t> link{0};
        T value{};
    };
    std::array<slot_storage, Capacity> slots_{};
};

}  // namespace vdsokit::detail
