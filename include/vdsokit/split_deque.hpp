// A bounded MPMC double-ended queue of elements of at most 8 bytes whose two ends share no word:
// a producer at the back and a consumer at the front touch different cache lines unless the
// deque is nearly empty or nearly full. For handing items between cores, where vdsokit::deque
// (one anchor word for both ends) pays a cache-line transfer per operation.
//
//   vdsokit::split_deque<T, Capacity>
//
// push_back/push_front/pop_front/pop_back (try-variants: false when full or empty); push_slot
// (claim a place, publish the element when the guard goes); push_multiple/pop_multiple in bulk
// (all or nothing) and burst (as many as fit, or as there are) modes. For streaming between
// cores, producers push through process-local trailing_producers and consumers pop through
// trailing_consumers, which keep each side off the cache lines the other is using (see there).
//
// Design: a circular version of Herlihy, Luchangco and Moir's array deque (ICDCS 2003) whose cells
// carry the position they stand for.
//  - A cell is a 16-byte word {meta, value}; meta = lap (30 bits) | version (29 bits) |
//    elements_reserving | places_reserving | push_front_pending | pop_back_pending | has_data.
//    Cell i stands for position
//    lap * Capacity + i. The version grows with every CAS of the cell (the ABA tag). A push writes
//    both halves with a 16-byte CAS; every other CAS keeps the value and so swaps only the meta
//    half (8 bytes, cheaper): the value never changes without a new version, so an unchanged
//    meta means an unchanged cell.
//  - The ends, front F and back B, are unbounded positions: the deque is [F, B), B - F <= Capacity.
//    Invariant: every cell stands for the one position of its residue in the window
//    [F, F + Capacity), and has data exactly when that position is below B. So one cell read at
//    position x tells whether x < F (it stands for a later lap) and whether x < B; both tests are
//    monotone in x, and an operation finds its end from the cells alone. The two 64-bit end
//    words are only hints (each on its own cache line), written with plain stores.
//  - An operation reads its target cell and the neighbour towards the middle; one CAS of the
//    target is its linearization point (a push writes the value and the new lap in it, a pop
//    moves the cell to the far side of the window). The only thing that can falsify the
//    neighbour condition meanwhile is the opposite operation at the same end, and that one first
//    bumps our target's version (HLM's trick) or flags it:
//      push_back/pop_front, the FIFO direction, take one CAS unless their target is flagged
//      (that path is inlined; everything else is an out-of-line loop);
//      pop_back/push_front first bump the neighbour (flagging it pop_back_pending or
//      push_front_pending), then CAS the target. A flagged target sends push_back/pop_front down
//      the same two-step path, whose bump kills the pending opposite operation.
//  - The last element (pop_front against pop_back) and the last free cell (push_back against
//    push_front) are one cell: one CAS, one winner. Empty and full are reported only from a
//    two-cell snapshot checked stable, so never spuriously (while reservations are in use,
//    reserved places and elements count as taken: see push_slot).
//  - Reservations (push_slot, bulk batches) are a count of places and a count of elements, each
//    in a word of its own that only reservations change: pushes' reservations and pops' share no
//    word. Plain operations read a count only when a cell carries its flag, which a reservation
//    sets on the cells at its end (the back for places, the front for elements) and operations
//    there pass on while the count is not zero. A reservation counts itself, flags the cells
//    (which also makes any operation that read them before fail its CAS; the other end's cells
//    too once push_front, or pop_back, has been used), then checks the cells: full and empty
//    leave reserved places and elements out. The details are at reserve().
//
// Progress: obstruction-free. Alone, an operation finishes in a bounded number of steps (plus a
// walk from a stale hint, at most about 2 * Capacity cells). A push and a pop at the same end can
// keep failing each other's CAS; randomised exponential back-off makes that unlikely, not
// impossible. So can two reservations racing for the last places (elements), each counted
// before the other checked, and, while reservations are held, an operation at each end racing
// for the last unreserved place (element): each bumps the cell the other is about to CAS.
//
// Cost: a push_back+pop_front on one thread is one 16-byte and one 8-byte CAS (about 14 ns on the
// test VM, where Vyukov's queue takes 12). Across cores every element is committed with a locked
// read-modify-write of its cell, the price of a stopped thread blocking nobody; a CAS that waits
// for its line to come from another core stalls everything behind it. So push_back asks for its
// cells a few lines ahead, and a lost CAS waits long enough for the winner to use the line.
// A consumer that keeps up with the producer pops from the line the producer is writing, so each
// of their CASes waits for the other's: trailing_consumer keeps consumers behind. A producer that
// retries a full deque at once reads the line the consumers pop from: trailing_producer keeps
// producers off it.
// scripts/bench-lockfree.sh measures the result against the peers and against a ring whose
// locked commits simply wait.
//
// A thread or process stopped for ever at any instruction (SIGKILL) never blocks the others. In a
// plain operation it costs no capacity: before its target CAS nothing changed but a version
// (others just retry); after it the operation is complete. It loses at most the element it had
// popped. A flag it left costs one later operation the two-step path. Holding reservations (a
// push_slot guard, or inside a bulk batch) it also leaves those reserved, at most one batch:
// those places stay unusable and those elements stay in the deque, unseen, until
// reclaim_leaked_reservations() at a quiescent point; it loses at most the batch it had popped.
//
// Limits: Capacity is a power of two <= 2^30. Versions are 29 bits: a thread stalled between
// reading a cell and its CAS for exactly a multiple of 2^29 changes of that cell could CAS on a
// recycled word. Cells are read as two 8-byte atomic loads and written with a 16-byte CAS (or an
// 8-byte one of the meta half); a torn read can only make the CAS fail.
//
// Needs a 16-byte compare-and-swap (x86-64, aarch64). Freestanding: no heap, exceptions, RTTI,
// thread-locals or libc.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include <vdsokit/detail/backoff.hpp>
#include <vdsokit/detail/deque_common.hpp>
#include <vdsokit/detail/lockfree_primitives.hpp>
#include <vdsokit/fingerprint.hpp>

namespace vdsokit::detail {

// The steps of each operation, where tests can stop a thread for ever (see StepHook).
enum class split_step : int {
    push_back_located, push_back_bumped, push_back_done,
    push_front_located, push_front_bumped, push_front_done,
    pop_back_located, pop_back_bumped, pop_back_done,
    pop_front_located, pop_front_bumped, pop_front_done,
    push_back_full_check, push_front_full_check, pop_back_empty_check, pop_front_empty_check,
    // A reservation (push_slot, bulk batches): counted, then the end cells flagged, then verified.
    reserve_counted, reserve_flagged,
    count
};

struct no_step_hook {
    static void at(split_step) noexcept {}
};

template <class T, std::uint32_t Capacity, class StepHook>
class basic_split_deque {
    static_assert(std::is_trivially_copyable_v<T> && std::is_default_constructible_v<T> && sizeof(T) <= 8,
                  "vdsokit: split_deque<T> holds trivially copyable elements of at most 8 bytes in its "
                  "cells; use vdsokit::deque for larger ones.");
    static_assert(Capacity >= 2 && (Capacity & (Capacity - 1)) == 0 && Capacity <= (1u << 30),
                  "vdsokit: split_deque capacity must be a power of two between 2 and 2^30.");
    static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "vdsokit: split_deque needs lock-free 64-bit atomics.");

public:
    using value_type = T;
    static constexpr std::uint32_t capacity() noexcept { return Capacity; }

