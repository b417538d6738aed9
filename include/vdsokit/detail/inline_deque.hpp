// vdsokit::deque for elements of at most 8 bytes (task ids, offsets, handles): the elements live
// in the deque's cells themselves, so a push+pop on one thread is two atomic read-modify-writes.
//
// Design (after Michael's deque, on an array):
//  - The *anchor*, one 16-byte word changed by one double-width CAS, holds front, back, a version,
//    the count of reserved places (push_slot, bulk pushes) and at most one *pending* push.
//  - A cell is a 16-byte word {value, tag}: the value and the anchor version that wrote it.
//  - A pusher writes its value into a *staging* word of its own (each pusher handle owns two, see
//    below), then installs "the new end holds the value staged in s" in the anchor with one CAS
//    and returns. Whoever next needs the anchor to change copies the staged value into its cell
//    first (a CAS tagged with the anchor version, so a late helper never overwrites a newer
//    cell). A pop that removes the pending element reads it straight from the staging word, so
//    on one thread (push, pop, push, pop ...) no cell is ever written.
//  - A pop reads the cells it takes and moves its end with one CAS; pop_front and pop_back racing
//    for the last element are settled by that single CAS, and a full deque simply reports full:
//    no retry loop on a full ring, no livelock with producers at both ends.
//  - Staging words are double-buffered: a handle writes the one its previous push did not use, and
//    the anchor references at most one of them, so a staging word is never rewritten while the
//    anchor can still send a helper to it.
//
// Progress: lock-free. Every CAS retry means another operation's CAS succeeded; a pending push is
// finished by whoever sees it; nobody waits for anybody.
//
// A process that dies (SIGKILL) mid-operation never blocks the others and costs no capacity:
//  - before its push is installed: that element is not pushed; after: the next operation
//    completes the push from its staging word (which a dead process no longer touches);
//  - after a pop's CAS: the elements it took are lost with it (they were delivered);
//  - while holding a push_slot or a bulk reservation: those places stay reserved (the only
//    capacity a death can cost) until reclaim_leaked_slots() at a quiescent point;
//  - its pusher handles stay attached: reclaim_pushers(owner) returns them once the owner is
//    gone (the owner id is the caller's choice, e.g. a pid).
//
// Cost: a push+pop on one thread is two 16-byte CASes, inlined when uncontended: about 14.5 ns on
// the test VM, where two bare 16-byte CASes take 13 ns and the same loop with the anchor reads and
// the staging word takes 14.3. Both ends share the anchor's cache line, so handing elements one at
// a time between two cores pays a line transfer per operation (about 2 M items/s there); batches
// amortise it, and vdsokit::split_deque keeps the ends apart.
//
// Limits: Capacity is a power of two <= 2^30; at most 8192 pushers; at most 65535 places reserved
// at once. Versions are 32 bits: a thread stalled between reading the anchor and its CAS for
// exactly a multiple of 2^32 anchor changes could CAS on a recycled value.
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
class inline_deque {
    static_assert(std::is_trivially_copyable_v<T> && std::is_default_constructible_v<T>,
                  "vdsokit: deque<T> copies elements between address spaces byte for byte; T must be "
                  "trivially copyable and default-constructible.");
    static_assert(sizeof(T) <= 8, "vdsokit: inline_deque holds elements of at most 8 bytes.");
    static_assert(Capacity >= 2 && (Capacity & (Capacity - 1)) == 0 && Capacity <= (1u << 30),
                  "vdsokit: deque capacity must be a power of two between 2 and 2^30.");
    static_assert(MaxPushers >= 1 && MaxPushers <= 8192, "vdsokit: a deque has 1 to 8192 pushers.");
    static_assert(std::atomic<std::uint64_t>::is_always_lock_free &&
                      std::atomic<std::uint32_t>::is_always_lock_free,
                  "vdsokit: deque needs always-lock-free 32- and 64-bit atomics.");

public:
    using value_type = T;
    static constexpr std::uint32_t capacity() noexcept { return Capacity; }
    static constexpr std::uint32_t max_pushers() noexcept { return MaxPushers; }
    // The most elements pop_multiple takes in one atomic step.
    static constexpr std::size_t max_pop_batch = Capacity;
    // The owner of pushers attached by the calls that take no pusher.
    static constexpr std::uint32_t anonymous_owner = 0xffffffffu;

