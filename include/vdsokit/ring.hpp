// FIFO rings for one-direction queues (submission and completion queues) in shared memory, the
// fast special case of the deque.
//
// `spsc_ring` follows liburing: the producer fills entries behind a *private* tail (claim(), like
// io_uring_get_sqe) and makes a whole batch visible with one store-release of the shared tail
// (submit()); the consumer load-acquires the tail, reads entries in place (peek), and hands a batch
// back with one store-release of the head (advance(n), like io_uring_cq_advance). No CAS, no
// per-entry atomics: the cost per entry is a copy. A consumer that finds an entry it cannot accept
// counts it in dropped() instead of failing the ring (the SQ `dropped` counter). For streaming
// between cores, the consumer goes through a trailing_consumer, which stays behind the producer
// (see there).
//
// `mpmc_ring` is Vyukov's bounded MPMC queue with 64-bit per-cell sequence numbers, for several
// producers or consumers on one direction. Honest caveat, shared with every peer of this design: a
// process that dies between claiming a cell and publishing it stops the ring at that cell forever.
// When processes may die, use vdsokit::deque (a death costs at most the dead one's own slot).
//
// Both are position independent (indices only) and constant-initialisable. The producer and
// consumer handles of spsc_ring are process-local (they live on a stack or in process memory);
// only the ring itself is shared.
//
// Freestanding: no heap, exceptions, RTTI or libc.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include <vdsokit/detail/backoff.hpp>
#include <vdsokit/detail/cpu_relax.hpp>
#include <vdsokit/fingerprint.hpp>

namespace vdsokit {

template <class T, std::uint32_t Capacity>
class spsc_ring {
    static_assert(std::is_trivially_copyable_v<T>,
                  "vdsokit: ring entries cross address spaces byte for byte; T must be trivially copyable.");
    static_assert(Capacity >= 2 && (Capacity & (Capacity - 1)) == 0 && Capacity <= (1u << 31),
                  "vdsokit: ring capacity must be a power of two between 2 and 2^31.");

    // trailing_consumer's policy (declared ahead of the handles that use it): how far behind a
    // streaming producer it stays (the entries that fill 16 lines, or an eighth of a smaller
    // ring), how long it waits for it (32 pauses between polls of the tail, 0.6-0.8 us on the
    // test VM: every poll costs the producer a line transfer), how many looks it skips at most
    // after waits the producer did not use, and how large a ring must be for it to trail at all.
    static constexpr std::uint32_t entries_per_line = sizeof(T) >= 64 ? 1 : std::uint32_t(64 / sizeof(T));
    static constexpr std::uint32_t trail_distance = [] {
        const std::size_t lines_worth = (1024 + sizeof(T) - 1) / sizeof(T), eighth = Capacity / 8;
        const std::size_t distance = lines_worth < eighth ? lines_worth : eighth;
        return std::uint32_t(distance > 0 ? distance : 1);
    }();
    static constexpr std::uint32_t trailing_poll_pauses = 32, max_trailing_polls = 4, max_looks_to_skip = 1024;
    static constexpr bool rings_long_enough_to_trail = std::size_t(Capacity) * sizeof(T) >= 8 * 64;

    struct no_trailing_state {};
    struct trailing_state {
        std::uint32_t tail_at_last_look = 0;
        std::uint32_t waited_below = 0;  // no more waits for entries below this position
        std::uint32_t looks_to_skip = 0, looks_to_skip_after_idle_wait = 1;
    };
    struct trailing_look {
        std::uint32_t visible_tail;
        trailing_state state;
    };