    constexpr basic_split_deque() noexcept = default;
    basic_split_deque(const basic_split_deque&) = delete;
    basic_split_deque& operator=(const basic_split_deque&) = delete;

    // Always inlined, like pop_front: called from the batches too, GCC stopped inlining it in a
    // program that uses them all (0.3 ns a push+pop).
    [[nodiscard, gnu::always_inline]] bool push_back(const T& value) noexcept {
        // Uncontended: the hint is B and nothing is flagged. The same reads and CAS as the
        // general loop (push_back_contended), which takes every other case.
        const std::uint64_t back = back_hint_.load(std::memory_order_relaxed);
        // The cells ahead were last written by consumers, a lap ago. A CAS that waits for such a
        // line to arrive stalls everything behind it; asking for it four lines early, once per
        // line, overlaps the transfer with these pushes (1P1C on the test VM: 19 -> 41 M items/s
        // when a line takes 200 ns between cores, no change when it takes 30 or on one thread).
        if constexpr (Capacity >= 4 * prefetch_distance)
            if (back % cells_per_line == 0) prefetch_for_write(&cell(back + prefetch_distance));
        const cell_snapshot target = load(back);
        // A places_reserving flag on either cell sends the push down the general loop, which reads
        // the count of reserved places.
        if ((target.meta & (lap_bits | has_data | pop_back_pending | places_reserving)) == lap_field(back)) {
            const std::uint64_t below = load_meta(back - 1) & (lap_bits | has_data | places_reserving);
            if (below == lap_field(back - 1 + Capacity) || below == (lap_field(back - 1) | has_data)) {
                StepHook::at(split_step::push_back_located);
                if (replace(back, target,
                            {meta_for(back, target.meta, has_data, push_front_pending | elements_reserving), to_word_bits(value)})) {
                    StepHook::at(split_step::push_back_done);
                    back_hint_.store(back + 1, std::memory_order_relaxed);
                    return true;
                }
            }
        }
        return push_back_contended(back, value, false);
    }

    [[nodiscard]] bool pop_back(T& out) noexcept { return pop_back_for(out, false); }
    [[nodiscard]] bool push_front(const T& value) noexcept { return push_front_for(value, false); }
    [[nodiscard, gnu::always_inline]] bool pop_front(T& out) noexcept {
        return pop_front_from(front_hint_.load(std::memory_order_relaxed), out);
    }

    // Reservations. push_slot and bulk batches first reserve their places (or elements), then
    // push (or pop) them one at a time with the plain operations' CASes. A reserved place is one
    // no other push may take, a reserved element one no other pop may take: while reservations
    // are in use, "full" means no place that is neither taken nor counted by a reservation, and
    // "empty" no element that is not counted by one. A reservation is counted from just before
    // it checks the cells (one that then fails is counted for that moment), and a bulk batch
    // gives its count back when it ends, so the places (elements) it has used count twice until
    // then. A granted reservation never fails.
    //
    // Claims a place to fill; the element is pushed at `end` when the guard is released
    // (publish() or destruction), and cancel() gives the place back. An empty guard when full.
    // The value is filled in the guard (elements are at most 8 bytes: a cell holds the value
    // itself, so filling in place would need a WRITING state that a stopped process leaves behind).
    class push_slot_guard {
    public:
        push_slot_guard() noexcept = default;
        push_slot_guard(push_slot_guard&& other) noexcept { take(other); }
        push_slot_guard& operator=(push_slot_guard&& other) noexcept {
            if (this != &other) {
                (void)publish();
                take(other);
            }
            return *this;
        }
        ~push_slot_guard() { (void)publish(); }

        explicit operator bool() const noexcept { return deque_ != nullptr; }
        [[nodiscard]] T& value() noexcept { return value_; }
        T* operator->() noexcept { return &value_; }

        // True when pushed (always, unless reclaim_leaked_reservations() took the place away,
        // which is a misuse); false for an empty guard.
        bool publish() noexcept {
            if (deque_ == nullptr) return false;
            const bool pushed = deque_->push_reserved(end_, value_);
            deque_->release(reserved_kind::places, 1);
            deque_ = nullptr;
            return pushed;
        }
        void cancel() noexcept {
            if (deque_ == nullptr) return;
            deque_->release(reserved_kind::places, 1);
            deque_ = nullptr;
        }

    private:
        friend class basic_split_deque;
        push_slot_guard(basic_split_deque* deque, deque_end end) noexcept : deque_(deque), end_(end) {}
        void take(push_slot_guard& other) noexcept {
            deque_ = other.deque_, end_ = other.end_, value_ = other.value_;
            other.deque_ = nullptr;
        }
        basic_split_deque* deque_ = nullptr;  // process-local: a guard lives on a stack, never in shared memory
        deque_end end_ = deque_end::back;
        T value_{};
    };
    [[nodiscard]] push_slot_guard push_slot(deque_end end) noexcept {
        if (!reserve(reserved_kind::places, 1)) return {};
        return push_slot_guard(this, end);
    }

    // The most elements one batch takes: a whole deque.
    static constexpr std::size_t max_batch = Capacity;

    // Pushes items in order at `end` (at the front the last item ends up first, as with repeated
    // push_front). bulk: all of them or none, as their places are reserved first; each element
    // becomes visible on its own. burst: as many as fit.
    std::size_t push_multiple(deque_end end, std::span<const T> items, batch_mode mode) noexcept {
        if (mode == batch_mode::burst) return push_burst(end, items);
        if (items.empty() || items.size() > max_batch || !reserve(reserved_kind::places, std::uint32_t(items.size()))) return 0;
        // The places are given back together at the end (one write of the count instead of one
        // per element): until then those already filled count twice.
        std::size_t pushed = 0;
        while (pushed < items.size() && push_reserved(end, items[pushed])) ++pushed;
        release(reserved_kind::places, std::uint32_t(items.size()));
        return pushed;  // items.size(), unless reclaim_leaked_reservations() took the places away
    }
    // Pops up to out.size() elements from `end`, nearest the end first. bulk: out.size() or none,
    // as the elements are reserved first; they are then taken one at a time, so pops by others
    // at the same end may interleave with them. burst: as many as there are.
    std::size_t pop_multiple(deque_end end, std::span<T> out, batch_mode mode) noexcept {
        if (mode == batch_mode::burst) return pop_burst(end, out);
        if (out.empty() || out.size() > max_batch || !reserve(reserved_kind::elements, std::uint32_t(out.size()))) return 0;
        // The elements are there, in lines a producer wrote: ask for all of those lines at once
        // rather than one after another (see push_reserved).
        if (end == deque_end::front) prefetch_lines(front_hint_.load(std::memory_order_relaxed), out.size());
        else prefetch_lines(back_hint_.load(std::memory_order_relaxed) - out.size(), out.size());
        std::size_t popped = 0;
        while (popped < out.size() &&
               (end == deque_end::back ? pop_back_for(out[popped], true)
                                       : pop_front_contended(front_hint_.load(std::memory_order_relaxed), out[popped], true)))
            ++popped;
        release(reserved_kind::elements, std::uint32_t(out.size()));
        return popped;
    }