    constexpr inline_deque() noexcept = default;
    inline_deque(const inline_deque&) = delete;
    inline_deque& operator=(const inline_deque&) = delete;

    class push_slot_guard;

    // A process-local handle for pushing: it owns staging words in the deque, so its pushes cost
    // one CAS. Attach one per thread that pushes often (one thread uses a pusher at a time); the
    // pushes without a pusher attach one for the call (one more atomic step, and they fail if
    // every pusher is attached).
    class pusher {
    public:
        pusher() noexcept = default;
        pusher(pusher&& other) noexcept : deque_(other.deque_), entry_(other.entry_), parity_(other.parity_) {
            other.deque_ = nullptr;
        }
        pusher& operator=(pusher&& other) noexcept {
            if (this != &other) {
                detach();
                deque_ = other.deque_, entry_ = other.entry_, parity_ = other.parity_;
                other.deque_ = nullptr;
            }
            return *this;
        }
        ~pusher() { detach(); }

        // False when every pusher entry was taken at attach time.
        explicit operator bool() const noexcept { return deque_ != nullptr; }

        // Try-variants: false when full.
        [[nodiscard]] bool push_back(const T& value) noexcept { return deque_->push_one(deque_end::back, value, *this); }
        [[nodiscard]] bool push_front(const T& value) noexcept { return deque_->push_one(deque_end::front, value, *this); }
        std::size_t push_multiple(deque_end end, std::span<const T> items, batch_mode mode) noexcept {
            return deque_->push_batch(end, items, mode, *this);
        }
        [[nodiscard]] push_slot_guard push_slot(deque_end end) noexcept {
            if (!deque_->reserve(1)) return {};
            return push_slot_guard(deque_, this, end);
        }

        // Gives the entry back (the destructor does it too).
        void detach() noexcept {
            if (deque_ == nullptr) return;
            deque_->entries_[entry_].owner.store(0, std::memory_order_release);
            deque_ = nullptr;
        }

    private:
        friend class inline_deque;
        pusher(inline_deque* deque, std::uint32_t entry, std::uint32_t parity) noexcept
            : deque_(deque), entry_(entry), parity_(parity) {}
        inline_deque* deque_ = nullptr;  // process-local: a pusher lives on a stack, never in shared memory
        std::uint32_t entry_ = 0;
        std::uint32_t parity_ = 0;  // which of the entry's two staging words the next push writes
    };

    // Attaches a pusher for `owner` (any nonzero id, e.g. a pid: reclaim_pushers(owner) frees what
    // a dead owner left attached). An empty pusher when all MaxPushers are attached.
    [[nodiscard]] pusher attach_pusher(std::uint32_t owner = anonymous_owner) noexcept {
        if (owner == 0) return {};
        // Start at a place that differs between threads to spread the search: a hash of the stack
        // address (thread stacks sit a power of two apart, so the raw address would not differ).
        const std::uint32_t dummy = 0;
        const auto start = std::uint32_t(((reinterpret_cast<std::uintptr_t>(&dummy) >> 4) * 0x9e3779b97f4a7c15ull) >> 40);
        for (std::uint32_t i = 0; i < MaxPushers; ++i) {
            pusher_entry& entry = entries_[(start + i) % MaxPushers];
            std::uint32_t expected = 0;
            if (entry.owner.load(std::memory_order_relaxed) != 0 ||
                !entry.owner.compare_exchange_strong(expected, owner, std::memory_order_acq_rel))
                continue;
            const std::uint32_t index = std::uint32_t(&entry - entries_.data());
            // The previous owner's last push may still be pending: start on the other word.
            const anchor_state anchor = load_anchor();
            const bool first_word_pending = anchor.pending != 0 && (anchor.pending & pending_stage_mask) == index * 2;
            return pusher(this, index, first_word_pending ? 1 : 0);
        }
        return {};
    }

    // Detaches every pusher of `owner` and returns how many. Only once no pusher of that owner is
    // used any more (the owner process has exited, or all its pushers are gone).
    std::uint32_t reclaim_pushers(std::uint32_t owner) noexcept {
        std::uint32_t freed = 0;
        for (pusher_entry& entry : entries_) {
            std::uint32_t expected = owner;
            if (owner != 0 && entry.owner.compare_exchange_strong(expected, 0, std::memory_order_acq_rel)) ++freed;
        }
        return freed;
    }

