// FIFO rings for one-direction queues (submission and completion queues) in shared memory, the
// fast special case of the deque.
//
// `spsc_ring` follows liburing: the producer fills entries behind a *private* tail (claim(), like
// io_uring_get_sqe) and makes a whole batch visible with one store-release of the shared tail
// (submit()); the consumer load-acquires the tail, reads entries in place (peek), and hands a batch
// back with one store-release of the head (advance(n), like io_uring_cq_advance). No CAS, no
// per-entry atomics: the cost per entry is a copy. A consumer that finds an entry it cannot accept
// counts it in dropped() instead of failing the ring (the SQ `dropped` counter).
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
#include <vdsokit/fingerprint.hpp>

namespace vdsokit {

template <class T, std::uint32_t Capacity>
class spsc_ring {
    static_assert(std::is_trivially_copyable_v<T>,
                  "vdsokit: ring entries cross address spaces byte for byte; T must be trivially copyable.");
    static_assert(Capacity >= 2 && (Capacity & (Capacity - 1)) == 0 && Capacity <= (1u << 31),
                  "vdsokit: ring capacity must be a power of two between 2 and 2^31.");

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

    // The single consumer's view.
    class consumer {
    public:
        explicit consumer(spsc_ring& ring) noexcept
            : ring_(&ring), head_(ring.head_.load(std::memory_order_relaxed)),
              cached_tail_(ring.tail_.load(std::memory_order_acquire)) {}

        // Entries published and not yet consumed (load-acquires the tail when the cache runs dry).
        [[nodiscard]] std::uint32_t ready() noexcept {
            if (cached_tail_ == head_) cached_tail_ = ring_->tail_.load(std::memory_order_acquire);
            return cached_tail_ - head_;
        }
        // The i-th ready entry, read in place; valid until advance() passes it.
        [[nodiscard]] const T* peek(std::uint32_t i = 0) noexcept {
            if (i >= cached_tail_ - head_) {  // one look at the shared tail, only when the cache falls short
                cached_tail_ = ring_->tail_.load(std::memory_order_acquire);
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
            std::uint32_t available = cached_tail_ - head_;
            if (available < out.size()) {
                cached_tail_ = ring_->tail_.load(std::memory_order_acquire);
                available = cached_tail_ - head_;
            }
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
        spsc_ring* ring_;
        std::uint32_t head_;
        std::uint32_t cached_tail_;
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