    // Places and elements reserved right now.
    [[nodiscard]] std::uint32_t reserved_places() const noexcept { return count_in(reserved_places_.load(std::memory_order_acquire)); }
    [[nodiscard]] std::uint32_t reserved_elements() const noexcept { return count_in(reserved_elements_.load(std::memory_order_acquire)); }
    // A process that dies holding reservations (a push_slot guard, or inside a bulk batch) leaves
    // them reserved: the only capacity a death can cost. Call this only at a quiescent point,
    // when no push_slot guard is held and no batch runs anywhere: it drops every reservation.
    void reclaim_leaked_reservations() noexcept {
        reserved_places_.fetch_and(far_end_in_use, std::memory_order_seq_cst);
        reserved_elements_.fetch_and(far_end_in_use, std::memory_order_seq_cst);
    }

    // As many as fit (pushes) or as there are (pops), one element at a time, nearest the end
    // first for pops; items pushed at the front end up in reverse order, as with push_front.
    std::size_t push_burst(deque_end end, std::span<const T> items) noexcept {
        std::size_t pushed = 0;
        while (pushed < items.size() &&
               (end == deque_end::back ? push_back(items[pushed]) : push_front(items[pushed])))
            ++pushed;
        return pushed;
    }
    std::size_t pop_burst(deque_end end, std::span<T> out) noexcept {
        std::size_t popped = 0;
        while (popped < out.size() && (end == deque_end::back ? pop_back(out[popped]) : pop_front(out[popped])))
            ++popped;
        return popped;
    }

    // A process-local handle that pushes at the back for streaming to consumers on other cores,
    // the producers' counterpart of trailing_consumer: when the deque is full it stays off the
    // line the consumers are popping from. A producer that retries a full deque at once reads the
    // cell the consumers are about to pop, every time, and each read makes their next CAS wait
    // for the line to come back; consumers slowed that way keep the deque full. So after a push
    // that found the deque full, the next one first waits full_wait_pauses pauses (6.6 us on the
    // test VM), and the consumers pop a stretch of lines undisturbed (1P1C when a line takes
    // 230 ns between the cores, medians of 140 repetitions: 21.6 M items/s with a
    // trailing_consumer alone, 80.6 with both handles).
    //
    // The price is latency: the first push after a refused one waits, whenever it comes. After
    // its wait a push is push_back, so "full" is never spurious. Below 8 lines of cells it is
    // plain push_back. One thread uses a handle at a time.
    class trailing_producer {
    public:
        explicit trailing_producer(basic_split_deque& deque) noexcept : deque_(&deque) {}

        [[nodiscard]] bool push_back(const T& value) noexcept {
            if constexpr (Capacity >= trailing_min_capacity) {
                if (found_full_) [[unlikely]]
                    leave_consumers_alone();
                found_full_ = !deque_->push_back(value);
                return !found_full_;
            } else {
                return deque_->push_back(value);
            }
        }
        // As many as fit, up to items.size(), in order.
        std::size_t push_burst(std::span<const T> items) noexcept {
            std::size_t pushed = 0;
            while (pushed < items.size() && push_back(items[pushed])) ++pushed;
            return pushed;
        }

    private:
        [[gnu::noinline]] static void leave_consumers_alone() noexcept {
            for (std::uint32_t i = 0; i < full_wait_pauses; ++i) cpu_relax();
        }

        basic_split_deque* deque_;  // process-local: a handle lives on a stack, never in shared memory
        bool found_full_ = false;
    };

    // A process-local handle that pops at the front for streaming between cores: it keeps a few
    // dozen cache lines behind producers that are pushing fast, and pops from lines they have
    // left. A pop_front that keeps up with the producer takes each line it pops from while the
    // producer is still writing it, and the producer's next CAS waits for the line to come back;
    // when the cores share a cache that wait, not the CAS, sets the pace (1P1C on the test VM
    // when a line takes 30 ns between its cores: 35 M items/s with pop_front, 100 with this
    // handle, on the host before 2026-11-23 evening; on the current one, medians of 73.4 and
    // 75.5, and 90.5 with trailing_producers too). When a line takes 230 ns the consumer is the
    // slower side and the deque fills: then the producers' retries cost more than the trailing
    // gains, unless they push through trailing_producers (see there).
    //
    // The price is latency while producers stream. A look that finds them less than
    // trail_distance ahead waits for them, at most max_trailing_polls * trailing_poll_pauses
    // pauses (2.4-3.3 us on the test VM, plus a line transfer per poll), and never again for an
    // item that was there when that wait began: an item sits through at most two waits. No wait
    // when the consumer has caught up, when the producers moved less than a cache line of cells
    // since the last look, or for a while after a wait whose first poll saw them move less than
    // that (a thread that pushes and pops itself waits once, then seldom). The back hint only
    // decides how long to wait; the pops are pop_front's, so a wrong hint or a stopped producer
    // only shortens or ends a wait. Below 8 lines of cells it is plain pop_front. One thread uses
    // a handle at a time.
    class trailing_consumer {
    public:
        explicit trailing_consumer(basic_split_deque& deque) noexcept
            : deque_(&deque),
              next_look_at_(deque.front_hint_.load(std::memory_order_relaxed)),
              back_at_last_look_(deque.back_hint_.load(std::memory_order_relaxed)) {}

        [[nodiscard]] bool pop_front(T& out) noexcept {
            if constexpr (Capacity >= trailing_min_capacity) {
                const std::uint64_t front = deque_->front_hint_.load(std::memory_order_relaxed);
                if (!within_deque_ahead(next_look_at_, front)) next_look_at_ = look(front);
                // The lines below left_below_ are ones the producers have left: ask for them early.
                if (front % cells_per_line == 0 && within_deque_ahead(left_below_, front + trailing_prefetch_distance))
                    prefetch_for_write(&deque_->cell(front + trailing_prefetch_distance));
                return deque_->pop_front_from(front, out);
            } else {
                return deque_->pop_front(out);
            }
        }
        // As many as there are, up to out.size(), in order.
        std::size_t pop_burst(std::span<T> out) noexcept {
            std::size_t popped = 0;
            while (popped < out.size() && pop_front(out[popped])) ++popped;
            return popped;
        }