    // Try-variants: false when full (or, for pushes, when no pusher could be attached) or empty.
    [[nodiscard]] bool push_back(const T& value) noexcept {
        pusher own = attach_pusher();
        return own && own.push_back(value);
    }
    [[nodiscard]] bool push_front(const T& value) noexcept {
        pusher own = attach_pusher();
        return own && own.push_front(value);
    }
    [[nodiscard]] bool pop_front(T& out) noexcept { return pop_one(deque_end::front, out); }
    [[nodiscard]] bool pop_back(T& out) noexcept { return pop_one(deque_end::back, out); }

    // Pushes items in order at `end` (at the front the last item ends up first, as with repeated
    // push_front). Returns how many were pushed: bulk gives items.size() or 0 (it reserves room for
    // the whole batch first, so it never stops half way); each element becomes visible on its own.
    std::size_t push_multiple(deque_end end, std::span<const T> items, batch_mode mode) noexcept {
        pusher own = attach_pusher();
        return own ? push_batch(end, items, mode, own) : 0;
    }

    // Pops up to out.size() elements from `end` in one atomic step, nearest the end first. bulk
    // gives out.size() or 0. Entries of `out` past the returned count are unspecified.
    std::size_t pop_multiple(deque_end end, std::span<T> out, batch_mode mode) noexcept {
        if (out.empty() || (mode == batch_mode::bulk && out.size() > Capacity)) return 0;
        return remove(end, out.data(), out.size() > Capacity ? Capacity : std::uint32_t(out.size()), mode);
    }

    // A place reserved for one element, filled through value() and pushed at `end` when the guard
    // is released (publish() or destruction); cancel() gives the place back. The element is
    // filled in the guard (it is at most 8 bytes) and published with one CAS. A guard from
    // pusher::push_slot uses that pusher, so it must not outlive it.
    class push_slot_guard {
    public:
        push_slot_guard() noexcept = default;
        push_slot_guard(push_slot_guard&& other) noexcept { take(other); }
        push_slot_guard& operator=(push_slot_guard&& other) noexcept {
            if (this != &other) {
                publish();
                take(other);
            }
            return *this;
        }
        ~push_slot_guard() { publish(); }

        explicit operator bool() const noexcept { return deque_ != nullptr; }
        [[nodiscard]] T& value() noexcept { return value_; }
        T* operator->() noexcept { return &value_; }

        void publish() noexcept {
            if (deque_ == nullptr) return;
            (void)deque_->install(end_, value_, external_ != nullptr ? *external_ : own_, true);
            release();
        }
        void cancel() noexcept {
            if (deque_ == nullptr) return;
            deque_->unreserve(1);
            release();
        }

    private:
        friend class inline_deque;
        friend class pusher;
        push_slot_guard(inline_deque* deque, pusher* external, deque_end end) noexcept
            : deque_(deque), external_(external), end_(end) {}
        push_slot_guard(inline_deque* deque, pusher&& own, deque_end end) noexcept
            : deque_(deque), own_(static_cast<pusher&&>(own)), end_(end) {}
        void take(push_slot_guard& other) noexcept {
            deque_ = other.deque_, external_ = other.external_, own_ = static_cast<pusher&&>(other.own_);
            end_ = other.end_, value_ = other.value_;
            other.deque_ = nullptr;
        }
        void release() noexcept {
            deque_ = nullptr;
            own_.detach();
        }
        inline_deque* deque_ = nullptr;  // process-local, like the pusher
        pusher* external_ = nullptr;     // the caller's pusher, or none: then own_ is used
        pusher own_;
        deque_end end_ = deque_end::back;
        T value_{};
    };

    // An empty guard when full (or when no pusher could be attached).
    [[nodiscard]] push_slot_guard push_slot(deque_end end) noexcept {
        pusher own = attach_pusher();
        if (!own || !reserve(1)) return {};
        return push_slot_guard(this, static_cast<pusher&&>(own), end);
    }

    // Snapshots: exact when nothing else runs.
    [[nodiscard]] std::uint32_t size() const noexcept {
        const anchor_state anchor = load_anchor();
        return anchor.back - anchor.front;
    }
    [[nodiscard]] bool empty() const noexcept { return size() == 0; }
    // Places neither holding an element nor reserved (by a push_slot, a bulk push in progress, or
    // a process that died holding one).
    [[nodiscard]] std::uint32_t free_slots() const noexcept {
        const anchor_state anchor = load_anchor();
        return Capacity - (anchor.back - anchor.front) - anchor.reserved;
    }