    // The tail moved a line or more since the last look: the producer is streaming. Take the
    // entries up to trail_distance behind it if it is that far ahead; otherwise wait for it, poll
    // by poll, until it is, or slows down, or max_trailing_polls passed.
    [[gnu::noinline]] static trailing_look look_while_streaming(const std::atomic<std::uint32_t>& tail_word,
                                                                std::uint32_t head, std::uint32_t tail,
                                                                trailing_state state) noexcept {
        state.tail_at_last_look = tail;
        if (far_enough_ahead(tail, head)) return {trailing_limit(tail), state};
        if (state.looks_to_skip > 0) {  // for a while after a wait it did not use: no waiting
            --state.looks_to_skip;
            return {tail, state};
        }
        // (tail is past head here: it moved a line since the last look, which cached no further.)
        const std::uint32_t waited_ahead = state.waited_below - head;
        if (waited_ahead != 0 && waited_ahead <= Capacity) return {tail, state};
        state.waited_below = tail;
        for (std::uint32_t polls = 0; polls < max_trailing_polls; ++polls) {
            for (std::uint32_t i = 0; i < trailing_poll_pauses; ++i) detail::cpu_relax();
            const std::uint32_t now = tail_word.load(std::memory_order_acquire);
            const bool slowed = now - tail < entries_per_line;
            state.tail_at_last_look = tail = now;
            if (far_enough_ahead(now, head)) {
                state.looks_to_skip_after_idle_wait = 1;
                return {trailing_limit(now), state};
            }
            if (slowed) {
                if (polls == 0) {  // it did not use the wait: skip the next 1, 2, 4 ... looks
                    std::uint32_t& next_skip = state.looks_to_skip_after_idle_wait;
                    state.looks_to_skip = next_skip;
                    if (next_skip < max_looks_to_skip) next_skip *= 2;
                }
                break;
            }
        }
        return {tail, state};
    }
    // trail_distance behind the tail, down to a line boundary when entries tile lines.
    static constexpr std::uint32_t trailing_limit(std::uint32_t tail) noexcept {
        const std::uint32_t limit = tail - trail_distance;
        return (64 % sizeof(T) == 0 || sizeof(T) % 64 == 0) ? limit & ~(entries_per_line - 1) : limit;
    }
    static constexpr bool far_enough_ahead(std::uint32_t tail, std::uint32_t head) noexcept {
        return std::int32_t(trailing_limit(tail) - head) > 0;
    }

public:
    static constexpr std::uint32_t capacity() noexcept { return Capacity; }

    constexpr spsc_ring() noexcept = default;
    spsc_ring(const spsc_ring&) = delete;
    spsc_ring& operator=(const spsc_ring&) = delete;

    // The single producer's view. Entries claimed or pushed are invisible until submit().
    class producer {
    public:
        explicit producer(spsc_ring& ring) noexcept
            : ring_(&ring), tail_(ring.tail_.load(std::memory_order_relaxed)),
              cached_head_(ring.head_.load(std::memory_order_acquire)) {}

        // An entry to fill in place, or nullptr when full.
        [[nodiscard]] T* claim() noexcept {
            if (tail_ - cached_head_ == Capacity) {
                cached_head_ = ring_->head_.load(std::memory_order_acquire);
                if (tail_ - cached_head_ == Capacity) return nullptr;
            }
            return &ring_->entries_[tail_++ & mask];
        }
        [[nodiscard]] bool push(const T& value) noexcept {
            T* entry = claim();
            if (entry == nullptr) return false;
            *entry = value;
            return true;
        }
        // As many as fit; returns how many were copied (still to be submitted).
        std::size_t push_burst(std::span<const T> values) noexcept {
            std::size_t room = Capacity - (tail_ - cached_head_);
            if (room < values.size()) {
                cached_head_ = ring_->head_.load(std::memory_order_acquire);
                room = Capacity - (tail_ - cached_head_);
            }
            const std::size_t count = room < values.size() ? room : values.size();
            for (std::size_t i = 0; i < count; ++i) ring_->entries_[(tail_ + i) & mask] = values[i];
            tail_ += std::uint32_t(count);
            return count;
        }
        // Publishes everything claimed so far with one store-release; returns how many.
        std::uint32_t submit() noexcept {
            ring_->tail_.store(tail_, std::memory_order_release);
            const std::uint32_t count = tail_ - published_;
            published_ = tail_;
            return count;
        }
        [[nodiscard]] std::uint32_t unsubmitted() const noexcept { return tail_ - published_; }

    private:
        spsc_ring* ring_;
        std::uint32_t tail_;
        std::uint32_t published_ = tail_;  // kept here: submit() never reads the line the consumer polls
        std::uint32_t cached_head_;
    };