    private:
        // Reads the back hint and returns the position at which to look again.
        std::uint64_t look(std::uint64_t front) noexcept {
            const std::uint64_t back = deque_->back_hint_.load(std::memory_order_relaxed);
            const std::int64_t moved = std::int64_t(back - back_at_last_look_);
            back_at_last_look_ = back;
            if (producers_far_enough(back, front)) return left_below_ = trailing_limit(back);
            // For a while after a wait they did not use (they push only when we pop, as on one
            // thread): no waiting, and looks only every trail_distance pops.
            if (looks_to_skip_ > 0) {
                --looks_to_skip_;
                return front + (trail_distance > cells_per_line ? trail_distance : cells_per_line);
            }
            // Caught up, producers slower than a line of cells since the last look, or an item
            // that has been waited for already: pops take what there is, or the next line's worth
            // of cells, as pop_front does (polling an empty deque reads the cell only).
            if (std::int64_t(back - front) <= 0 || moved < std::int64_t(cells_per_line) ||
                within_deque_ahead(waited_below_, front))
                return without_waiting(front, back);
            return wait_for_producers(front, back);
        }
        // Producers are streaming and not yet trail_distance ahead: look again every
        // trailing_poll_pauses pauses, until they are, or slow down, or max_trailing_polls passed.
        [[gnu::noinline]] std::uint64_t wait_for_producers(std::uint64_t front, std::uint64_t back) noexcept {
            waited_below_ = back;
            for (std::uint32_t polls = 0; polls < max_trailing_polls; ++polls) {
                for (std::uint32_t i = 0; i < trailing_poll_pauses; ++i) cpu_relax();
                const std::uint64_t now = deque_->back_hint_.load(std::memory_order_relaxed);
                const bool slowed = std::int64_t(now - back) < std::int64_t(cells_per_line);
                back_at_last_look_ = back = now;
                if (producers_far_enough(now, front)) {
                    looks_to_skip_after_idle_wait_ = 1;
                    return left_below_ = trailing_limit(now);
                }
                if (slowed) {
                    if (polls == 0) {  // they did not use the wait: skip the next 1, 2, 4 ... looks
                        looks_to_skip_ = looks_to_skip_after_idle_wait_;
                        if (looks_to_skip_after_idle_wait_ < max_looks_to_skip) looks_to_skip_after_idle_wait_ *= 2;
                    }
                    break;
                }
            }
            return without_waiting(front, back);
        }
        // Whether `mark` is ahead of `position` by at most a whole deque: a mark further away came
        // from wrong hints, or from before the positions wrapped, and means nothing.
        static bool within_deque_ahead(std::uint64_t mark, std::uint64_t position) noexcept {
            const std::uint64_t ahead = mark - position;
            return ahead != 0 && ahead <= Capacity;
        }
        static std::uint64_t without_waiting(std::uint64_t front, std::uint64_t back) noexcept {
            return std::int64_t(back - front) > std::int64_t(cells_per_line) ? back : front + cells_per_line;
        }
        static std::uint64_t trailing_limit(std::uint64_t back) noexcept {
            return (back - trail_distance) & ~(cells_per_line - 1);
        }
        static bool producers_far_enough(std::uint64_t back, std::uint64_t front) noexcept {
            return std::int64_t(trailing_limit(back) - front) > 0;
        }

        basic_split_deque* deque_;          // process-local: a handle lives on a stack, never in shared memory
        std::uint64_t next_look_at_;        // pops below this position need no look at the back hint
        std::uint64_t back_at_last_look_;
        std::uint64_t left_below_ = 0;      // the producers have left the lines below this position
        std::uint64_t waited_below_ = 0;    // items below this position have been waited for
        std::uint32_t looks_to_skip_ = 0, looks_to_skip_after_idle_wait_ = 1;
    };

    // Snapshots: exact when nothing else runs (found from the cells, whatever the hints say).
    [[nodiscard]] std::uint32_t size() const noexcept {
        std::uint64_t front = front_hint_.load(std::memory_order_relaxed);
        std::uint64_t back = back_hint_.load(std::memory_order_relaxed);
        cell_snapshot below, at;
        find_front(front, below, at);
        find_back(back, below, at);
        // Cells carry the lap modulo 2^30, so positions are only meaningful modulo Capacity * 2^30.
        return std::uint32_t((back - front) & ((std::uint64_t(Capacity) << 30) - 1));
    }
    [[nodiscard]] bool empty() const noexcept { return size() == 0; }

    // Tests only: the end words are hints, and any value must still work.
    void scramble_hints_for_testing(std::uint64_t front, std::uint64_t back) noexcept {
        front_hint_.store(front, std::memory_order_relaxed);
        back_hint_.store(back, std::memory_order_relaxed);
    }
    void scramble_back_hint_for_testing(std::uint64_t back) noexcept { back_hint_.store(back, std::memory_order_relaxed); }

    static constexpr std::uint64_t vdsokit_layout_fingerprint() noexcept {
        return fingerprint_builder{}
            .add("vdsokit::split_deque/3")
            .add(layout_fingerprint<T>)
            .add(Capacity)
            .add(sizeof(basic_split_deque))
            .add(alignof(basic_split_deque))
            .value();
    }

private:
    struct cell_snapshot {
        std::uint64_t meta, value;
    };

    // pop_front from the hint `front` (the trailing consumer passes the one it has read).
    // Uncontended: the hint is F and nothing is flagged. The same reads and CAS as the general
    // loop (pop_front_contended), and an empty deque is reported from the same stable two-cell
    // snapshot.
    [[gnu::always_inline]] bool pop_front_from(std::uint64_t front, T& out) noexcept {
        const std::uint64_t meta = load_meta(front);
        if ((meta & (lap_bits | has_data | push_front_pending | elements_reserving)) == (lap_field(front) | has_data)) {
            const std::uint64_t value = load_value(front);
            if ((load_meta(front - 1) & (lap_bits | elements_reserving)) == lap_field(front - 1 + Capacity)) {
                StepHook::at(split_step::pop_front_located);
                // The cell moves to the far side of the window; pop_back_pending and
                // places_reserving stay.
                if (replace_meta(front, meta, meta_for(front + Capacity, meta, 0, pop_back_pending | places_reserving))) {
                    StepHook::at(split_step::pop_front_done);
                    front_hint_.store(front + 1, std::memory_order_relaxed);
                    out = from_word_bits<T>(value);
                    return true;
                }
            }
        } else if ((meta & (lap_bits | has_data)) == lap_field(front)) {
            // Empty if C(front-1) is popped and C(front) has not changed meanwhile. Polling an
            // empty deque reads three words and writes none: these cells are the ones the next
            // push writes, so a consumer waiting here must not take them away from it.
            StepHook::at(split_step::pop_front_empty_check);
            if ((load_meta(front - 1) & lap_bits) == lap_field(front - 1 + Capacity) && load_meta(front) == meta)
                return false;
        }
        return pop_front_contended(front, out, false);
    }