    // Releases every reservation left by a process that died holding it and returns how many.
    // Only at a quiescent point: no operation may run and no push_slot guard may be held in any
    // address space (a live guard's place would be released under it).
    std::uint32_t reclaim_leaked_slots() noexcept {
        return replace_reserved([](const anchor_state&) { return 0u; });
    }

    static constexpr std::uint64_t vdsokit_layout_fingerprint() noexcept {
        return fingerprint_builder{}
            .add("vdsokit::deque/inline/1")
            .add(layout_fingerprint<T>)
            .add(Capacity)
            .add(MaxPushers)
            .add(sizeof(inline_deque))
            .add(alignof(inline_deque))
            .value();
    }

private:
    static constexpr std::uint32_t index_mask = Capacity - 1;
    // anchor_.low = front | back << 32; anchor_.high = version | pending << 32 | reserved << 48.
    // pending: 0, or pending_present | (pending_front) | staging word: "the cell at the new end
    // holds the value in that staging word".
    static constexpr std::uint32_t pending_present = 1u << 15;
    static constexpr std::uint32_t pending_front = 1u << 14;
    static constexpr std::uint32_t pending_stage_mask = (1u << 14) - 1;
    static constexpr std::uint32_t max_reserved = 0xffffu;

    struct anchor_state {
        std::uint32_t front, back, version, pending, reserved;
        // The word as read, the expected value of a CAS from this state. Derivable with pack(),
        // but re-packing costs 8 ns per push+pop on x86-64 (measured: 25 vs 17 ns).
        lockfree_wide_value word;
    };

    static anchor_state unpack(lockfree_wide_value word) noexcept {
        return {std::uint32_t(word.low), std::uint32_t(word.low >> 32), std::uint32_t(word.high),
                std::uint32_t(word.high >> 32) & 0xffffu, std::uint32_t(word.high >> 48), word};
    }
    anchor_state load_anchor() const noexcept { return unpack(load_validated(anchor_)); }
    // One read of each half, for a caller that only CASes from it: every successful CAS changes
    // the version in the high half, read first, so a CAS from a torn read fails.
    anchor_state load_anchor_for_cas() const noexcept {
        const std::uint64_t high = __atomic_load_n(&anchor_.high, __ATOMIC_ACQUIRE);
        return unpack({__atomic_load_n(&anchor_.low, __ATOMIC_ACQUIRE), high});
    }
    static lockfree_wide_value pack(const anchor_state& a) noexcept {
        return {a.front | std::uint64_t(a.back) << 32,
                a.version | std::uint64_t(a.pending) << 32 | std::uint64_t(a.reserved) << 48};
    }
    // The anchor after installing a push at `end` from staging word `word` (into a place reserved
    // for it if `reserved`), and after removing `count` elements at `end`.
    static anchor_state with_push(const anchor_state& a, deque_end end, std::uint32_t word, bool reserved) noexcept {
        anchor_state next = a;
        next.version = a.version + 1;
        next.pending = pending_present | (end == deque_end::front ? pending_front : 0) | word;
        if (reserved) next.reserved = a.reserved - 1;
        if (end == deque_end::back) next.back = a.back + 1;
        else next.front = a.front - 1;
        return next;
    }
    static anchor_state with_removal(const anchor_state& a, deque_end end, std::uint32_t count) noexcept {
        anchor_state next = a;
        next.version = a.version + 1;
        next.pending = 0;
        if (end == deque_end::front) next.front = a.front + count;
        else next.back = a.back - count;
        return next;
    }
    bool anchor_still(const anchor_state& a) const noexcept {
        return __atomic_load_n(&anchor_.high, __ATOMIC_ACQUIRE) == a.word.high &&
               __atomic_load_n(&anchor_.low, __ATOMIC_ACQUIRE) == a.word.low;
    }
    bool replace_anchor(const anchor_state& expected, const anchor_state& desired) noexcept {
        return compare_exchange_wide(anchor_, expected.word, pack(desired));
    }
    std::atomic<std::uint64_t>& stage(std::uint32_t word) noexcept { return entries_[word >> 1].stage[word & 1]; }