    // The single consumer's view; trailing_consumer is the same for streaming between cores.
    template <bool Trailing>
    class basic_consumer;
    using consumer = basic_consumer<false>;
    // A consumer that keeps about 16 cache lines behind a producer that is streaming, and
    // reads lines the producer has left. A consumer that keeps up reads each line while the
    // producer is still writing it, and each write then waits for the line to come back; with
    // the shared tail it polls, that is two line transfers per entry. 1P1C on the test VM
    // (scripts/bench-lockfree.sh 10 spsc), median M entries/s: when a line takes ~230 ns between
    // the cores, 52 with the plain consumer and 106 with this one (boost's spsc_queue 32); at
    // ~45 ns, 318 and 350 (boost 67). This one was never slower than boost; the plain one was.
    //
    // The price is latency while the producer streams. A look at the tail that finds it less
    // than trail_distance ahead waits for it, at most max_trailing_polls * trailing_poll_pauses
    // pauses (2.4-3.3 us on the test VM, plus a line transfer per poll), and never again for an
    // entry that was there when that wait began. No wait when the tail moved less than a line of
    // entries since the last look (so a ping-pong, or one thread that pushes less than a line
    // between pops, never waits), or for a while after a wait whose first poll saw it move less
    // than that. A stopped producer only ends a wait. A ring of less than 8 lines of entries
    // has no room to trail in: there it is the plain consumer.
    using trailing_consumer = basic_consumer<true>;

    template <bool Trailing>
    class basic_consumer {
    public:
        explicit basic_consumer(spsc_ring& ring) noexcept
            : ring_(&ring), head_(ring.head_.load(std::memory_order_relaxed)),
              cached_tail_(ring.tail_.load(std::memory_order_acquire)) {
            if constexpr (trails) trailing_.tail_at_last_look = trailing_.waited_below = cached_tail_;
        }

        // Entries published and not yet consumed (looks at the shared tail when the cache runs dry).
        [[nodiscard]] std::uint32_t ready() noexcept {
            if (cached_tail_ == head_) look();
            return cached_tail_ - head_;
        }
        // The i-th ready entry, read in place; valid until advance() passes it.
        [[nodiscard]] const T* peek(std::uint32_t i = 0) noexcept {
            if (i >= cached_tail_ - head_) {  // one look at the shared tail, only when the cache falls short
                look();
                if (i >= cached_tail_ - head_) return nullptr;
            }
            return &ring_->entries_[(head_ + i) & mask];
        }
        // Hands `count` entries back to the producer with one store-release.
        void advance(std::uint32_t count) noexcept {
            head_ += count;
            ring_->head_.store(head_, std::memory_order_release);
        }
        [[nodiscard]] bool pop(T& out) noexcept {
            const T* entry = peek();
            if (entry == nullptr) return false;
            out = *entry;
            advance(1);
            return true;
        }
        // Copies out as many as are ready (up to out.size()) and advances once.
        std::size_t pop_burst(std::span<T> out) noexcept {
            if (cached_tail_ - head_ < out.size()) look();
            const std::uint32_t available = cached_tail_ - head_;
            const std::uint32_t count = available < out.size() ? available : std::uint32_t(out.size());
            for (std::uint32_t i = 0; i < count; ++i) out[i] = ring_->entries_[(head_ + i) & mask];
            if (count != 0) advance(count);
            return count;
        }
        // Records an entry the consumer rejected (then advance past it as usual).
        void note_dropped(std::uint32_t count = 1) noexcept {
            ring_->dropped_.fetch_add(count, std::memory_order_relaxed);
        }

    private:
        static constexpr bool trails = Trailing && rings_long_enough_to_trail;

        // Load-acquires the shared tail into the cache. A trailing consumer may take less of it.
        void look() noexcept {
            const std::uint32_t tail = ring_->tail_.load(std::memory_order_acquire);
            if constexpr (trails) {
                if (tail - trailing_.tail_at_last_look >= entries_per_line) [[unlikely]] {
                    // The handle's state goes by value, so that it stays in registers on the fast path.
                    const trailing_look seen = look_while_streaming(ring_->tail_, head_, tail, trailing_);
                    trailing_ = seen.state;
                    if (std::int32_t(seen.visible_tail - cached_tail_) > 0) cached_tail_ = seen.visible_tail;
                    return;
                }
                trailing_.tail_at_last_look = tail;
            }
            cached_tail_ = tail;
        }

        spsc_ring* ring_;
        std::uint32_t head_;
        std::uint32_t cached_tail_;
        [[no_unique_address]] std::conditional_t<trails, trailing_state, no_trailing_state> trailing_;
    };

    [[nodiscard]] std::uint32_t size() const noexcept {
        return tail_.load(std::memory_order_acquire) - head_.load(std::memory_order_acquire);
    }
    [[nodiscard]] std::uint32_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }

    static constexpr std::uint64_t vdsokit_layout_fingerprint() noexcept {
        return fingerprint_builder{}
            .add("vdsokit::spsc_ring/1")
            .add(layout_fingerprint<T>)
            .add(Capacity)
            .add(sizeof(spsc_ring))
            .add(alignof(spsc_ring))
            .value();
    }

private:
    static constexpr std::uint32_t mask = Capacity - 1;
    // Head and tail on their own cache lines: each is written by one side only.
    alignas(64) std::atomic<std::uint32_t> head_{0};
    std::atomic<std::uint32_t> dropped_{0};
    alignas(64) std::atomic<std::uint32_t> tail_{0};
    alignas(64) std::array<T, Capacity> entries_{};
};

// Vyukov's bounded MPMC FIFO: a cell is free for the producer of lap n when its sequence equals
// its position, and ready for the consumer when it equals position + 1. 64-bit positions and
// sequences never wrap in practice, so there is no ABA.
template <class T, std::uint32_t Capacity>
class mpmc_ring {
    static_assert(std::is_trivially_copyable_v<T>,
                  "vdsokit: ring entries cross address spaces byte for byte; T must be trivially copyable.");
    static_assert(Capacity >= 2 && (Capacity & (Capacity - 1)) == 0,
                  "vdsokit: ring capacity must be a power of two of at least 2.");

public:
    static constexpr std::uint32_t capacity() noexcept { return Capacity; }

    // Cell sequences start at their index; stored as (sequence - index) so that zeroed memory is
    // the initial state and the constructor stays constexpr.
    constexpr mpmc_ring() noexcept = default;
    mpmc_ring(const mpmc_ring&) = delete;
    mpmc_ring& operator=(const mpmc_ring&) = delete;

    [[nodiscard]] bool push(const T& value) noexcept {
        std::uint64_t position = enqueue_position_.load(std::memory_order_relaxed);
        detail::randomized_backoff backoff;
        for (;;) {
            cell& target = cells_[position & mask];
            const std::uint64_t sequence = target.sequence_offset.load(std::memory_order_acquire) + (position & mask);
            const std::int64_t difference = std::int64_t(sequence - position);
            if (difference == 0) {
                if (enqueue_position_.compare_exchange_strong(position, position + 1, std::memory_order_relaxed)) {
                    target.value = value;
                    target.sequence_offset.store(position + 1 - (position & mask), std::memory_order_release);
                    return true;
                }
                backoff.pause();  // another producer took this position (a strong CAS: no false alarms)
                position = enqueue_position_.load(std::memory_order_relaxed);
            } else if (difference < 0) {
                return false;  // full
            } else {
                position = enqueue_position_.load(std::memory_order_relaxed);
            }
        }
    }

    [[nodiscard]] bool pop(T& out) noexcept {
        std::uint64_t position = dequeue_position_.load(std::memory_order_relaxed);
        detail::randomized_backoff backoff;
        for (;;) {
            cell& source = cells_[position & mask];
            const std::uint64_t sequence = source.sequence_offset.load(std::memory_order_acquire) + (position & mask);
            const std::int64_t difference = std::int64_t(sequence - (position + 1));
            if (difference == 0) {
                if (dequeue_position_.compare_exchange_strong(position, position + 1, std::memory_order_relaxed)) {
                    out = source.value;
                    source.sequence_offset.store(position + Capacity - (position & mask), std::memory_order_release);
                    return true;
                }
                backoff.pause();
                position = dequeue_position_.load(std::memory_order_relaxed);
            } else if (difference < 0) {
                return false;  // empty
            } else {
                position = dequeue_position_.load(std::memory_order_relaxed);
            }
        }
    }

    static constexpr std::uint64_t vdsokit_layout_fingerprint() noexcept {
        return fingerprint_builder{}
            .add("vdsokit::mpmc_ring/1")
            .add(layout_fingerprint<T>)
            .add(Capacity)
            .add(sizeof(mpmc_ring))
            .add(alignof(mpmc_ring))
            .value();
    }

private:
    static constexpr std::uint64_t mask = Capacity - 1;
    struct cell {
        std::atomic<std::uint64_t> sequence_offset{0};
        T value{};
    };
    alignas(64) std::atomic<std::uint64_t> enqueue_position_{0};
    alignas(64) std::atomic<std::uint64_t> dequeue_position_{0};
    alignas(64) std::array<cell, Capacity> cells_{};
};

}  // namespace vdsokit