    // pop_back and push_front: always the general loop (two CASes). `holds_reservation`: the
    // caller reserved the element (place) this takes, so the others' reservations do not concern it.
    bool pop_back_for(T& out, bool holds_reservation) noexcept {
        note_far_end_in_use(reserved_elements_);
        std::uint64_t back = back_hint_.load(std::memory_order_relaxed);
        randomized_backoff backoff;
        for (;;) {
            cell_snapshot neighbour, target;  // here the target is C(back-1), the neighbour C(back)
            find_back(back, target, neighbour);
            if (!(target.meta & has_data) || lap_distance(target.meta, back - 1) != 0) {  // empty?
                StepHook::at(split_step::pop_back_empty_check);
                if (load_meta(back) == neighbour.meta && !(target.meta & has_data) &&
                    lap_distance(target.meta, back - 1) == 1)
                    return false;
                backoff.pause();
                continue;
            }
            // Reads both counts (places: it moves the back; elements: its claim) and writes both flags.
            const std::uint64_t elements = reserved_elements_.load(std::memory_order_acquire);
            const std::uint64_t flag = reserving_flags(reserved_places_.load(std::memory_order_acquire), elements);
            if (!holds_reservation && count_in(elements) != 0) {  // C(back-1-reserved) must hold an element too
                const boundary_claim claim = claim_boundary(reserved_kind::elements, back - 1 - count_in(elements), back - 1,
                                                            target.meta, back, neighbour.meta, elements);
                if (claim == boundary_claim::refused) return false;
                if (claim == boundary_claim::lost) {
                    backoff.pause();
                    continue;
                }
            }
            StepHook::at(split_step::pop_back_located);
            // Bump C(back) and announce this pop on it: a push_back there must kill it first.
            if (!replace_meta(back, neighbour.meta, bumped(neighbour.meta, pop_back_pending | flag))) {
                backoff.pause();
                continue;
            }
            StepHook::at(split_step::pop_back_bumped);
            if (!replace_meta(back - 1, target.meta,
                              meta_for(back - 1, target.meta, 0, pop_back_pending | push_front_pending) | flag)) {
                backoff.pause();
                continue;
            }
            StepHook::at(split_step::pop_back_done);
            back_hint_.store(back - 1, std::memory_order_relaxed);
            out = from_word_bits<T>(target.value);
            return true;
        }
    }

    bool push_front_for(const T& value, bool holds_reservation) noexcept {
        note_far_end_in_use(reserved_places_);
        std::uint64_t front = front_hint_.load(std::memory_order_relaxed);
        randomized_backoff backoff;
        for (;;) {
            cell_snapshot target, neighbour;  // the target is C(front-1), the neighbour C(front)
            find_front(front, target, neighbour);
            if (target.meta & has_data) {  // C(front-1) holds front-1+Capacity: full?
                StepHook::at(split_step::push_front_full_check);
                if (load_meta(front) == neighbour.meta) return false;
                backoff.pause();
                continue;
            }
            // Reads both counts (elements: it moves the front; places: its claim) and writes both flags.
            const std::uint64_t places = reserved_places_.load(std::memory_order_acquire);
            const std::uint64_t flag = reserving_flags(places, reserved_elements_.load(std::memory_order_acquire));
            if (!holds_reservation && count_in(places) != 0) {  // the place reserved-many beyond ours must be free too
                const boundary_claim claim = claim_boundary(reserved_kind::places, front - 1 - count_in(places) + Capacity,
                                                            front - 1, target.meta, front, neighbour.meta, places);
                if (claim == boundary_claim::refused) return false;
                if (claim == boundary_claim::lost) {
                    backoff.pause();
                    continue;
                }
            }
            StepHook::at(split_step::push_front_located);
            // Bump C(front) and announce this push on it: a pop_front there must kill it first.
            if (!replace_meta(front, neighbour.meta, bumped(neighbour.meta, push_front_pending | flag))) {
                backoff.pause();
                continue;
            }
            StepHook::at(split_step::push_front_bumped);
            if (!replace(front - 1, target,
                         {meta_for(front - 1, target.meta, has_data, pop_back_pending | push_front_pending) | flag,
                          to_word_bits(value)})) {
                backoff.pause();
                continue;
            }
            StepHook::at(split_step::push_front_done);
            front_hint_.store(front - 1, std::memory_order_relaxed);
            return true;
        }
    }

    // The general case of push_back and pop_front: any hint, flags, contention, reservations. Out
    // of line so that the uncontended path inlines small.
    [[gnu::noinline]] bool push_back_contended(std::uint64_t back, const T& value, bool holds_reservation) noexcept {
        randomized_backoff backoff;
        for (;;) {
            cell_snapshot neighbour, target;
            find_back(back, neighbour, target);  // target = C(back) read first, then neighbour = C(back-1)
            if (target.meta & has_data) {        // target holds back - Capacity: full?
                StepHook::at(split_step::push_back_full_check);
                if (load_meta(back) == target.meta && lap_distance(target.meta, back) == -1 && (neighbour.meta & has_data))
                    return false;
                backoff.pause();
                continue;
            }
            if (lap_distance(target.meta, back) != 0) {  // inconsistent read
                backoff.pause();
                continue;
            }
            // It reads (and passes on) only the places' flag, and keeps the elements' one.
            const std::uint64_t places = reserved_places_.load(std::memory_order_acquire);
            const std::uint64_t flag = count_in(places) != 0 ? places_reserving : 0;
            if (!holds_reservation && count_in(places) != 0) {  // the place reserved-many beyond ours must be free too
                const boundary_claim claim = claim_boundary(reserved_kind::places, back + count_in(places), back, target.meta,
                                                            back - 1, neighbour.meta, places);
                if (claim == boundary_claim::refused) return false;
                if (claim == boundary_claim::lost) {
                    backoff.pause();
                    continue;
                }
            }
            StepHook::at(split_step::push_back_located);
            if (target.meta & pop_back_pending) {  // a pop_back may be pending on C(back-1): kill it
                if (!replace_meta(back - 1, neighbour.meta, bumped(neighbour.meta, flag))) {
                    backoff.pause();
                    continue;
                }
                StepHook::at(split_step::push_back_bumped);
            }
            // Clears pop_back_pending, keeps push_front_pending.
            if (!replace(back, target,
                         {meta_for(back, target.meta, has_data, push_front_pending | elements_reserving) | flag,
                          to_word_bits(value)})) {
                backoff.pause();
                continue;
            }
            StepHook::at(split_step::push_back_done);
            back_hint_.store(back + 1, std::memory_order_relaxed);
            return true;
        }
    }