    // Makes sure the cell of the anchor's pending push holds its value. Returns false only if the
    // anchor has already moved on (the caller re-reads it). After true, either the cell is written
    // or the anchor has moved on, so a CAS from `a` succeeds only with the cell written.
    bool complete_pending(const anchor_state& a) noexcept {
        if (a.pending == 0) return true;
        const std::uint64_t value = stage(a.pending & pending_stage_mask).load(std::memory_order_relaxed);
        // The staging word is rewritten only after the anchor has moved on: if it has not, `value`
        // is the pending one (the fence keeps the read above before the check below).
        std::atomic_thread_fence(std::memory_order_acquire);
        if (!anchor_still(a)) return false;
        const std::uint32_t position = (a.pending & pending_front) != 0 ? a.front : a.back - 1;
        lockfree_wide_word& cell = cells_[position & index_mask];
        const lockfree_wide_value wanted{value, a.version};
        // A helper that stalled past this push must not overwrite a newer cell (tags only grow, so
        // its expected value never comes back). A failed CAS is not proof of completion: a pop may
        // have taken an earlier pending push here straight from the anchor, and that push's
        // stalled helper can still land its older-tagged value. So retry until the cell holds
        // `wanted`; each retry means some other CAS on the cell succeeded, and stalled helpers are
        // finitely many.
        for (;;) {
            const lockfree_wide_value seen = load_validated(cell);
            if (seen.low == wanted.low && seen.high == wanted.high) return true;
            if (!anchor_still(a)) return false;
            if (compare_exchange_wide(cell, seen, wanted)) return true;
        }
    }

    // A pusher's push, inlined when uncontended: no pending push to finish first and room in the
    // deque; anything else goes to the general loop.
    bool push_one(deque_end end, const T& value, pusher& own) noexcept {
        const std::uint32_t word = own.entry_ * 2 + own.parity_;
        stage(word).store(to_word_bits(value), std::memory_order_relaxed);
        const anchor_state current = load_anchor_for_cas();
        if (current.pending == 0 && (current.back - current.front) + current.reserved < Capacity) {
            if (replace_anchor(current, with_push(current, end, word, false))) {
                own.parity_ ^= 1;
                return true;
            }
        }
        return install_staged(end, word, own, false);
    }

    // Stages the value in the pusher's free staging word, then installs the push in the anchor.
    // `reserved`: the place was reserved beforehand, so the push cannot find the deque full.
    bool install(deque_end end, const T& value, pusher& own, bool reserved) noexcept {
        const std::uint32_t word = own.entry_ * 2 + own.parity_;
        stage(word).store(to_word_bits(value), std::memory_order_relaxed);
        return install_staged(end, word, own, reserved);
    }
    [[gnu::noinline]] bool install_staged(deque_end end, std::uint32_t word, pusher& own, bool reserved) noexcept {
        backoff_state backoff;
        for (;;) {
            const anchor_state current = load_anchor();
            if (!complete_pending(current)) continue;
            if (!reserved && (current.back - current.front) + current.reserved >= Capacity) return false;
            if (replace_anchor(current, with_push(current, end, word, reserved))) {
                own.parity_ ^= 1;
                return true;
            }
            backoff.pause();
        }
    }

    // Replaces the reserved count with new_reserved(anchor) in one anchor step (finishing a pending
    // push first), or changes nothing if that returns `refused`. Returns the count it replaced.
    static constexpr std::uint32_t refused = 0xffffffffu;
    template <class NewReserved>
    std::uint32_t replace_reserved(NewReserved new_reserved) noexcept {
        backoff_state backoff;
        for (;;) {
            const anchor_state current = load_anchor();
            if (!complete_pending(current)) continue;
            const std::uint32_t reserved = new_reserved(current);
            if (reserved == refused) return refused;
            anchor_state next = current;
            next.version = current.version + 1;
            next.pending = 0;
            next.reserved = reserved;
            if (replace_anchor(current, next)) return current.reserved;
            backoff.pause();
        }
    }
    // Reserves `count` places (all or none): false when they are not free.
    bool reserve(std::uint32_t count) noexcept {
        return replace_reserved([count](const anchor_state& a) {
                   const bool room = (a.back - a.front) + a.reserved + count <= Capacity && a.reserved + count <= max_reserved;
                   return room ? a.reserved + count : refused;
               }) != refused;
    }
    void unreserve(std::uint32_t count) noexcept {
        replace_reserved([count](const anchor_state& a) { return a.reserved - count; });
    }