    [[gnu::noinline]] bool pop_front_contended(std::uint64_t front, T& out, bool holds_reservation) noexcept {
        randomized_backoff backoff;
        for (;;) {
            cell_snapshot neighbour, target;  // the target is C(front), the neighbour C(front-1)
            find_front(front, neighbour, target);
            if (!(target.meta & has_data)) {  // C(front) empty: empty?
                StepHook::at(split_step::pop_front_empty_check);
                if (load_meta(front) == target.meta) return false;
                backoff.pause();
                continue;
            }
            // It reads (and passes on) only the elements' flag, and keeps the places' one.
            const std::uint64_t elements = reserved_elements_.load(std::memory_order_acquire);
            const std::uint64_t flag = count_in(elements) != 0 ? elements_reserving : 0;
            if (!holds_reservation && count_in(elements) != 0) {  // C(front+reserved) must hold an element too
                const boundary_claim claim = claim_boundary(reserved_kind::elements, front + count_in(elements), front,
                                                            target.meta, front - 1, neighbour.meta, elements);
                if (claim == boundary_claim::refused) return false;
                if (claim == boundary_claim::lost) {
                    backoff.pause();
                    continue;
                }
            }
            StepHook::at(split_step::pop_front_located);
            if (target.meta & push_front_pending) {  // a push_front may be pending on C(front-1): kill it
                if (!replace_meta(front - 1, neighbour.meta, bumped(neighbour.meta, flag))) {
                    backoff.pause();
                    continue;
                }
                StepHook::at(split_step::pop_front_bumped);
            }
            // The cell moves to the far side of the window; clears push_front_pending.
            if (!replace_meta(front, target.meta,
                              meta_for(front + Capacity, target.meta, 0, pop_back_pending | places_reserving) | flag)) {
                backoff.pause();
                continue;
            }
            StepHook::at(split_step::pop_front_done);
            front_hint_.store(front + 1, std::memory_order_relaxed);
            out = from_word_bits<T>(target.value);
            return true;
        }
    }

    // Reservations: reserved places and reserved elements are counted in two words, each on its
    // own cache line. Places matter only to pushes, elements only to pops, so in FIFO use (pushes
    // at the back, pops at the front) producers' reservations and consumers' ones share no line.
    // Only reservations change a count. Bit 63 of each word records for good that its far end is
    // in use: the places word's once any push_front has run, the elements word's once any
    // pop_back has (see below).
    //
    // Why the inlined paths need not read the counts: each count has a flag bit in the cells,
    // places_reserving at the back (push_back reads it) and elements_reserving at the front
    // (pop_front reads it). A reservation sets it on the two cells of its near end (the back for
    // places, the front for elements). Every operation that moves an end reads the count of that
    // end's flag and writes the flag into the cells it CASes when the count is not zero, clearing
    // it otherwise: push_back and pop_back (the back) read places, pop_front and push_front (the
    // front) read elements. A CAS that did not read a count keeps that count's flag as it was, and
    // a bump only adds flags. So while a count is not zero, a cell its end was last moved through
    // carries its flag, and the next push_back (pop_front) there takes the general loop. A flag
    // left over after the count went back to zero costs one later operation that loop.
    //
    // Why a count is never overcommitted: a reservation adds itself to the count, then bumps (and
    // flags) the cells the operations it concerns are about to CAS, then checks from the cells
    // that the places (elements) are there for every reservation counted. An operation reads the
    // count after its cells; one that read the cells before the bump fails its CAS, and one that
    // read them after sees the new count. From then on an operation takes its target only if the
    // place (element) `count` beyond it is free (present) too, and bumps that boundary cell first:
    // when only one is left, the boundary is the target of the same operation at the other end,
    // so a push at each end (a pop at each end) cannot both take the last unreserved place
    // (element).
    //   The far end (the front for places, the back for elements) is bumped only once bit 63 says
    // push_front (pop_back) has been used. The first of those sets the bit with a read-modify-write
    // of the word before it reads its cells, and both read the count after their cells: so a
    // reservation counted before that write sees the bit and bumps their cells, and one counted
    // after it is seen by their count read (all writes to one word are in one order).
    enum class reserved_kind { places, elements };
    static constexpr std::uint64_t far_end_in_use = std::uint64_t(1) << 63, count_bits = (std::uint64_t(1) << 32) - 1;
    static std::uint32_t count_in(std::uint64_t word) noexcept { return std::uint32_t(word & count_bits); }
    std::atomic<std::uint64_t>& counted(reserved_kind kind) noexcept {
        return kind == reserved_kind::places ? reserved_places_ : reserved_elements_;
    }
    static constexpr std::uint64_t flag_of(reserved_kind kind) noexcept {
        return kind == reserved_kind::places ? places_reserving : elements_reserving;
    }
    // The flags written by an operation that moves the front or the back and read both counts.
    static std::uint64_t reserving_flags(std::uint64_t places, std::uint64_t elements) noexcept {
        return (count_in(places) != 0 ? places_reserving : 0) | (count_in(elements) != 0 ? elements_reserving : 0);
    }
    static void note_far_end_in_use(std::atomic<std::uint64_t>& word) noexcept {
        if (!(word.load(std::memory_order_relaxed) & far_end_in_use)) word.fetch_or(far_end_in_use, std::memory_order_seq_cst);
    }

    bool reserve(reserved_kind kind, std::uint32_t count) noexcept {
        std::atomic<std::uint64_t>& word = counted(kind);
        randomized_backoff backoff;
        for (;;) {
            std::uint64_t others = word.load(std::memory_order_acquire);
            // Checked before counting too, and counted only onto the count checked (a CAS): so a
            // count never exceeds Capacity.
            if (!available(kind, std::uint64_t(count_in(others)) + count)) {
                if (word.load(std::memory_order_acquire) == others) return false;
                backoff.pause();
                continue;
            }
            if (!word.compare_exchange_strong(others, others + count, std::memory_order_seq_cst, std::memory_order_relaxed))
                continue;
            StepHook::at(split_step::reserve_counted);
            flag_ends(kind, (others & far_end_in_use) != 0);
            StepHook::at(split_step::reserve_flagged);
            if (available(kind, count_in(word.load(std::memory_order_acquire)))) return true;
            // Others reserved meanwhile, or took the room before they saw us: give it back and
            // look again.
            word.fetch_sub(count, std::memory_order_seq_cst);
            backoff.pause();
        }
    }
    void release(reserved_kind kind, std::uint32_t count) noexcept {
        counted(kind).fetch_sub(count, std::memory_order_seq_cst);
    }
    // Whether, in one snapshot of the cells, `total` places are free (elements are present).
    bool available(reserved_kind kind, std::uint64_t total) const noexcept {
        if (total == 0) return true;
        if (total > Capacity) return false;
        for (;;) {
            cell_snapshot below, at;
            if (kind == reserved_kind::places) {
                std::uint64_t back = back_hint_.load(std::memory_order_relaxed);
                find_back(back, below, at);
                const std::uint64_t last = back + total - 1, meta = load_meta(last);
                if (load_meta(back) == at.meta && load_meta(back - 1) == below.meta)
                    return lap_distance(meta, last) == 0 && !(meta & has_data);
            } else {
                std::uint64_t front = front_hint_.load(std::memory_order_relaxed);
                find_front(front, below, at);
                const std::uint64_t last = front + total - 1, meta = load_meta(last);
                if (load_meta(front) == at.meta && load_meta(front - 1) == below.meta)
                    return lap_distance(meta, last) == 0 && (meta & has_data);
            }
        }
    }
    // Bumps and flags C(B-1) and C(B) for places, C(F-1) and C(F) for elements, and with
    // `far_end_too` the other end's pair, each pair as found together (once when the deque is
    // empty and the pairs are the same cells, unchanged since).
    void flag_ends(reserved_kind kind, bool far_end_too) noexcept {
        const std::uint64_t flag = flag_of(kind);
        randomized_backoff backoff;
        std::uint64_t back = back_hint_.load(std::memory_order_relaxed);
        cell_snapshot back_below{}, back_at{};
        const bool flag_back = kind == reserved_kind::places || far_end_too;
        while (flag_back) {
            find_back(back, back_below, back_at);
            const std::uint64_t at_flagged = bumped(back_at.meta, flag), below_flagged = bumped(back_below.meta, flag);
            if (replace_meta(back, back_at.meta, at_flagged) && replace_meta(back - 1, back_below.meta, below_flagged)) {
                back_at.meta = at_flagged, back_below.meta = below_flagged;
                break;
            }
            backoff.pause();
        }
        if (kind == reserved_kind::places && !far_end_too) return;
        for (std::uint64_t front = front_hint_.load(std::memory_order_relaxed);; backoff.pause()) {
            cell_snapshot below, at;
            find_front(front, below, at);
            if (flag_back && front == back && at.meta == back_at.meta && below.meta == back_below.meta) break;
            if (replace_meta(front, at.meta, bumped(at.meta, flag)) && replace_meta(front - 1, below.meta, bumped(below.meta, flag)))
                break;
        }
    }

    // An operation that found others' reservations of `kind` takes its target only if the
    // boundary cell, `count` beyond it, also has a free place (places) or an element: it bumps
    // it, or reports refused when the boundary, its target and neighbour (which fix the end) and
    // the count word (`word`, as read) are unchanged around that read. When Capacity - 1 are
    // reserved and the deque is empty (pushes) or full (pops), the boundary is the neighbour: it
    // is bumped as read, and `neighbour_meta` follows.
    enum class boundary_claim { claimed, lost, refused };
    boundary_claim claim_boundary(reserved_kind kind, std::uint64_t boundary, std::uint64_t target, std::uint64_t target_meta,
                                  std::uint64_t neighbour, std::uint64_t& neighbour_meta, std::uint64_t word) noexcept {
        const bool is_neighbour = ((boundary ^ neighbour) & (Capacity - 1)) == 0;
        const std::uint64_t meta = is_neighbour ? neighbour_meta : load_meta(boundary);
        if (lap_distance(meta, boundary) == 0 && bool(meta & has_data) == (kind == reserved_kind::elements)) {
            if (!replace_meta(boundary, meta, bumped(meta, flag_of(kind)))) return boundary_claim::lost;
            if (is_neighbour) neighbour_meta = bumped(meta, flag_of(kind));
            return boundary_claim::claimed;
        }
        if (load_meta(target) == target_meta && load_meta(neighbour) == neighbour_meta &&
            counted(kind).load(std::memory_order_acquire) == word)
            return boundary_claim::refused;
        return boundary_claim::lost;
    }
    // A push into a place the caller reserved. At the back it asks for its cells ahead as
    // push_back does. With pop_multiple's requests, 1P1C bulk batches of 8 on the test VM went
    // from 3.5 to 6-7 M items/s when a line takes 200 ns between the cores.
    bool push_reserved(deque_end end, const T& value) noexcept {
        if (end == deque_end::front) return push_front_for(value, true);
        const std::uint64_t back = back_hint_.load(std::memory_order_relaxed);
        if constexpr (Capacity >= 4 * prefetch_distance)
            if (back % cells_per_line == 0) prefetch_for_write(&cell(back + prefetch_distance));
        return push_back_contended(back, value, true);
    }
    // Asks for the lines of cells [first, first + count) for writing.
    void prefetch_lines(std::uint64_t first, std::size_t count) noexcept {
        const std::uint64_t lines = (first % cells_per_line + count + cells_per_line - 1) / cells_per_line;
        for (std::uint64_t line = 0; line < lines; ++line) prefetch_for_write(&cell(first + line * cells_per_line));
    }

    // meta: lap (bits 34..63) | version (bits 5..33) | elements_reserving | places_reserving |
    // push_front_pending | pop_back_pending | has_data
    static constexpr std::uint64_t has_data = 1, pop_back_pending = 2, push_front_pending = 4, places_reserving = 8,
                                   elements_reserving = 16;
    static constexpr unsigned version_shift = 5, lap_shift = 34;
    static constexpr std::uint64_t version_mask = ((std::uint64_t(1) << 29) - 1) << version_shift;
    static constexpr std::uint64_t lap_mask = (std::uint64_t(1) << 30) - 1;
    static constexpr unsigned capacity_log2 = __builtin_ctz(Capacity);
    // How far ahead push_back asks for its cells: four cache lines, and at most a quarter of the
    // ring, so that it does not take lines from the consumers of a small deque.
    static constexpr std::uint64_t cells_per_line = 64 / sizeof(lockfree_wide_word);
    static constexpr std::uint64_t prefetch_distance = 4 * cells_per_line;
    // trailing_consumer: how far behind streaming producers it stays (32 lines, or an eighth of a
    // smaller deque), how long it waits for them (32 pauses, 0.6-0.8 us on the test VM, between
    // polls of the back hint: every poll costs the producer a line transfer), how far ahead within
    // the lines they have left it asks for its cells (8 lines), and how many looks it skips at most
    // after waits they did not use. Smaller deques have no room to trail in.
    static constexpr std::uint64_t trail_distance = Capacity >= 1024 ? 128 : Capacity / 8;
    static constexpr std::uint32_t trailing_poll_pauses = 32, max_trailing_polls = 4, max_looks_to_skip = 1024;
    static constexpr std::uint64_t trailing_prefetch_distance = 8 * cells_per_line;
    static constexpr std::uint32_t trailing_min_capacity = 8 * cells_per_line;
    // trailing_producer: how long it leaves the consumers alone after finding the deque full
    // (64 and 1024 pauses were no faster at 1P1C than 256, measured in separate series).
    static constexpr std::uint32_t full_wait_pauses = 256;