    std::size_t push_batch(deque_end end, std::span<const T> items, batch_mode mode, pusher& own) noexcept {
        if (mode == batch_mode::bulk) {
            if (items.empty() || items.size() > Capacity || !reserve(std::uint32_t(items.size()))) return 0;
            for (const T& item : items) (void)install(end, item, own, true);
            return items.size();
        }
        std::size_t pushed = 0;
        while (pushed < items.size() && install(end, items[pushed], own, false)) ++pushed;
        return pushed;
    }

    // One pop, inlined when uncontended: the element is in its cell, or it is the pending push
    // (then in its staging word); anything else goes to the general loop.
    bool pop_one(deque_end end, T& out) noexcept {
        const anchor_state current = load_anchor_for_cas();
        if (current.back != current.front) {
            const std::uint32_t position = end == deque_end::front ? current.front : current.back - 1;
            const bool pending_here = current.pending != 0 &&
                                      ((current.pending & pending_front) != 0 ? current.front : current.back - 1) == position;
            if (current.pending == 0 || pending_here) {
                const std::uint64_t bits = pending_here
                                               ? stage(current.pending & pending_stage_mask).load(std::memory_order_relaxed)
                                               : __atomic_load_n(&cells_[position & index_mask].low, __ATOMIC_RELAXED);
                if (replace_anchor(current, with_removal(current, end, 1))) {  // validates the reads, as in remove()
                    out = from_word_bits<T>(bits);
                    return true;
                }
            }
        }
        return pop_one_contended(end, out);
    }
    // Out of line, so that pop_one stays small enough to be inlined wherever it is called.
    [[gnu::noinline]] bool pop_one_contended(deque_end end, T& out) noexcept {
        T value;
        if (remove(end, &value, 1, batch_mode::bulk) == 0) return false;
        out = value;
        return true;
    }

    std::uint32_t remove(deque_end end, T* out, std::uint32_t wanted, batch_mode mode) noexcept {
        backoff_state backoff;
        for (;;) {
            const anchor_state current = load_anchor();
            const std::uint32_t size = current.back - current.front;
            const std::uint32_t count = size >= wanted ? wanted : (mode == batch_mode::burst ? size : 0);
            if (count == 0) return 0;
            // A pending push that this pop removes needs no cell: its value is in its staging word,
            // which is not rewritten before the anchor moves on (so the CAS below validates the
            // read). Its cell may still be written late; it is then outside [front, back) and the
            // next push there overwrites it. Any other pending push is finished first, as every
            // cell in [front, back) must hold its value before the anchor moves on.
            std::uint32_t pending_position = 0;
            bool pending_taken = false;
            if (current.pending != 0) {
                pending_position = (current.pending & pending_front) != 0 ? current.front : current.back - 1;
                pending_taken = end == deque_end::front ? pending_position - current.front < count
                                                        : current.back - 1 - pending_position < count;
                if (!pending_taken && !complete_pending(current)) continue;
            }
            for (std::uint32_t i = 0; i < count; ++i) {
                const std::uint32_t position = end == deque_end::front ? current.front + i : current.back - 1 - i;
                const std::uint64_t bits =
                    pending_taken && position == pending_position
                        ? stage(current.pending & pending_stage_mask).load(std::memory_order_relaxed)
                        : __atomic_load_n(&cells_[position & index_mask].low, __ATOMIC_RELAXED);
                out[i] = from_word_bits<T>(bits);
            }
            // Success means the anchor did not change since it was read, so neither did any cell
            // in [front, back) nor the pending staging word: the values read above are the ones
            // removed. (The CAS is a full barrier: the reads cannot move past it.)
            if (replace_anchor(current, with_removal(current, end, count))) return count;
            backoff.pause();
        }
    }

    // One cache line per pusher: its owner and two staging words, written only by that pusher.
    struct alignas(64) pusher_entry {
        std::atomic<std::uint32_t> owner{0};
        std::atomic<std::uint64_t> stage[2]{};
    };

    alignas(64) lockfree_wide_word anchor_;
    alignas(64) std::array<lockfree_wide_word, Capacity> cells_{};
    std::array<pusher_entry, MaxPushers> entries_{};
};

}  // namespace vdsokit::detail