    lockfree_wide_word& cell(std::uint64_t position) noexcept { return cells_[position & (Capacity - 1)]; }
    const lockfree_wide_word& cell(std::uint64_t position) const noexcept { return cells_[position & (Capacity - 1)]; }
    cell_snapshot load(std::uint64_t position) const noexcept {
        const lockfree_wide_word& word = cell(position);
        const std::uint64_t meta = __atomic_load_n(&word.low, __ATOMIC_ACQUIRE);
        return {meta, __atomic_load_n(&word.high, __ATOMIC_ACQUIRE)};
    }
    std::uint64_t load_meta(std::uint64_t position) const noexcept {
        return __atomic_load_n(&cell(position).low, __ATOMIC_ACQUIRE);
    }
    std::uint64_t load_value(std::uint64_t position) const noexcept {
        return __atomic_load_n(&cell(position).high, __ATOMIC_ACQUIRE);
    }
    // A push: both halves.
    bool replace(std::uint64_t position, cell_snapshot expected, cell_snapshot desired) noexcept {
        return compare_exchange_wide(cell(position), {expected.meta, expected.value}, {desired.meta, desired.value});
    }
    // Anything that keeps the value (a pop, a bump): the meta half only. Its version changes with
    // every CAS of either width, so an unchanged meta means an unchanged value. x86-64 and
    // aarch64 keep an 8-byte and a 16-byte atomic read-modify-write of the same bytes atomic
    // with respect to each other.
    bool replace_meta(std::uint64_t position, std::uint64_t expected, std::uint64_t desired) noexcept {
        return __atomic_compare_exchange_n(&cell(position).low, &expected, desired, false, __ATOMIC_SEQ_CST,
                                           __ATOMIC_RELAXED);
    }

    static std::uint64_t lap_of(std::uint64_t position) noexcept { return (position >> capacity_log2) & lap_mask; }
    static constexpr std::uint64_t lap_bits = lap_mask << lap_shift;
    static std::uint64_t lap_field(std::uint64_t position) noexcept { return lap_of(position) << lap_shift; }
    // Laps from `position` to the position the cell stands for (30-bit wrapping, signed).
    static std::int32_t lap_distance(std::uint64_t meta, std::uint64_t position) noexcept {
        const std::uint32_t distance = std::uint32_t((meta >> lap_shift) - lap_of(position)) << 2;
        return std::int32_t(distance) >> 2;
    }
    static std::uint64_t next_version(std::uint64_t meta) noexcept {
        return (meta + (std::uint64_t(1) << version_shift)) & version_mask;
    }
    // The same content, a new version, plus the flags `set`.
    static std::uint64_t bumped(std::uint64_t meta, std::uint64_t set) noexcept {
        return (meta & ~version_mask) | next_version(meta) | set;
    }
    // New content standing for `position`: a new version, `data`, and the old flags in `keep`.
    static std::uint64_t meta_for(std::uint64_t position, std::uint64_t old_meta, std::uint64_t data,
                                  std::uint64_t keep) noexcept {
        return (lap_of(position) << lap_shift) | next_version(old_meta) | (old_meta & keep) | data;
    }
    // The position the cell read at `position` stands for (same residue).
    static std::uint64_t stored_position(std::uint64_t meta, std::uint64_t position) noexcept {
        return position + std::uint64_t(std::int64_t(lap_distance(meta, position)) * std::int64_t(Capacity));
    }
    static bool below_back(std::uint64_t position, std::uint64_t meta) noexcept {
        const std::int32_t distance = lap_distance(meta, position);
        return distance > 0 || (distance == 0 && (meta & has_data));
    }

    // Moves `front` to F: the f with f-1 < F <= f. below = C(f-1), at = C(f), `at` read first.
    void find_front(std::uint64_t& front, cell_snapshot& below, cell_snapshot& at) const noexcept {
        for (std::uint32_t steps = 0;; ++steps) {
            if (steps > 2 * Capacity + 16) front = front_hint_.load(std::memory_order_relaxed), steps = 0;
            at = load(front);
            const std::int32_t distance = lap_distance(at.meta, front);
            if (distance > 0) {  // front < F, and F > q - Capacity
                front = stored_position(at.meta, front) - Capacity + 1;
                continue;
            }
            if (distance < 0) {  // F <= q < front
                front = stored_position(at.meta, front);
                continue;
            }
            below = load(front - 1);
            const std::int32_t below_distance = lap_distance(below.meta, front - 1);
            if (below_distance > 0) return;
            front = below_distance < 0 ? stored_position(below.meta, front - 1) : front - 1;  // F <= front-1
        }
    }

    // Moves `back` to B: the b with b-1 < B <= b in the sense of below_back. below = C(b-1),
    // at = C(b), `at` read first.
    void find_back(std::uint64_t& back, cell_snapshot& below, cell_snapshot& at) const noexcept {
        for (std::uint32_t steps = 0;; ++steps) {
            if (steps > 2 * Capacity + 16) back = back_hint_.load(std::memory_order_relaxed), steps = 0;
            at = load(back);
            const std::int32_t distance = lap_distance(at.meta, back);
            const bool data = (at.meta & has_data) != 0;
            if (distance > 0 || (distance == 0 && data)) {  // back < B
                const std::uint64_t stored = stored_position(at.meta, back);
                back = data ? stored + 1 : stored - Capacity + 1;  // data(q): B > q; empty(q): B >= F > q - Capacity
                continue;
            }
            if (distance < 0) {  // q < back, and back >= B
                const std::uint64_t stored = stored_position(at.meta, back);
                if (!data) {  // empty(q): B <= q
                    back = stored;
                    continue;
                }
                if (distance < -1) {  // data(q): B <= q + Capacity
                    back = stored + Capacity;
                    continue;
                }
            }
            below = load(back - 1);
            if (below_back(back - 1, below.meta)) return;
            back -= 1;
        }
    }

    alignas(64) std::atomic<std::uint64_t> front_hint_{0};
    alignas(64) std::atomic<std::uint64_t> back_hint_{0};
    alignas(64) std::atomic<std::uint64_t> reserved_places_{0};
    alignas(64) std::atomic<std::uint64_t> reserved_elements_{0};
    alignas(64) std::array<lockfree_wide_word, Capacity> cells_{};
};

}  // namespace vdsokit::detail

namespace vdsokit {

template <class T, std::uint32_t Capacity>
using split_deque = detail::basic_split_deque<T, Capacity, detail::no_step_hook>;

}  // namespace vdsokit
