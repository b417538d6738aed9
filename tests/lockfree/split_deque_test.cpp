// The split deque: a single-threaded model check against std::deque, threaded exactly-once stress
// at both ends, a thread stopped for ever at each step of each operation, and fork()ed processes
// sharing it through a memfd (some of them SIGKILLed mid-operation). Tagged [long] cases run only
// in the 'long' suite; [process] cases are left out of the ThreadSanitizer build.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <random>
#include <span>
#include <thread>
#include <vector>

#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vdsokit/split_deque.hpp>

#include "stress_support.hpp"

using vdsokit::deque_end;
using vdsokit::detail::split_step;
using vdsokit_test::item_producer;
using vdsokit_test::item_sequence;
using vdsokit_test::make_item;
using vdsokit_test::spawn;
using vdsokit_test::wait_all;
using vdsokit_test::stress_divisor;

namespace {

constinit vdsokit::split_deque<std::uint32_t, 8> global_split_deque;  // constant-initialised, like a vVAR field

TEST_CASE("a split deque is constant-initialisable and behaves as a double-ended queue", "[split_deque]") {
    STATIC_REQUIRE(decltype(global_split_deque)::capacity() == 8);
    REQUIRE(global_split_deque.empty());
    std::uint32_t value = 0;
    REQUIRE_FALSE(global_split_deque.pop_front(value));
    REQUIRE_FALSE(global_split_deque.pop_back(value));
    REQUIRE(global_split_deque.push_back(2));
    REQUIRE(global_split_deque.push_front(1));
    REQUIRE(global_split_deque.push_back(3));  // 1 2 3
    REQUIRE(global_split_deque.size() == 3);
    REQUIRE(global_split_deque.pop_back(value));
    REQUIRE(value == 3);
    REQUIRE(global_split_deque.pop_front(value));
    REQUIRE(value == 1);
    REQUIRE(global_split_deque.pop_front(value));
    REQUIRE(value == 2);
    REQUIRE(global_split_deque.empty());

    // Elements narrower than a cell's value word come back unchanged.
    struct pair16 {
        std::uint16_t a, b;
    };
    vdsokit::split_deque<pair16, 2> narrow;
    REQUIRE(narrow.push_front({1, 0xffff}));
    REQUIRE(narrow.push_front({0xfffe, 3}));
    REQUIRE_FALSE(narrow.push_back({5, 5}));
    pair16 out{};
    REQUIRE(narrow.pop_back(out));
    REQUIRE((out.a == 1 && out.b == 0xffff));
    REQUIRE(narrow.pop_back(out));
    REQUIRE((out.a == 0xfffe && out.b == 3));
}

// A trailing producer waits before the push that follows a refused one; its results must be
// push_back's all the same: refused exactly when full, and a push right after a refusal lands.
template <std::uint32_t Capacity>
void check_trailing_producer_refusals() {
    auto deque = std::make_unique<vdsokit::split_deque<std::uint64_t, Capacity>>();
    typename vdsokit::split_deque<std::uint64_t, Capacity>::trailing_producer producer(*deque);
    for (std::uint64_t i = 0; i < Capacity; ++i) REQUIRE(producer.push_back(i));
    REQUIRE_FALSE(producer.push_back(Capacity));
    REQUIRE_FALSE(producer.push_back(Capacity));  // still full after the wait
    std::uint64_t value = 0;
    REQUIRE(deque->pop_front(value));
    REQUIRE(value == 0);
    REQUIRE(producer.push_back(Capacity));  // the push after a refusal lands
    REQUIRE_FALSE(producer.push_back(Capacity + 1));
    for (int i = 0; i < 3; ++i) REQUIRE(deque->pop_front(value));
    const std::uint64_t burst[5] = {Capacity + 1, Capacity + 2, Capacity + 3, Capacity + 4, Capacity + 5};
    REQUIRE(producer.push_burst(burst) == 3);  // after a refusal: as many as fit, in order
    for (std::uint64_t expected = 4; expected <= Capacity + 3; ++expected) {
        REQUIRE(deque->pop_front(value));
        REQUIRE(value == expected);
    }
    REQUIRE(deque->empty());
    REQUIRE(producer.push_back(7));
    REQUIRE(deque->size() == 1);
}

TEST_CASE("a trailing producer refuses exactly when the deque is full", "[split_deque]") {
    check_trailing_producer_refusals<8>();     // too small to trail: plain push_back
    check_trailing_producer_refusals<64>();    // waits after each refusal
    check_trailing_producer_refusals<1024>();
}

TEST_CASE("split deque bursts take what fits and what is there, in order", "[split_deque]") {
    vdsokit::split_deque<int, 8> deque;
    const int items[6] = {1, 2, 3, 4, 5, 6};
    REQUIRE(deque.push_burst(deque_end::back, items) == 6);
    REQUIRE(deque.push_burst(deque_end::front, items) == 2);  // 2 1 1 2 3 4 5 6
    REQUIRE(deque.push_burst(deque_end::back, items) == 0);
    REQUIRE(deque.size() == 8);
    int out[10] = {};
    REQUIRE(deque.pop_burst(deque_end::back, std::span(out, 3)) == 3);
    REQUIRE(out[0] == 6);
    REQUIRE(out[2] == 4);
    REQUIRE(deque.pop_burst(deque_end::front, std::span(out, 10)) == 5);
    REQUIRE(out[0] == 2);
    REQUIRE(out[1] == 1);
    REQUIRE(out[4] == 3);
    REQUIRE(deque.empty());
    REQUIRE(deque.pop_burst(deque_end::front, std::span(out, 10)) == 0);
}

// ------------------------------------------------------------------------------------------------
// Single thread against std::deque: random operations at both ends, in phases that are push-heavy,
// pop-heavy and balanced so that both full and empty are visited often (a phase is long enough to
// fill even capacity 1024). Now and then the hints are overwritten with wrong values: they are
// only hints, so every result, and size(), must stay exact.

template <std::uint32_t Capacity>
void check_against_model(std::uint64_t operations, std::uint64_t seed) {
    auto deque = std::make_unique<vdsokit::split_deque<std::uint64_t, Capacity>>();
    // Half the pops at the front go through a trailing consumer and half the pushes at the back
    // through a trailing producer, which must agree just the same.
    typename vdsokit::split_deque<std::uint64_t, Capacity>::trailing_consumer trailing(*deque);
    typename vdsokit::split_deque<std::uint64_t, Capacity>::trailing_producer trailing_producer(*deque);
    std::deque<std::uint64_t> model;
    std::mt19937_64 random(seed);
    const std::uint64_t phase_length = Capacity * 8 > 1000 ? Capacity * 8 : 1000;
    const std::uint32_t max_burst = Capacity + 2 < 12 ? Capacity + 2 : 12;
    std::uint64_t fulls = 0, empties = 0, scrambles = 0, trailing_pops = 0, trailing_pushes = 0, next_value = 1;
    // Pushes through the trailing producer right after one it refused, with room by then: the
    // ones that take its wait (from 8 lines of cells up).
    std::uint64_t trailing_pushes_after_refusal = 0;
    bool trailing_producer_refused = false;
    std::uint64_t slots_published = 0, slots_cancelled = 0, bulk_batches = 0;
    std::uint64_t buffer[12];
    // push_slot guards held across operations: their places are reserved until published.
    struct held_slot {
        typename vdsokit::split_deque<std::uint64_t, Capacity>::push_slot_guard guard;
        deque_end end;
    };
    std::vector<held_slot> held;
    // Reports the first divergence with enough context to replay it.
    auto diverged = [&](std::uint64_t op, const char* what) {
        FAIL("capacity " << Capacity << ", seed " << seed << ", operation " << op << ": " << what
                         << " (model size " << model.size() << ")");
    };
    for (std::uint64_t op = 0; op < operations; ++op) {
        if (random() % 500 == 0) {
            std::uint64_t front = random(), back = random();
            switch (random() % 4) {
                case 0: front = random() % (3 * Capacity), back = random() % (3 * Capacity); break;  // near
                case 1: front = random() % (1u << 20), back = front + random() % (4 * Capacity); break;  // laps away
                case 2: break;                                                                           // garbage
                default: front = 0 - random() % Capacity, back = random() % Capacity; break;  // across 0
            }
            deque->scramble_hints_for_testing(front, back);
            ++scrambles;
        }
        const std::uint64_t phase = (op / phase_length) % 3, roll = random() % 100;
        const bool push = phase == 0 ? roll < 70 : phase == 1 ? roll < 30 : roll < 50;
        const deque_end end = random() % 2 ? deque_end::front : deque_end::back;
        const bool at_front = end == deque_end::front;
        const bool through_trailing = at_front && !push && random() % 2 == 0;
        trailing_pops += through_trailing;
        const bool through_trailing_producer = !at_front && push && random() % 2 == 0;
        const std::size_t free_places = Capacity - model.size() - held.size();
        if (random() % 16 == 0) {  // a push_slot: taken, or one held published or cancelled
            if (push && held.size() < 3) {
                auto guard = deque->push_slot(end);
                if (bool(guard) != (free_places > 0)) diverged(op, "push_slot disagrees");
                if (!guard) {
                    ++fulls;
                    continue;
                }
                guard.value() = next_value++;
                held.push_back({std::move(guard), end});
            } else if (!held.empty()) {
                const std::size_t which = random() % held.size();
                held_slot slot = std::move(held[which]);
                held.erase(held.begin() + std::ptrdiff_t(which));
                if (random() % 4 == 0) {
                    slot.guard.cancel();
                    ++slots_cancelled;
                } else {
                    const std::uint64_t value = slot.guard.value();
                    if (!slot.guard.publish()) diverged(op, "a push_slot guard failed to publish");
                    slot.end == deque_end::front ? model.push_front(value) : model.push_back(value);
                    ++slots_published;
                }
            }
            if (deque->reserved_places() != held.size()) diverged(op, "reserved_places() disagrees");
        } else if (random() % 10 == 0) {  // a batch: burst, or all or nothing
            const std::uint32_t count = std::uint32_t(random() % (max_burst + 1));
            const bool bulk = random() % 2 == 0;
            bulk_batches += bulk;
            const auto mode = bulk ? vdsokit::batch_mode::bulk : vdsokit::batch_mode::burst;
            if (push) {
                for (std::uint32_t i = 0; i < count; ++i) buffer[i] = next_value++;
                const std::size_t expected = !bulk ? std::min<std::size_t>(count, free_places)
                                             : count <= free_places ? count : 0;
                const std::span<const std::uint64_t> items(buffer, count);
                const bool through_handle = !bulk && through_trailing_producer;
                trailing_pushes += through_handle;
                trailing_pushes_after_refusal += through_handle && trailing_producer_refused && free_places > 0;
                const std::size_t pushed = through_handle          ? trailing_producer.push_burst(items)
                                           : !bulk && random() % 2 ? deque->push_burst(end, items)
                                                                   : deque->push_multiple(end, items, mode);
                if (through_handle) trailing_producer_refused = pushed < count;
                if (pushed != expected) diverged(op, "push_burst or push_multiple pushed a different count");
                for (std::size_t i = 0; i < expected; ++i)
                    at_front ? model.push_front(buffer[i]) : model.push_back(buffer[i]);
                if (expected < count) ++fulls;
            } else {
                const std::size_t expected = !bulk ? std::min<std::size_t>(count, model.size())
                                             : count <= model.size() ? count : 0;
                const std::span<std::uint64_t> out(buffer, count);
                const std::size_t popped = bulk               ? deque->pop_multiple(end, out, mode)
                                           : through_trailing ? trailing.pop_burst(out)
                                           : random() % 2     ? deque->pop_burst(end, out)
                                                              : deque->pop_multiple(end, out, mode);
                if (popped != expected) diverged(op, "pop_burst or pop_multiple popped a different count");
                for (std::size_t i = 0; i < expected; ++i) {
                    const std::uint64_t want = at_front ? model.front() : model.back();
                    at_front ? model.pop_front() : model.pop_back();
                    if (buffer[i] != want) diverged(op, "pop_burst returned a different element");
                }
                if (expected < count) ++empties;
            }
        } else if (push) {
            const std::uint64_t value = next_value++;
            trailing_pushes += through_trailing_producer;
            trailing_pushes_after_refusal += through_trailing_producer && trailing_producer_refused && free_places > 0;
            const bool pushed = through_trailing_producer ? trailing_producer.push_back(value)
                                : at_front                ? deque->push_front(value)
                                                          : deque->push_back(value);
            if (through_trailing_producer) trailing_producer_refused = !pushed;
            if (pushed != (free_places > 0)) diverged(op, at_front ? "push_front disagrees" : "push_back disagrees");
            if (!pushed) ++fulls;
            else at_front ? model.push_front(value) : model.push_back(value);
        } else {
            std::uint64_t value = 0;
            const bool popped = through_trailing ? trailing.pop_front(value)
                                : at_front       ? deque->pop_front(value)
                                                 : deque->pop_back(value);
            if (popped != !model.empty()) diverged(op, at_front ? "pop_front disagrees" : "pop_back disagrees");
            if (!popped) {
                ++empties;
            } else {
                const std::uint64_t want = at_front ? model.front() : model.back();
                at_front ? model.pop_front() : model.pop_back();
                if (value != want) diverged(op, "popped a different element");
            }
        }
        if (op % 64 == 0 && (deque->size() != model.size() || deque->empty() != model.empty()))
            diverged(op, "size() disagrees");
    }
    INFO("capacity " << Capacity << ": " << fulls << " full, " << empties << " empty, " << scrambles << " scrambles, "
                     << trailing_pops << " pops through a trailing consumer, " << trailing_pushes
                     << " pushes through a trailing producer (" << trailing_pushes_after_refusal
                     << " right after a refusal), " << slots_published << " push_slots published, "
                     << slots_cancelled << " cancelled, " << bulk_batches << " bulk batches");
    // The biasing must really have driven the deque to both limits, and the hints scrambled.
    REQUIRE(fulls > operations / 100);
    REQUIRE(empties > operations / 100);
    REQUIRE(scrambles > 0);
    REQUIRE(trailing_pops > operations / 10);
    REQUIRE(trailing_pushes > operations / 20);
    REQUIRE(trailing_pushes_after_refusal > 0);
    REQUIRE(slots_published > operations / 200);
    REQUIRE(slots_cancelled > 0);
    REQUIRE(bulk_batches > operations / 50);
}

TEST_CASE("a split deque agrees with std::deque on random operations at both ends, even with wrong hints",
          "[split_deque]") {
    check_against_model<2>(200000 / stress_divisor, 2);
    check_against_model<4>(200000 / stress_divisor, 4);
    check_against_model<8>(200000 / stress_divisor, 8);
    check_against_model<64>(200000 / stress_divisor, 64);
    check_against_model<1024>(400000 / stress_divisor, 1024);
}

// The trailing consumer's waits, exercised: a nearly empty deque, where it waits, and another
// thread moving the back hint ahead of the back as streaming producers would, stalling now and
// then, and sometimes anywhere, so that waits succeed, end early and time out. Whatever they do,
// the pops must agree with a FIFO model.
template <std::uint32_t Capacity>
void check_trailing_waits(std::uint64_t rounds, std::uint64_t seed) {
    using deque_type = vdsokit::split_deque<std::uint64_t, Capacity>;
    auto deque = std::make_unique<deque_type>();
    typename deque_type::trailing_consumer trailing(*deque);
    std::atomic<bool> stop_moving{false};
    std::atomic<std::uint64_t> true_back{0};  // only push_back and pop_front: the back is the pushes' count
    std::thread mover([&] {
        std::mt19937_64 own_random(seed + 1);
        while (!stop_moving.load(std::memory_order_relaxed)) {
            // A run of 64 moves from where the back is, each of 0 (a stalled producer) to 16
            // positions, 4 pauses apart.
            const std::uint64_t back = true_back.load(std::memory_order_relaxed);
            const std::uint64_t step = own_random() % 4 == 0 ? 0 : std::uint64_t(1) << (own_random() % 5);
            for (std::uint64_t i = 1; i <= 64 && !stop_moving.load(std::memory_order_relaxed); ++i) {
                deque->scramble_back_hint_for_testing(own_random() % 256 == 0 ? own_random() : back + i * step);
                for (int pause = 0; pause < 4; ++pause) vdsokit::detail::cpu_relax();
            }
        }
    });
    std::deque<std::uint64_t> model;
    std::mt19937_64 random(seed);
    std::uint64_t next_value = 1, popped_items = 0, divergences = 0;
    for (std::uint64_t round = 0; round < rounds; ++round) {
        for (std::uint64_t i = random() % 6; i > 0; --i) {
            if (deque->push_back(next_value)) model.push_back(next_value++);
            else divergences += model.size() != Capacity;
            true_back.store(next_value - 1, std::memory_order_relaxed);
        }
        for (std::uint64_t i = random() % 8; i > 0; --i) {
            std::uint64_t value = 0;
            const bool popped = trailing.pop_front(value);
            divergences += popped != !model.empty();
            if (!popped || model.empty()) continue;
            divergences += value != model.front();
            model.pop_front();
            ++popped_items;
        }
    }
    stop_moving.store(true);
    mover.join();
    INFO("capacity " << Capacity << ", seed " << seed << ": " << popped_items << " popped");
    REQUIRE(divergences == 0);
    REQUIRE(popped_items > rounds);
}

TEST_CASE("a trailing consumer agrees with a FIFO model while the back hint moves under it", "[split_deque]") {
    check_trailing_waits<64>(100000 / stress_divisor, 12);
    check_trailing_waits<1024>(100000 / stress_divisor, 13);
}

TEST_CASE("long: a split deque agrees with std::deque over many operations and seeds", "[.long][split_deque]") {
    for (std::uint64_t seed = 100; seed < 110; ++seed) {
        check_against_model<2>(2000000, seed);
        check_against_model<4>(2000000, seed);
        check_against_model<8>(2000000, seed);
        check_against_model<16>(2000000, seed);
        check_against_model<1024>(4000000, seed);
    }
}

// ------------------------------------------------------------------------------------------------
// Threads: every item accounted exactly once by the bitmap ledger, a count and a checksum.

enum class traffic {
    random_ends,    // pushes and pops at random ends, single and bursts
    back_to_front,  // push_back then pop_front: the one-CAS FIFO direction
    front_to_back,  // push_front then pop_back: the two-CAS FIFO direction
};

// Full and empty are reported only from a stable two-cell snapshot, so never spuriously. Counters
// of started, refused and completed operations (bursts count per element) bound the size at the
// moment of a report: a refused push needs size == Capacity, a refused pop size == 0.
struct report_bounds {
    alignas(64) std::atomic<std::int64_t> pushes_started{0};
    alignas(64) std::atomic<std::int64_t> pushes_refused{0};
    alignas(64) std::atomic<std::int64_t> pushes_done{0};
    alignas(64) std::atomic<std::int64_t> pops_started{0};
    alignas(64) std::atomic<std::int64_t> pops_refused{0};
    alignas(64) std::atomic<std::int64_t> pops_done{0};
    std::atomic<std::uint64_t> fulls{0}, spurious_fulls{0}, empties{0}, spurious_empties{0};

    // `push` pushes up to `count` elements and returns how many it did.
    template <class Push>
    std::size_t push(std::size_t count, std::uint32_t capacity, Push&& push) {
        const std::int64_t refused_before = pushes_refused.load(), popped_before = pops_done.load();
        pushes_started.fetch_add(std::int64_t(count));
        const std::size_t pushed = push();
        pushes_done.fetch_add(std::int64_t(pushed));
        if (pushed < count) {
            // Successful pushes linearized by now: at most those started, less our own refused
            // and never attempted ones, less those refused before we started.
            const std::int64_t most_pushed = pushes_started.load() - std::int64_t(count - pushed) - refused_before;
            fulls.fetch_add(1);
            if (most_pushed - popped_before < std::int64_t(capacity)) spurious_fulls.fetch_add(1);
            pushes_refused.fetch_add(std::int64_t(count - pushed));
        }
        return pushed;
    }
    template <class Pop>
    std::size_t pop(std::size_t count, Pop&& pop) {
        const std::int64_t refused_before = pops_refused.load(), pushed_before = pushes_done.load();
        pops_started.fetch_add(std::int64_t(count));
        const std::size_t popped = pop();
        pops_done.fetch_add(std::int64_t(popped));
        if (popped < count) {
            const std::int64_t most_popped = pops_started.load() - std::int64_t(count - popped) - refused_before;
            empties.fetch_add(1);
            if (pushed_before - most_popped > 0) spurious_empties.fetch_add(1);
            pops_refused.fetch_add(std::int64_t(count - popped));
        }
        return popped;
    }
};

template <std::uint32_t Capacity, std::uint32_t Producers, std::uint32_t Items>
void run_exactly_once(traffic pattern, std::uint32_t consumers, std::uint64_t seed, bool trailing = false) {
    using deque_type = vdsokit::split_deque<std::uint64_t, Capacity>;
    auto deque = std::make_unique<deque_type>();
    using ledger_type = vdsokit_test::exactly_once_ledger<Producers, Items>;
    auto ledger = std::make_unique<ledger_type>();
    std::atomic<std::uint32_t> producers_done{0};
    std::atomic<std::uint64_t> order_violations{0};
    report_bounds reports;
    std::vector<std::thread> threads;
    for (std::uint32_t p = 0; p < Producers; ++p) {
        threads.emplace_back([&, p] {
            std::mt19937 random(std::uint32_t(seed * 7919 + p));
            std::uint64_t batch[4];
            // With `trailing`, every other producer pushes at the back through a trailing producer.
            typename deque_type::trailing_producer trailing_producer(*deque);
            const bool through_trailing = trailing && p % 2 == 0;
            for (std::uint32_t sequence = 0; sequence < Items;) {
                const deque_end end = pattern == traffic::back_to_front ? deque_end::back
                                      : pattern == traffic::front_to_back ? deque_end::front
                                      : random() % 2                      ? deque_end::front
                                                                          : deque_end::back;
                std::size_t pushed;
                if (random() % 8 == 0) {  // a burst keeps its items' order (reversed at the front)
                    const std::uint32_t count = std::min<std::uint32_t>(1 + random() % 4, Items - sequence);
                    for (std::uint32_t i = 0; i < count; ++i) batch[i] = make_item(p, sequence + i);
                    pushed = reports.push(count, Capacity, [&] {
                        const std::span<const std::uint64_t> items(batch, count);
                        return through_trailing && end == deque_end::back ? trailing_producer.push_burst(items)
                                                                          : deque->push_burst(end, items);
                    });
                } else {
                    const std::uint64_t item = make_item(p, sequence);
                    pushed = reports.push(1, Capacity, [&] {
                        if (through_trailing && end == deque_end::back) return std::size_t(trailing_producer.push_back(item));
                        return std::size_t(end == deque_end::front ? deque->push_front(item) : deque->push_back(item));
                    });
                }
                sequence += std::uint32_t(pushed);
                if (pushed == 0) std::this_thread::yield();  // 2 cores, more threads: let a consumer run
            }
            producers_done.fetch_add(1);
        });
    }
    for (std::uint32_t c = 0; c < consumers; ++c) {
        threads.emplace_back([&, c] {
            std::mt19937 random(std::uint32_t(seed * 104729 + c));
            // Per producer, one consumer's pops must see increasing sequences in the FIFO patterns:
            // the producer's pushes are ordered, and so are this consumer's pops.
            std::vector<std::int64_t> last_sequence(Producers, -1);
            std::uint64_t out[4];
            // With `trailing`, every other consumer pops at the front through a trailing consumer.
            typename deque_type::trailing_consumer trailing_pops(*deque);
            const bool through_trailing = trailing && c % 2 == 0;
            for (;;) {
                // Read before the pop: a pop that then finds the deque empty saw it empty after
                // the last push, and nothing is pushed any more.
                const bool finished = producers_done.load() == Producers;
                const deque_end end = pattern == traffic::back_to_front ? deque_end::front
                                      : pattern == traffic::front_to_back ? deque_end::back
                                      : random() % 2                      ? deque_end::front
                                                                          : deque_end::back;
                const std::size_t count = random() % 4 == 0 ? 1 + random() % 4 : 1;
                const std::size_t got = reports.pop(count, [&] {
                    if (through_trailing && end == deque_end::front)
                        return count > 1 ? trailing_pops.pop_burst(std::span<std::uint64_t>(out, count))
                                         : std::size_t(trailing_pops.pop_front(out[0]));
                    if (count > 1) return deque->pop_burst(end, std::span<std::uint64_t>(out, count));
                    return std::size_t(end == deque_end::front ? deque->pop_front(out[0]) : deque->pop_back(out[0]));
                });
                for (std::size_t i = 0; i < got; ++i) {
                    ledger->record(out[i]);
                    if (pattern != traffic::random_ends && item_producer(out[i]) < Producers) {
                        std::int64_t& last = last_sequence[item_producer(out[i])];
                        if (std::int64_t(item_sequence(out[i])) <= last) order_violations.fetch_add(1);
                        last = item_sequence(out[i]);
                    }
                }
                if (got == 0 && finished) return;
                if (got == 0) std::this_thread::yield();
            }
        });
    }
    for (auto& thread : threads) thread.join();
    INFO("capacity " << Capacity << ": " << reports.fulls.load() << " refused pushes, " << reports.empties.load()
                     << " refused pops");
    REQUIRE(ledger->duplicates.load() == 0);
    REQUIRE(ledger->out_of_range.load() == 0);
    REQUIRE(order_violations.load() == 0);
    REQUIRE(reports.spurious_fulls.load() == 0);
    REQUIRE(reports.spurious_empties.load() == 0);
    REQUIRE(ledger->consumed.load() == std::uint64_t(Producers) * Items);
    REQUIRE(ledger->checksum.load() == ledger_type::expected_checksum(Producers, Items));
    REQUIRE(deque->size() == 0);
    // All the traffic leaves the whole capacity usable.
    for (std::uint32_t i = 0; i < Capacity; ++i) REQUIRE((i % 2 ? deque->push_front(i) : deque->push_back(i)));
    REQUIRE_FALSE(deque->push_back(0));
    REQUIRE_FALSE(deque->push_front(0));
}

TEST_CASE("split deque threads at random ends exchange every item exactly once", "[split_deque][stress]") {
    SECTION("capacity 2, 2 producers, 2 consumers") {
        run_exactly_once<2, 2, 100000 / stress_divisor>(traffic::random_ends, 2, 1);
    }
    SECTION("capacity 4, 3 producers, 1 consumer") {
        run_exactly_once<4, 3, 60000 / stress_divisor>(traffic::random_ends, 1, 2);
    }
    SECTION("capacity 1024, 2 producers, 2 consumers") {
        run_exactly_once<1024, 2, 200000 / stress_divisor>(traffic::random_ends, 2, 3);
    }
}

TEST_CASE("split deque FIFO directions keep each producer's order", "[split_deque][stress]") {
    SECTION("push_back to pop_front, capacity 2") {
        run_exactly_once<2, 2, 100000 / stress_divisor>(traffic::back_to_front, 2, 4);
    }
    SECTION("push_back to pop_front, capacity 1024") {
        run_exactly_once<1024, 2, 200000 / stress_divisor>(traffic::back_to_front, 2, 5);
    }
    SECTION("push_front to pop_back, capacity 4") {
        run_exactly_once<4, 2, 100000 / stress_divisor>(traffic::front_to_back, 2, 6);
    }
    SECTION("push_front to pop_back, capacity 1024") {
        run_exactly_once<1024, 2, 200000 / stress_divisor>(traffic::front_to_back, 2, 7);
    }
    SECTION("push_back, half through trailing producers, to a trailing consumer and a plain pop_front, capacity 2") {
        run_exactly_once<2, 2, 100000 / stress_divisor>(traffic::back_to_front, 2, 8, true);
    }
    SECTION("push_back, half through trailing producers, to a trailing consumer and a plain pop_front, capacity 1024") {
        run_exactly_once<1024, 2, 200000 / stress_divisor>(traffic::back_to_front, 2, 9, true);
    }
}

TEST_CASE("trailing producers and consumers among threads at random ends exchange every item exactly once", "[split_deque][stress]") {
    run_exactly_once<1024, 2, 200000 / stress_divisor>(traffic::random_ends, 2, 10, true);
    run_exactly_once<8, 3, 60000 / stress_divisor>(traffic::random_ends, 2, 11, true);
}

// Reservations among threads: producers push plainly, through push_slot and in bulk, consumers
// pop plainly, in bulk and in bursts, at random ends of a small deque that is often full and
// often empty. Every item exactly once; a granted push_slot always publishes; and no refusal is
// spurious. While reservations are in use, "full" means no place that is neither taken nor
// counted by a reservation, "empty" no element not counted by one (see push_slot), so the bounds
// count reservations too: a place is taken by a push and by a reservation of places, an element
// by a pop and by a reservation of elements, and a reservation counts for the whole call that
// holds it (a bulk batch gives its count back at its end, after its own pushes or pops). Counted
// before a call when taking, after it when giving back, these bound what the deque held at the
// moment of a refusal.
// Places (a deque starts with Capacity of them) or elements (it starts with none). Places are
// taken by pushes and reservations of places, and given back by pops and releases; elements are
// taken by pops and reservations of elements, and given back by pushes and releases.
struct taken_and_given_back {
    alignas(64) std::atomic<std::int64_t> taken_started{0};
    alignas(64) std::atomic<std::int64_t> refused{0};
    alignas(64) std::atomic<std::int64_t> given_back{0};
    std::atomic<std::uint64_t> refusals{0}, spurious_refusals{0};

    // A call that takes `taken` and succeeds when it gets `needed` of them; `call` runs it and
    // returns how many of `taken` it did not use (those are refused, not given back). When it is
    // refused, fewer than `needed` were there at some moment of the call.
    template <class Call>
    void take(std::int64_t taken, std::int64_t needed, std::int64_t there_at_first, Call&& call) {
        const std::int64_t refused_before = refused.load(), given_back_before = given_back.load();
        taken_started.fetch_add(taken);
        const std::int64_t unused = call();
        if (unused == taken) {
            const std::int64_t most_taken = taken_started.load() - taken - refused_before - given_back_before;
            refusals.fetch_add(1);
            if (there_at_first - most_taken >= needed) spurious_refusals.fetch_add(1);
        }
        refused.fetch_add(unused);
    }
};
struct reservation_bounds {
    taken_and_given_back places, elements;
};

template <std::uint32_t Capacity, std::uint32_t Producers, std::uint32_t Items>
void run_reservations_exactly_once(std::uint32_t consumers, std::uint64_t seed) {
    using deque_type = vdsokit::split_deque<std::uint64_t, Capacity>;
    auto deque = std::make_unique<deque_type>();
    using ledger_type = vdsokit_test::exactly_once_ledger<Producers, Items>;
    auto ledger = std::make_unique<ledger_type>();
    std::atomic<std::uint32_t> producers_done{0};
    std::atomic<std::uint64_t> failed_publishes{0}, slots{0}, bulk_pushes{0}, bulk_pops{0};
    reservation_bounds bounds;
    std::vector<std::thread> threads;
    for (std::uint32_t p = 0; p < Producers; ++p) {
        threads.emplace_back([&, p] {
            std::mt19937 random(std::uint32_t(seed * 7919 + p));
            std::uint64_t batch[4];
            for (std::uint32_t sequence = 0; sequence < Items;) {
                const deque_end end = random() % 2 ? deque_end::front : deque_end::back;
                const std::uint32_t kind = random() % 10;
                std::int64_t pushed = 0;
                if (kind < 4) {  // plain
                    const std::uint64_t item = make_item(p, sequence);
                    bounds.places.take(1, 1, Capacity, [&] {
                        pushed = end == deque_end::front ? deque->push_front(item) : deque->push_back(item);
                        return 1 - pushed;
                    });
                    bounds.elements.given_back.fetch_add(pushed);
                } else if (kind < 7) {  // push_slot: a reservation, then its push (or a cancel)
                    const bool cancel = random() % 8 == 0;
                    bounds.places.take(2, 1, Capacity, [&] {
                        auto guard = deque->push_slot(end);
                        if (!guard) return std::int64_t(2);
                        slots.fetch_add(1);
                        if (cancel) {
                            guard.cancel();
                            bounds.places.given_back.fetch_add(1);
                            return std::int64_t(1);
                        }
                        guard.value() = make_item(p, sequence);
                        if (!guard.publish()) failed_publishes.fetch_add(1);
                        pushed = 1;
                        bounds.elements.given_back.fetch_add(1);
                        bounds.places.given_back.fetch_add(1);  // the reservation, after its push
                        return std::int64_t(0);
                    });
                } else {  // bulk: a reservation of n places, then n pushes
                    const std::uint32_t count = std::min<std::uint32_t>(1 + random() % 4, Items - sequence);
                    for (std::uint32_t i = 0; i < count; ++i) batch[i] = make_item(p, sequence + i);
                    bounds.places.take(2 * count, count, Capacity, [&] {
                        pushed = std::int64_t(deque->push_multiple(end, std::span<const std::uint64_t>(batch, count),
                                                                   vdsokit::batch_mode::bulk));
                        if (pushed != 0 && pushed != count) failed_publishes.fetch_add(1);
                        bulk_pushes.fetch_add(pushed != 0);
                        bounds.elements.given_back.fetch_add(pushed);
                        bounds.places.given_back.fetch_add(pushed);
                        return pushed ? std::int64_t(0) : std::int64_t(2 * count);
                    });
                }
                sequence += std::uint32_t(pushed);
                if (pushed == 0) std::this_thread::yield();
            }
            producers_done.fetch_add(1);
        });
    }
    for (std::uint32_t c = 0; c < consumers; ++c) {
        threads.emplace_back([&, c] {
            std::mt19937 random(std::uint32_t(seed * 104729 + c));
            std::uint64_t out[4];
            for (;;) {
                const bool finished = producers_done.load() == Producers;
                const deque_end end = random() % 2 ? deque_end::front : deque_end::back;
                const std::uint32_t kind = random() % 10;
                std::int64_t got = 0;
                if (kind < 4) {
                    bounds.elements.take(1, 1, 0, [&] {
                        got = end == deque_end::front ? deque->pop_front(out[0]) : deque->pop_back(out[0]);
                        return 1 - got;
                    });
                } else if (kind < 7) {  // bulk: a reservation of n elements, then n pops
                    const std::int64_t count = 1 + random() % 4;
                    bounds.elements.take(2 * count, count, 0, [&] {
                        got = std::int64_t(deque->pop_multiple(end, std::span<std::uint64_t>(out, count), vdsokit::batch_mode::bulk));
                        if (got != 0 && got != count) failed_publishes.fetch_add(1);
                        bulk_pops.fetch_add(got != 0);
                        bounds.elements.given_back.fetch_add(got);  // the reservation, after its pops
                        return got ? std::int64_t(0) : 2 * count;
                    });
                } else {  // burst: as many as there are
                    const std::int64_t count = 1 + random() % 4;
                    bounds.elements.take(count, 1, 0, [&] {
                        got = std::int64_t(deque->pop_multiple(end, std::span<std::uint64_t>(out, count), vdsokit::batch_mode::burst));
                        return count - got;
                    });
                }
                bounds.places.given_back.fetch_add(got);
                for (std::int64_t i = 0; i < got; ++i) ledger->record(out[i]);
                // A bulk pop refused means fewer elements than it wanted, not none.
                const bool bulk = kind >= 4 && kind < 7;
                if (got == 0 && finished && !bulk) return;
                if (got == 0) std::this_thread::yield();
            }
        });
    }
    for (auto& thread : threads) thread.join();
    INFO("capacity " << Capacity << ": " << slots.load() << " push_slots, " << bulk_pushes.load() << " bulk pushes, "
                     << bulk_pops.load() << " bulk pops, " << bounds.places.refusals.load() << " refused pushes, "
                     << bounds.elements.refusals.load() << " refused pops");
    REQUIRE(failed_publishes.load() == 0);
    REQUIRE(ledger->duplicates.load() == 0);
    REQUIRE(ledger->out_of_range.load() == 0);
    REQUIRE(bounds.places.spurious_refusals.load() == 0);
    REQUIRE(bounds.elements.spurious_refusals.load() == 0);
    REQUIRE(ledger->consumed.load() == std::uint64_t(Producers) * Items);
    REQUIRE(ledger->checksum.load() == ledger_type::expected_checksum(Producers, Items));
    REQUIRE(slots.load() > 0);
    REQUIRE(bulk_pushes.load() > 0);
    REQUIRE(bulk_pops.load() > 0);
    if (Capacity <= 8) {  // small deques are driven to both limits
        REQUIRE(bounds.places.refusals.load() > 0);
        REQUIRE(bounds.elements.refusals.load() > 0);
    }
    REQUIRE(deque->reserved_places() == 0);
    REQUIRE(deque->reserved_elements() == 0);
    REQUIRE(deque->size() == 0);
    for (std::uint32_t i = 0; i < Capacity; ++i) REQUIRE((i % 2 ? deque->push_front(i) : deque->push_back(i)));
    REQUIRE_FALSE(deque->push_back(0));
    REQUIRE_FALSE(deque->push_front(0));
}

TEST_CASE("split deque push_slots and bulk batches among threads: every item once, no spurious full or empty",
          "[split_deque][stress]") {
    SECTION("capacity 2, 2 producers, 2 consumers") { run_reservations_exactly_once<2, 2, 60000 / stress_divisor>(2, 21); }
    SECTION("capacity 8, 3 producers, 1 consumer") { run_reservations_exactly_once<8, 3, 60000 / stress_divisor>(1, 22); }
    SECTION("capacity 1024, 2 producers, 2 consumers") {
        run_reservations_exactly_once<1024, 2, 200000 / stress_divisor>(2, 23);
    }
}

// The race that reservations add: with one place (element) left that nobody reserved, a push
// (pop) at each end must not both take it. Each operation bumps the cell `reserved` beyond its
// target, which is the other's target, before its CAS. Here one operation is stopped between
// that bump and its CAS while the other end takes the last place (element).
struct chosen_step_hook {
    static inline thread_local int stop_at = -1;
    static inline thread_local const std::atomic<bool>* go = nullptr;
    static inline std::atomic<int> stopped{0};
    static void at(split_step step) noexcept {
        if (int(step) != stop_at) return;
        stop_at = -1;
        stopped.fetch_add(1);
        while (!go->load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
};
template <std::uint32_t Capacity>
using hooked_split_deque = vdsokit::detail::basic_split_deque<std::uint64_t, Capacity, chosen_step_hook>;
using hooked_deque = hooked_split_deque<4>;

template <class Operation>
std::thread start_stopping_thread(split_step step, const std::atomic<bool>& go, Operation operation) {
    const int before = chosen_step_hook::stopped.load();
    std::thread thread([step, &go, operation] {
        chosen_step_hook::stop_at = int(step);
        chosen_step_hook::go = &go;
        operation();
    });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (chosen_step_hook::stopped.load() == before && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    REQUIRE(chosen_step_hook::stopped.load() == before + 1);  // else the step was never reached
    return thread;
}

// Pops every element at the front and requires exactly `items`, in order.
void require_pops(auto& deque, std::initializer_list<std::uint64_t> items) {
    std::uint64_t item = 0;
    for (std::uint64_t want : items) {
        REQUIRE(deque.pop_front(item));
        REQUIRE(item == want);
    }
    REQUIRE_FALSE(deque.pop_front(item));
}

TEST_CASE("with one unreserved place left, a push at the back and one at the front cannot both take it",
          "[split_deque]") {
    auto deque = std::make_unique<hooked_deque>();
    REQUIRE(deque->push_back(1));
    REQUIRE(deque->push_back(2));
    auto guard = deque->push_slot(deque_end::back);  // one place reserved, one left
    REQUIRE(guard);
    guard.value() = 3;
    std::atomic<bool> go{false};
    bool victim_pushed = true;
    std::thread victim = start_stopping_thread(split_step::push_back_located, go, [&] { victim_pushed = deque->push_back(4); });
    REQUIRE(deque->push_front(5));  // the last place nobody reserved
    go.store(true);
    victim.join();
    REQUIRE_FALSE(victim_pushed);
    REQUIRE(guard.publish());
    REQUIRE(deque->reserved_places() == 0);
    require_pops(*deque, {5, 1, 2, 3});
}

TEST_CASE("with one unreserved element left, a pop at the front and one at the back cannot both take it",
          "[split_deque]") {
    auto deque = std::make_unique<hooked_deque>();
    REQUIRE(deque->push_back(1));
    REQUIRE(deque->push_back(2));
    // A bulk pop of one, stopped once its reservation is counted and the ends flagged: one element
    // reserved, one left.
    std::atomic<bool> reserver_go{false}, victim_go{false};
    std::uint64_t reserved_out[1] = {0};
    std::size_t reserver_got = 0;
    std::thread reserver = start_stopping_thread(split_step::reserve_flagged, reserver_go, [&] {
        reserver_got = deque->pop_multiple(deque_end::front, std::span<std::uint64_t>(reserved_out, 1), vdsokit::batch_mode::bulk);
    });
    bool victim_popped = true;
    std::thread victim = start_stopping_thread(split_step::pop_front_located, victim_go, [&] {
        std::uint64_t item = 0;
        victim_popped = deque->pop_front(item);
    });
    std::uint64_t item = 0;
    REQUIRE(deque->pop_back(item));  // the last element nobody reserved
    REQUIRE(item == 2);
    victim_go.store(true);
    victim.join();
    REQUIRE_FALSE(victim_popped);
    reserver_go.store(true);
    reserver.join();
    REQUIRE(reserver_got == 1);
    REQUIRE(reserved_out[0] == 1);
    REQUIRE(deque->reserved_elements() == 0);
    REQUIRE(deque->size() == 0);
}

// Two places left; `victim` pushes one and is stopped at `victim_step`, between reading its cells
// and its CAS, while a bulk push of two reserves both and is granted (stopped at its first push).
// The victim must then fail, and the batch push both.
template <class Push>
void require_stopped_push_loses_to_reservation(split_step victim_step, Push victim) {
    auto deque = std::make_unique<hooked_deque>();
    REQUIRE(deque->push_back(1));
    REQUIRE(deque->push_back(2));
    std::atomic<bool> victim_go{false}, batch_go{false};
    bool victim_pushed = true;
    std::thread victim_thread = start_stopping_thread(victim_step, victim_go, [&] { victim_pushed = victim(*deque); });
    std::size_t batch_pushed = 0;
    std::thread batch = start_stopping_thread(split_step::push_back_located, batch_go, [&] {
        const std::uint64_t items[] = {3, 4};
        batch_pushed = deque->push_multiple(deque_end::back, items, vdsokit::batch_mode::bulk);
    });
    victim_go.store(true);
    victim_thread.join();
    REQUIRE_FALSE(victim_pushed);
    batch_go.store(true);
    batch.join();
    REQUIRE(batch_pushed == 2);
    require_pops(*deque, {1, 2, 3, 4});
}

TEST_CASE("a push that read its cells before a reservation was counted cannot take a reserved place",
          "[split_deque]") {
    // Stopped on the uncontended path.
    require_stopped_push_loses_to_reservation(split_step::push_back_located, [](hooked_deque& deque) { return deque.push_back(9); });
}

// Reservations bump the far end's cells (the front for places, the back for elements) only once
// push_front (pop_back) has been used: the first one marks its count's word before reading its
// cells, so a reservation counted after that mark bumps its cells. Here that first operation is
// stopped between reading its cells and its CAS while a batch reserves every place (element)
// left; the two ends' cells are distinct.
TEST_CASE("the first push_front, stopped before its CAS, cannot take a place reserved meanwhile", "[split_deque]") {
    require_stopped_push_loses_to_reservation(split_step::push_front_located, [](hooked_deque& deque) { return deque.push_front(9); });
}

TEST_CASE("the first pop_back, stopped before its CAS, cannot take an element reserved meanwhile", "[split_deque]") {
    auto deque = std::make_unique<hooked_deque>();
    REQUIRE(deque->push_back(1));
    REQUIRE(deque->push_back(2));
    std::atomic<bool> victim_go{false}, batch_go{false};
    bool victim_popped = true;
    std::thread victim = start_stopping_thread(split_step::pop_back_located, victim_go, [&] {
        std::uint64_t item = 0;
        victim_popped = deque->pop_back(item);
    });
    std::uint64_t batch_out[2] = {0, 0};
    std::size_t batch_popped = 0;
    std::thread batch = start_stopping_thread(split_step::pop_front_located, batch_go, [&] {  // granted, at its first pop
        batch_popped = deque->pop_multiple(deque_end::front, batch_out, vdsokit::batch_mode::bulk);
    });
    victim_go.store(true);
    victim.join();
    REQUIRE_FALSE(victim_popped);
    batch_go.store(true);
    batch.join();
    REQUIRE(batch_popped == 2);
    REQUIRE(batch_out[0] == 1);
    REQUIRE(batch_out[1] == 2);
    REQUIRE(deque->size() == 0);
}

// A reservation's flag must stay on the cells at its end while it is held: passed on by the
// operations that move that end (they read its count) and kept by every CAS that does not read
// it. The two inlined paths are the ones that keep the other end's flag; each test is built so
// that if they dropped it, a plain push_back (pop_front) would take a reserved place (element).
TEST_CASE("pop_front keeps the flag of reserved places on the cell it pops", "[split_deque]") {
    auto deque = std::make_unique<hooked_deque>();
    auto first = deque->push_slot(deque_end::back), second = deque->push_slot(deque_end::back),
         third = deque->push_slot(deque_end::back);  // three places reserved, one left
    REQUIRE(deque->push_back(1));
    std::uint64_t item = 0;
    REQUIRE(deque->pop_front(item));  // the back's last cell, which carries the flag
    REQUIRE(deque->push_back(2));
    REQUIRE_FALSE(deque->push_back(3));
    first.value() = 7, second.value() = 8, third.value() = 9;
    REQUIRE(first.publish());
    REQUIRE(second.publish());
    REQUIRE(third.publish());
    require_pops(*deque, {2, 7, 8, 9});
}

TEST_CASE("push_back keeps the flag of reserved elements on the cell it fills", "[split_deque]") {
    auto deque = std::make_unique<hooked_deque>();
    for (std::uint64_t item : {1, 2, 3, 4}) REQUIRE(deque->push_back(item));
    std::atomic<bool> batch_go{false};
    std::uint64_t batch_out[3] = {};
    std::size_t batch_popped = 0;
    std::thread batch = start_stopping_thread(split_step::pop_front_located, batch_go, [&] {  // three reserved, granted
        batch_popped = deque->pop_multiple(deque_end::front, batch_out, vdsokit::batch_mode::bulk);
    });
    std::uint64_t item = 0;
    REQUIRE(deque->pop_front(item));
    REQUIRE(item == 1);
    REQUIRE(deque->push_back(5));  // into the front's last cell, which carries the flag
    REQUIRE(deque->pop_front(item));
    REQUIRE(item == 2);
    REQUIRE_FALSE(deque->pop_front(item));
    batch_go.store(true);
    batch.join();
    REQUIRE(batch_popped == 3);
    REQUIRE(batch_out[0] == 3);
    REQUIRE(batch_out[1] == 4);
    REQUIRE(batch_out[2] == 5);
}

// A thread stopped for ever while it holds a reservation blocks nobody and costs at most what it
// reserved: stopped once it has counted its reservation, once it has flagged the ends, and once
// it is granted (at its first push). The main thread fills the deque: it takes every place the
// stopped batch does not hold (at least Capacity - 3), first right away, when only the
// operations themselves pass the flag on from the ends the reservation flagged, then again after
// other threads have exchanged items at both ends until done. Once let go, the batch completes.
const char* step_name(split_step step);

void run_with_stopped_reserver(split_step step) {
    constexpr std::uint32_t capacity = 64;
    auto deque = std::make_unique<hooked_split_deque<capacity>>();
    std::atomic<bool> go{false};
    std::size_t batch_pushed = 0;
    const std::uint64_t batch_items[] = {make_item(3, 0), make_item(3, 1), make_item(3, 2)};
    std::thread batch = start_stopping_thread(step, go, [&] {
        batch_pushed = deque->push_multiple(deque_end::back, batch_items, vdsokit::batch_mode::bulk);
    });
    const auto fill_and_empty = [&] {
        std::uint32_t fits = 0;
        while (deque->push_back(make_item(2, fits))) ++fits;
        // Counted but not yet checked, the reservation may not be seen yet (no cell is flagged);
        // flagged or granted, it is.
        if (step == split_step::reserve_counted) REQUIRE(fits >= capacity - 3);
        else REQUIRE(fits == capacity - 3);
        std::uint64_t item = 0;
        for (std::uint32_t s = 0; s < fits; ++s) {
            REQUIRE(deque->pop_front(item));
            REQUIRE(item == make_item(2, s));
        }
    };
    fill_and_empty();
    constexpr std::uint32_t items = 20000 / stress_divisor;
    auto ledger = std::make_unique<vdsokit_test::exactly_once_ledger<4, items>>();
    std::atomic<std::uint32_t> producers_done{0};
    std::vector<std::thread> others;
    for (std::uint32_t p = 0; p < 2; ++p)
        others.emplace_back([&, p] {
            for (std::uint32_t sequence = 0; sequence < items;) {
                const std::uint64_t item = make_item(p, sequence);
                if (p == 0 ? deque->push_back(item) : deque->push_front(item)) ++sequence;
                else std::this_thread::yield();
            }
            producers_done.fetch_add(1);
        });
    others.emplace_back([&] {
        std::uint64_t out[2];
        for (std::uint32_t round = 0;; ++round) {
            const bool finished = producers_done.load() == 2;
            const std::size_t got = round % 2 ? deque->pop_burst(deque_end::front, out) : deque->pop_burst(deque_end::back, out);
            for (std::size_t i = 0; i < got; ++i) ledger->record(out[i]);
            if (got == 0 && finished) return;
            if (got == 0) std::this_thread::yield();
        }
    });
    // Hang detector, not a speed check: the others must finish while the batch is stopped.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (producers_done.load() < 2 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (producers_done.load() < 2) {
        std::fprintf(stderr, "FAILED: a batch stopped at '%s' blocked the others\n", step_name(step));
        std::_Exit(3);
    }
    for (auto& thread : others) thread.join();
    INFO("stopped at '" << step_name(step) << "'");
    REQUIRE(ledger->duplicates.load() == 0);
    REQUIRE(ledger->consumed.load() == 2 * items);
    REQUIRE(deque->size() == 0);
    fill_and_empty();
    go.store(true);
    batch.join();
    REQUIRE(batch_pushed == 3);
    std::uint64_t item = 0;
    for (const std::uint64_t want : batch_items) {
        REQUIRE(deque->pop_front(item));
        REQUIRE(item == want);
    }
    REQUIRE(deque->reserved_places() == 0);
    REQUIRE(deque->size() == 0);
}

TEST_CASE("a thread stopped holding a reservation blocks nobody and costs at most its reserved places",
          "[split_deque]") {
    run_with_stopped_reserver(split_step::reserve_counted);
    run_with_stopped_reserver(split_step::reserve_flagged);
    run_with_stopped_reserver(split_step::push_back_located);
}

// The case that livelocks the original (Rust) deque: full, producers pushing at both ends, and a
// single slow consumer. Every producer must finish and nothing may be lost. The deadline is a
// hang detector, not a speed check.
template <std::uint32_t Capacity>
void run_full_with_slow_consumer(std::uint32_t items_per_producer) {
    auto deque = std::make_unique<vdsokit::split_deque<std::uint64_t, Capacity>>();
    constexpr std::uint32_t producers = 4, max_items = 40000;
    REQUIRE(items_per_producer <= max_items);
    using ledger_type = vdsokit_test::exactly_once_ledger<producers, max_items>;
    auto ledger = std::make_unique<ledger_type>();
    std::atomic<std::uint64_t> refused{0};
    std::atomic<bool> abandon{false};
    std::vector<std::thread> threads;
    for (std::uint32_t p = 0; p < producers; ++p) {
        threads.emplace_back([&, p] {
            for (std::uint32_t sequence = 0; sequence < items_per_producer && !abandon.load(std::memory_order_relaxed);) {
                const std::uint64_t item = make_item(p, sequence);
                if (p % 2 ? deque->push_front(item) : deque->push_back(item)) {
                    ++sequence;
                } else if (refused.fetch_add(1, std::memory_order_relaxed) % 8 == 7) {
                    std::this_thread::yield();
                }
            }
        });
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    const std::uint64_t total = std::uint64_t(producers) * items_per_producer;
    std::uint64_t item = 0, consumed = 0;
    while (consumed < total) {
        if ((consumed % 2 ? deque->pop_front(item) : deque->pop_back(item))) {
            ledger->record(item);
            ++consumed;
            for (int i = 0; i < 32; ++i) vdsokit::detail::cpu_relax();  // slow: the deque stays full
        } else if (std::chrono::steady_clock::now() > deadline) {
            break;
        }
    }
    abandon.store(true);
    for (auto& thread : threads) thread.join();
    INFO("capacity " << Capacity << ": consumed " << consumed << " of " << total << ", refused pushes " << refused.load());
    REQUIRE(consumed == total);
    REQUIRE(refused.load() > 0);  // it really was full
    REQUIRE(ledger->duplicates.load() == 0);
    REQUIRE(ledger->out_of_range.load() == 0);
    for (std::uint32_t p = 0; p < producers; ++p)
        for (std::uint32_t s = 0; s < items_per_producer; ++s) REQUIRE(ledger->seen(p, s));
    REQUIRE(deque->size() == 0);
}

TEST_CASE("a full split deque with producers at both ends and one slow consumer keeps making progress",
          "[split_deque][stress]") {
    run_full_with_slow_consumer<2>(20000 / stress_divisor);
    run_full_with_slow_consumer<4>(20000 / stress_divisor);
}

TEST_CASE("long: split deque threaded stress", "[.long][split_deque]") {
    for (std::uint64_t seed = 10; seed < 13; ++seed) {
        run_exactly_once<2, 3, 1000000>(traffic::random_ends, 3, seed);
        run_exactly_once<4, 2, 1000000>(traffic::random_ends, 2, seed);
        run_exactly_once<1024, 4, 1000000>(traffic::random_ends, 2, seed);
        run_exactly_once<2, 2, 1000000>(traffic::back_to_front, 2, seed);
        run_exactly_once<1024, 2, 1000000>(traffic::back_to_front, 1, seed);
        run_exactly_once<1024, 2, 1000000>(traffic::back_to_front, 2, seed, true);
        run_exactly_once<4, 2, 1000000>(traffic::front_to_back, 2, seed);
        run_exactly_once<1024, 2, 1000000>(traffic::front_to_back, 1, seed);
        run_reservations_exactly_once<2, 3, 500000>(3, seed);
        run_reservations_exactly_once<8, 2, 500000>(2, seed);
        run_reservations_exactly_once<1024, 3, 1000000>(2, seed);
    }
    run_full_with_slow_consumer<2>(40000);
    run_full_with_slow_consumer<8>(40000);
}

// ------------------------------------------------------------------------------------------------
// A thread stopped for ever at one step. The hook stops only the thread marked as the victim, at
// its n-th arrival at the chosen step; the victim sleeps there until released. Meanwhile the
// others must finish all their work (a stopped thread blocks nobody and costs no capacity); then
// the victim resumes, very late, and everything must still add up exactly once.

struct stopping_hook {
    static inline std::atomic<int> stop_at{-1};
    static inline std::atomic<std::int64_t> arrivals_left{0};
    static inline std::atomic<bool> stopped{false};
    static inline std::atomic<bool> released{false};
    static inline thread_local bool is_victim = false;
    static void at(split_step step) noexcept {
        if (!is_victim || int(step) != stop_at.load(std::memory_order_relaxed)) return;
        if (arrivals_left.fetch_sub(1) != 1) return;
        stopped.store(true);
        while (!released.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
};

const char* step_name(split_step step) {
    static const char* const names[] = {
        "push_back located", "push_back bumped", "push_back done (before the hint)",
        "push_front located", "push_front bumped", "push_front done (before the hint)",
        "pop_back located", "pop_back bumped", "pop_back done (before the hint)",
        "pop_front located", "pop_front bumped", "pop_front done (before the hint)",
        "push_back full check", "push_front full check", "pop_back empty check", "pop_front empty check",
        "reservation counted", "reservation's cells flagged (before its check)"};
    static_assert(sizeof(names) / sizeof(names[0]) == std::size_t(split_step::count));
    return names[int(step)];
}

enum class operation { push_back, push_front, pop_back, pop_front };

operation operation_of(split_step step) {
    switch (step) {
        case split_step::push_back_located: case split_step::push_back_bumped: case split_step::push_back_done:
        case split_step::push_back_full_check: return operation::push_back;
        case split_step::push_front_located: case split_step::push_front_bumped: case split_step::push_front_done:
        case split_step::push_front_full_check: return operation::push_front;
        case split_step::pop_back_located: case split_step::pop_back_bumped: case split_step::pop_back_done:
        case split_step::pop_back_empty_check: return operation::pop_back;
        default: return operation::pop_front;
    }
}
bool is_push(operation op) { return op == operation::push_back || op == operation::push_front; }

// Ledger ids: two producers, the victim, the items that fill the deque before a full check, and
// the items the main thread pushes to probe the capacity while the victim is stopped.
constexpr std::uint32_t stop_producers = 2, victim_id = 2, prefill_id = 3, probe_id = 4, stop_ledger_ids = 5;
constexpr std::uint32_t stop_items = 20000 / stress_divisor;
constexpr std::uint32_t stop_ledger_items = stop_items > 1024 ? stop_items : 1024;
using stop_ledger = vdsokit_test::exactly_once_ledger<stop_ledger_ids, stop_ledger_items>;

struct stop_outcome {
    bool stopped = false;
    std::uint64_t missing_while_stopped = 0;
};

// One run; returns whether the victim was stopped (a step it never reached proves nothing: the
// caller retries). Checks everything it can on the way.
template <std::uint32_t Capacity>
stop_outcome run_with_stopped_thread(split_step step, std::uint64_t seed) {
    using deque_type = vdsokit::detail::basic_split_deque<std::uint64_t, Capacity, stopping_hook>;
    auto deque = std::make_unique<deque_type>();
    auto ledger = std::make_unique<stop_ledger>();
    std::mt19937_64 random(seed);
    const operation victim_operation = operation_of(step);
    const bool check_step = step >= split_step::push_back_full_check;
    const bool full_check = step == split_step::push_back_full_check || step == split_step::push_front_full_check;
    const bool empty_check = check_step && !full_check;
    stopping_hook::stop_at.store(int(step));
    // Checks are reached once per refused operation, the other steps once per attempt.
    stopping_hook::arrivals_left.store(std::int64_t(1 + random() % (check_step ? 8 : 200)));
    stopping_hook::stopped.store(false);
    stopping_hook::released.store(false);

    // A full check needs a full deque: fill it, and hold the consumers back until the victim is
    // stopped or has given up (the producers then keep it full). Likewise the producers wait for
    // an empty check. The others still do all their work while the victim is stopped.
    if (full_check)
        for (std::uint32_t s = 0; s < Capacity; ++s) REQUIRE(deque->push_back(make_item(prefill_id, s)));
    std::atomic<bool> victim_settled{false};    // stopped, or ran out of operations
    std::atomic<std::uint32_t> victim_confirmed{0};  // the victim's pushes known to have succeeded
    std::atomic<int> victim_in_operation{-1};
    std::atomic<std::uint32_t> producers_done{0}, consumers_done{0};
    std::atomic<bool> abandon{false};
    auto victim_done_or_stopped = [&] { return stopping_hook::stopped.load() || victim_settled.load(); };

    std::thread victim([&] {
        stopping_hook::is_victim = true;
        std::mt19937_64 own_random(seed * 31 + 1);
        std::uint32_t sequence = 0;
        for (std::uint32_t round = 0; round < 8 * stop_items && !abandon.load(); ++round) {
            // Mostly the operation that holds the step, sometimes any other (which moves the ends
            // and leaves flags behind).
            operation op = own_random() % 4 ? victim_operation : operation(own_random() % 4);
            if (is_push(op) && sequence >= stop_items) op = op == operation::push_back ? operation::pop_front : operation::pop_back;
            victim_in_operation.store(int(op));
            std::uint64_t item = make_item(victim_id, sequence);
            switch (op) {
                case operation::push_back: if (deque->push_back(item)) victim_confirmed.store(++sequence); break;
                case operation::push_front: if (deque->push_front(item)) victim_confirmed.store(++sequence); break;
                case operation::pop_back: if (deque->pop_back(item)) ledger->record(item); break;
                case operation::pop_front: if (deque->pop_front(item)) ledger->record(item); break;
            }
            victim_in_operation.store(-1);
            if (stopping_hook::released.load()) break;  // resumed after its stop: finish and leave
            if (!is_push(op) || sequence % 16 == 0) std::this_thread::yield();  // let the others interleave
        }
        victim_settled.store(true);
    });
    std::vector<std::thread> others;
    for (std::uint32_t p = 0; p < stop_producers; ++p) {
        others.emplace_back([&, p] {
            while (empty_check && !victim_done_or_stopped()) std::this_thread::yield();
            std::mt19937 own_random(std::uint32_t(seed * 7 + p));
            for (std::uint32_t sequence = 0; sequence < stop_items && !abandon.load();) {
                const std::uint64_t item = make_item(p, sequence);
                if (own_random() % 2 ? deque->push_front(item) : deque->push_back(item)) ++sequence;
                else std::this_thread::yield();
            }
            producers_done.fetch_add(1);
        });
    }
    for (std::uint32_t c = 0; c < 2; ++c) {
        others.emplace_back([&, c] {
            while (full_check && !victim_done_or_stopped()) std::this_thread::yield();
            std::mt19937 own_random(std::uint32_t(seed * 11 + c));
            // The first consumer pops at the front through a trailing consumer: a producer stopped
            // for ever only shortens its waits.
            typename deque_type::trailing_consumer trailing(*deque);
            while (!abandon.load()) {
                // Once the producers are done and the victim is stopped (or gone), nobody pushes
                // any more: an empty pop (linearizable) then means empty for good.
                const bool finished = producers_done.load() == stop_producers && victim_done_or_stopped();
                std::uint64_t item = 0;
                const bool popped = own_random() % 2 ? (c == 0 ? trailing.pop_front(item) : deque->pop_front(item))
                                                     : deque->pop_back(item);
                if (popped) ledger->record(item);
                else if (finished) break;
                else std::this_thread::yield();
            }
            consumers_done.fetch_add(1);
        });
    }

    // Hang detector, not a speed check: the others must finish while the victim is stopped.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (consumers_done.load() < 2 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (consumers_done.load() < 2) {
        // Threads stuck inside the deque cannot be joined, nor the test unwound past them.
        std::fprintf(stderr, "FAILED: split deque victim to stop at '%s' (capacity %u, seed %llu): the others did "
                     "not finish within the hang limit (consumers done %u, producers done %u, victim stopped %d)\n",
                     step_name(step), Capacity, (unsigned long long)seed, consumers_done.load(), producers_done.load(),
                     int(stopping_hook::stopped.load()));
        std::fflush(stderr);
        std::_Exit(3);
    }
    for (auto& thread : others) thread.join();
    // A failed check below must not leave the victim stopped and unjoined (std::terminate).
    struct release_on_exit {
        std::thread& victim;
        ~release_on_exit() {
            stopping_hook::released.store(true);
            if (victim.joinable()) victim.join();
        }
    } release_guard{victim};

    stop_outcome outcome;
    outcome.stopped = stopping_hook::stopped.load();
    INFO("stopped at '" << step_name(step) << "', capacity " << Capacity << ", seed " << seed << ", victim stopped "
                        << outcome.stopped);

    if (outcome.stopped) {
        // Phase 1, the victim still stopped. Its operation is the one of the step; the item it
        // pushes is in the deque exactly when the push's CAS was done, and a pop it completed
        // holds its element (the only one that may be missing).
        const std::uint32_t confirmed = victim_confirmed.load();
        const bool push_landed = step == split_step::push_back_done || step == split_step::push_front_done;
        const bool pop_landed = step == split_step::pop_back_done || step == split_step::pop_front_done;
        REQUIRE(victim_in_operation.load() == int(victim_operation));
        REQUIRE(ledger->duplicates.load() == 0);
        REQUIRE(ledger->out_of_range.load() == 0);
        std::uint64_t missing = 0;
        for (std::uint32_t p = 0; p < stop_producers; ++p)
            for (std::uint32_t s = 0; s < stop_items; ++s) missing += !ledger->seen(p, s);
        if (full_check)
            for (std::uint32_t s = 0; s < Capacity; ++s) missing += !ledger->seen(prefill_id, s);
        for (std::uint32_t s = 0; s < confirmed; ++s) missing += !ledger->seen(victim_id, s);
        outcome.missing_while_stopped = missing;
        REQUIRE(missing == (pop_landed ? 1u : 0u));
        if (confirmed < stop_items) REQUIRE(ledger->seen(victim_id, confirmed) == push_landed);
        for (std::uint32_t s = confirmed + 1; s < stop_items; ++s) REQUIRE_FALSE(ledger->seen(victim_id, s));

        // It costs no capacity: the main thread fills the deque completely, and gets it all back
        // in order, while the victim is still stopped.
        REQUIRE(deque->size() == 0);
        for (std::uint32_t s = 0; s < Capacity; ++s) REQUIRE(deque->push_back(make_item(probe_id, s)));
        REQUIRE_FALSE(deque->push_back(make_item(probe_id, Capacity)));
        REQUIRE_FALSE(deque->push_front(make_item(probe_id, Capacity)));
        REQUIRE(deque->size() == Capacity);
        for (std::uint32_t s = 0; s < Capacity; ++s) {
            std::uint64_t item = 0;
            REQUIRE(deque->pop_front(item));
            REQUIRE(item == make_item(probe_id, s));
        }
        REQUIRE(deque->size() == 0);
    }

    // Phase 2: the victim resumes (or had finished), then whatever is left is drained.
    stopping_hook::released.store(true);
    victim.join();
    std::uint64_t item = 0;
    while (deque->pop_front(item) || deque->pop_back(item)) ledger->record(item);
    const std::uint32_t confirmed = victim_confirmed.load();
    REQUIRE(ledger->duplicates.load() == 0);
    REQUIRE(ledger->out_of_range.load() == 0);
    for (std::uint32_t p = 0; p < stop_producers; ++p)
        for (std::uint32_t s = 0; s < stop_items; ++s) REQUIRE(ledger->seen(p, s));
    if (full_check)
        for (std::uint32_t s = 0; s < Capacity; ++s) REQUIRE(ledger->seen(prefill_id, s));
    for (std::uint32_t s = 0; s < confirmed; ++s) REQUIRE(ledger->seen(victim_id, s));
    for (std::uint32_t s = confirmed; s < stop_items; ++s) REQUIRE_FALSE(ledger->seen(victim_id, s));
    REQUIRE(deque->size() == 0);
    return outcome;
}

template <std::uint32_t Capacity>
void stop_at_every_step(std::uint64_t seed_base) {
    // The steps of the plain operations; reservations have their own test.
    for (int index = 0; index <= int(split_step::pop_front_empty_check); ++index) {
        const split_step step = split_step(index);
        // A run in which the victim never reached the step proves nothing: retry a few times,
        // and fail if it never gets there.
        bool stopped = false;
        int attempts = 0;
        for (; attempts < 6 && !stopped; ++attempts)
            stopped = run_with_stopped_thread<Capacity>(step, seed_base + std::uint64_t(index) * 1000 + attempts).stopped;
        INFO("capacity " << Capacity << ", step '" << step_name(step) << "', attempts " << attempts);
        REQUIRE(stopped);
    }
}

TEST_CASE("a split deque thread stopped for ever at any step blocks nobody and costs no capacity",
          "[split_deque][stopped]") {
    SECTION("capacity 4") { stop_at_every_step<4>(40000); }
    SECTION("capacity 1024") { stop_at_every_step<1024>(1024000); }
}

TEST_CASE("long: split deque threads stopped at every step, many seeds", "[.long][split_deque][stopped]") {
    for (std::uint64_t round = 0; round < 10; ++round) {
        stop_at_every_step<2>(round * 100000 + 2);
        stop_at_every_step<4>(round * 100000 + 4);
        stop_at_every_step<1024>(round * 100000 + 1024);
    }
}

// Deterministic interleavings behind the one-CAS path of push_back and pop_front. A pop_back (or
// push_front) stopped between its two CASes has flagged the cell beyond its target; others then
// empty and refill that cell. The flag must be carried over by every one of those changes, so that
// the push_back (pop_front) that next takes the cell goes the two-step way and kills the pending
// operation; otherwise the stopped operation, resumed, lands on a stale snapshot.

// Starts `operation` on a victim thread that stops at its first arrival at `step`, and waits
// until it has.
template <class Operation>
std::thread start_stopped_victim(split_step step, Operation operation) {
    stopping_hook::stop_at.store(int(step));
    stopping_hook::arrivals_left.store(1);
    stopping_hook::stopped.store(false);
    stopping_hook::released.store(false);
    std::thread victim([operation] {
        stopping_hook::is_victim = true;
        operation();
    });
    while (!stopping_hook::stopped.load()) std::this_thread::sleep_for(std::chrono::microseconds(100));
    return victim;
}

TEST_CASE("a stopped pop_back's flag survives its cell being refilled at the front and popped",
          "[split_deque][stopped]") {
    vdsokit::detail::basic_split_deque<std::uint64_t, 4, stopping_hook> deque;
    REQUIRE(deque.push_back(10));
    REQUIRE(deque.push_back(11));  // positions 0 and 1
    std::uint64_t victim_value = 0;
    bool victim_popped = false;
    // Stopped after flagging C(2), before taking position 1.
    std::thread victim = start_stopped_victim(split_step::pop_back_bumped, [&] { victim_popped = deque.pop_back(victim_value); });
    REQUIRE(deque.push_front(20));
    REQUIRE(deque.push_front(21));  // position -2 is cell 2: full, 21 20 10 11
    std::uint64_t value = 0;
    REQUIRE(deque.pop_front(value));  // cell 2 empty again
    REQUIRE(value == 21);
    REQUIRE(deque.push_back(12));  // position 2, cell 2: must kill the pending pop_back of position 1
    stopping_hook::released.store(true);
    victim.join();
    // The pop_back resumes after push_back(12): the back is then 12, not 11.
    REQUIRE(victim_popped);
    REQUIRE(victim_value == 12);
    for (std::uint64_t expected : {20, 10, 11}) {
        REQUIRE(deque.pop_front(value));
        REQUIRE(value == expected);
    }
    REQUIRE_FALSE(deque.pop_back(value));
    REQUIRE(deque.size() == 0);
}

TEST_CASE("a stopped push_front's flag survives its cell being filled and emptied at the back",
          "[split_deque][stopped]") {
    for (int refills = 1; refills <= 2; ++refills) {
        CAPTURE(refills);
        vdsokit::detail::basic_split_deque<std::uint64_t, 4, stopping_hook> deque;
        bool victim_pushed = false;
        // On the empty deque: stopped after flagging C(0), before writing position -1 (cell 3).
        std::thread victim = start_stopped_victim(split_step::push_front_bumped, [&] { victim_pushed = deque.push_front(30); });
        std::uint64_t value = 0;
        for (int i = 1; i < refills; ++i) {  // filled and emptied at the back first
            REQUIRE(deque.push_back(39));
            REQUIRE(deque.pop_back(value));
        }
        REQUIRE(deque.push_back(40));  // cell 0
        REQUIRE(deque.pop_front(value));  // must kill the pending push_front into cell 3
        REQUIRE(value == 40);
        stopping_hook::released.store(true);
        victim.join();
        REQUIRE(victim_pushed);
        // A push that reported success must be there, and alone.
        REQUIRE(deque.size() == 1);
        REQUIRE(deque.pop_front(value));
        REQUIRE(value == 30);
        REQUIRE_FALSE(deque.pop_back(value));
        REQUIRE_FALSE(deque.pop_front(value));
    }
}

TEST_CASE("a pop_front that finds its cell empty reports empty only if the deque was empty meanwhile",
          "[split_deque][stopped]") {
    vdsokit::detail::basic_split_deque<std::uint64_t, 4, stopping_hook> deque;
    REQUIRE(deque.push_back(10));              // position 0
    deque.scramble_hints_for_testing(1, 1);   // a front hint one past the front, as a late store leaves it
    std::uint64_t victim_value = 0;
    bool victim_popped = false;
    // Stopped after seeing C(1) empty, before looking at C(0).
    std::thread victim = start_stopped_victim(split_step::pop_front_empty_check, [&] { victim_popped = deque.pop_front(victim_value); });
    REQUIRE(deque.push_back(11));  // position 1: the deque holds 10 11
    std::uint64_t value = 0;
    REQUIRE(deque.pop_front(value));  // C(0) now reads as popped; the deque holds 11
    REQUIRE(value == 10);
    stopping_hook::released.store(true);
    victim.join();
    // The deque was never empty during the victim's call: C(1) changed under it.
    REQUIRE(victim_popped);
    REQUIRE(victim_value == 11);
    REQUIRE(deque.size() == 0);
}

// ------------------------------------------------------------------------------------------------
// Processes: the deque in a memfd that every process maps at its own address (the cells hold no
// pointer), and processes SIGKILLed mid-operation.

constexpr std::uint32_t max_processes = 64;
constexpr std::uint32_t max_process_items = 1u << 17;
constexpr std::uint32_t process_capacity = 8;

struct process_shared_state {
    vdsokit::split_deque<std::uint64_t, process_capacity> deque;
    vdsokit_test::exactly_once_ledger<max_processes, max_process_items> ledger;
    std::atomic<std::uint64_t> view_address[max_processes];  // where each process mapped the file
    std::atomic<std::uint32_t> confirmed[max_processes];     // pushes known to have succeeded
    std::atomic<std::uint32_t> producers_done;
    std::atomic<std::uint32_t> kills_done;  // survivors keep working until every victim is dead
};

// Maps the file again, away from the inherited view, and checks that it really is elsewhere.
process_shared_state* map_own_view(vdsokit_test::shared_memory_file& file, std::uint32_t id) {
    auto* hint = static_cast<char*>(file.parent_view()) + (std::size_t(id) + 1) * (std::size_t(64) << 20);
    void* view = file.map(hint);
    if (view == file.parent_view()) _exit(90);
    auto* state = static_cast<process_shared_state*>(view);
    state->view_address[id].store(reinterpret_cast<std::uintptr_t>(view));
    return state;
}

// Pushes `items` items as process `id` at alternating ends while popping at the opposite end
// (sometimes a burst of up to max_process_burst), so that every process both produces and consumes.
// Forever if `items` is max_process_items or more (victims wait to be killed).
constexpr std::size_t max_process_burst = 3;
[[noreturn]] void producer_consumer(vdsokit_test::shared_memory_file& file, std::uint32_t id, std::uint32_t items,
                                    std::uint32_t total_producers) {
    process_shared_state& state = *map_own_view(file, id);
    std::uint32_t sequence = 0;
    std::uint64_t out[max_process_burst];
    for (std::uint32_t round = 0;; ++round) {
        const deque_end end = round % 2 ? deque_end::front : deque_end::back;
        if (sequence < items && sequence < max_process_items) {
            const std::uint64_t item = make_item(id, sequence);
            if (end == deque_end::front ? state.deque.push_front(item) : state.deque.push_back(item)) {
                state.confirmed[id].store(++sequence);
                if (sequence == items) state.producers_done.fetch_add(1);
            }
        }
        const deque_end other_end = end == deque_end::front ? deque_end::back : deque_end::front;
        const std::size_t got = state.deque.pop_burst(other_end, std::span(out, round % 4 == 0 ? max_process_burst : 1));
        for (std::size_t i = 0; i < got; ++i) state.ledger.record(out[i]);
        if (sequence >= items && state.producers_done.load() >= total_producers && state.kills_done.load() != 0) _exit(0);
        if (got == 0) sched_yield();
    }
}


void drain_into_ledger(process_shared_state& state) {
    std::uint64_t item = 0;
    while (state.deque.pop_back(item)) state.ledger.record(item);
}

// Quiescent: the deque must take exactly capacity() elements, at either end, and give them back.
void require_whole_capacity(process_shared_state& state) {
    REQUIRE(state.deque.size() == 0);
    for (std::uint64_t i = 0; i < process_capacity; ++i) REQUIRE((i % 2 ? state.deque.push_front(i) : state.deque.push_back(i)));
    REQUIRE_FALSE(state.deque.push_back(99));
    REQUIRE_FALSE(state.deque.push_front(99));
    REQUIRE(state.deque.size() == process_capacity);
    std::uint64_t item = 0, popped = 0;
    while (state.deque.pop_front(item)) ++popped;
    REQUIRE(popped == process_capacity);
}

TEST_CASE("processes mapping a split deque at different addresses exchange every item exactly once",
          "[split_deque][process]") {
    vdsokit_test::shared_memory_file file(sizeof(process_shared_state));
    auto& state = *vdsokit_test::construct_shared<process_shared_state>(file);
    constexpr std::uint32_t processes = 4, items = 50000;
    state.kills_done.store(1);  // nobody is killed here
    std::vector<pid_t> children;
    for (std::uint32_t id = 0; id < processes; ++id)
        children.push_back(spawn([&] { producer_consumer(file, id, items, processes); }));
    REQUIRE(wait_all(children, std::chrono::seconds(60)));
    drain_into_ledger(state);

    for (std::uint32_t id = 0; id < processes; ++id) {
        CAPTURE(id);
        REQUIRE(state.view_address[id].load() != 0);
        REQUIRE(state.view_address[id].load() != reinterpret_cast<std::uintptr_t>(file.parent_view()));
    }
    REQUIRE(state.ledger.duplicates.load() == 0);
    REQUIRE(state.ledger.out_of_range.load() == 0);
    REQUIRE(state.ledger.consumed.load() == std::uint64_t(processes) * items);
    REQUIRE(state.ledger.checksum.load() == decltype(state.ledger)::expected_checksum(processes, items));
    require_whole_capacity(state);
}

// A stream between two processes, each mapping the deque at an address of its own: a producer
// pushes through a trailing producer as fast as it can, a consumer pops through a trailing
// consumer. Every item arrives once, in order.
TEST_CASE("trailing handles stream between processes, every item once and in order",
          "[split_deque][process]") {
    struct stream_state {
        vdsokit::split_deque<std::uint64_t, 1024> deque;
        std::atomic<std::uint64_t> received{0}, out_of_order{0};
        std::atomic<std::uintptr_t> view_address[2]{};
    };
    vdsokit_test::shared_memory_file file(sizeof(stream_state));
    auto& state = *vdsokit_test::construct_shared<stream_state>(file);
    constexpr std::uint64_t items = 300000;
    const auto own_view = [&](std::size_t slot) {
        auto* view = static_cast<stream_state*>(file.map(static_cast<char*>(file.parent_view()) + (slot + 1) * (std::size_t(64) << 20)));
        view->view_address[slot].store(reinterpret_cast<std::uintptr_t>(view));
        return view;
    };
    const pid_t producer = spawn([&] {
        stream_state& own = *own_view(0);
        decltype(own.deque)::trailing_producer trailing(own.deque);
        for (std::uint64_t item = 1; item <= items;)
            if (trailing.push_back(item)) ++item;
            else vdsokit::detail::cpu_relax();
        _exit(0);
    });
    const pid_t consumer = spawn([&] {
        stream_state& own = *own_view(1);
        decltype(own.deque)::trailing_consumer trailing(own.deque);
        std::uint64_t expected = 1, item = 0;
        while (expected <= items) {
            if (!trailing.pop_front(item)) {
                vdsokit::detail::cpu_relax();
                continue;
            }
            if (item != expected) own.out_of_order.fetch_add(1);
            expected = item + 1;
            own.received.fetch_add(1, std::memory_order_relaxed);
        }
        _exit(0);
    });
    REQUIRE(wait_all({producer, consumer}, std::chrono::seconds(60)));
    for (const auto& address : state.view_address) {
        REQUIRE(address.load() != 0);
        REQUIRE(address.load() != reinterpret_cast<std::uintptr_t>(file.parent_view()));
    }
    REQUIRE(state.view_address[0].load() != state.view_address[1].load());
    REQUIRE(state.out_of_order.load() == 0);
    REQUIRE(state.received.load() == items);
    REQUIRE(state.deque.size() == 0);
}

// Starts `survivors` processes running body(id, survivor_items, survivors) and, for `rounds`
// rounds, kills `victims_per_round` more (running body(id, ...) for ever) at random moments; then
// the survivors must finish on their own: a dead process never blocks them. Returns the kills;
// `next_id` is one past the last process id.
template <class Body>
std::uint32_t kill_while_survivors_work(std::uint32_t rounds, std::uint32_t victims_per_round, std::uint32_t survivors,
                                        std::uint32_t survivor_items, unsigned seed, std::atomic<std::uint32_t>& kills_done,
                                        std::uint32_t& next_id, Body body) {
    REQUIRE(survivors + rounds * victims_per_round <= max_processes);
    std::vector<pid_t> survivor_pids;
    for (std::uint32_t id = 0; id < survivors; ++id)
        survivor_pids.push_back(spawn([&] { body(id, survivor_items, survivors); }));
    next_id = survivors;
    const std::uint32_t kills = vdsokit_test::kill_at_random_moments(rounds, victims_per_round, next_id, seed, [&](std::uint32_t id) {
        return spawn([&] { body(id, max_process_items, ~0u); });
    });
    kills_done.store(1);
    REQUIRE(wait_all(survivor_pids, std::chrono::seconds(120)));
    return kills;
}

// Kills `victims_per_round` processes at random moments while `survivors` keep working. A killed
// process loses at most the elements it had popped and not yet recorded (one burst), and costs no
// capacity.
void run_kill_rounds(std::uint32_t rounds, std::uint32_t victims_per_round, std::uint32_t survivors,
                     std::uint32_t survivor_items, unsigned seed) {
    vdsokit_test::shared_memory_file file(sizeof(process_shared_state));
    auto& state = *vdsokit_test::construct_shared<process_shared_state>(file);
    std::uint32_t next_id = 0;
    const std::uint32_t kills = kill_while_survivors_work(
        rounds, victims_per_round, survivors, survivor_items, seed, state.kills_done, next_id,
        [&](std::uint32_t id, std::uint32_t items, std::uint32_t producers) { producer_consumer(file, id, items, producers); });
    drain_into_ledger(state);

    const auto [lost, phantoms] = vdsokit_test::account_for_kills(state.ledger, state.confirmed, next_id, max_process_items);
    REQUIRE(phantoms == 0);
    INFO("kills " << kills << ", lost items " << lost);
    std::printf("split deque: killed %u processes mid-operation: %llu items lost (bound: %u)\n", kills,
                (unsigned long long)lost, kills * std::uint32_t(max_process_burst));
    REQUIRE(state.ledger.duplicates.load() == 0);
    REQUIRE(state.ledger.out_of_range.load() == 0);
    REQUIRE(lost <= kills * max_process_burst);
    for (std::uint32_t id = 0; id < survivors; ++id) REQUIRE(state.confirmed[id].load() == survivor_items);
    // No reclaim step exists or is needed: the whole capacity is there.
    require_whole_capacity(state);
}

TEST_CASE("split deque processes killed mid-operation lose at most their popped item and no capacity",
          "[split_deque][process][kill]") {
    run_kill_rounds(3, 2, 2, 30000, 12345);
}

TEST_CASE("long: many split deque processes killed mid-operation", "[.long][split_deque][process][kill]") {
    run_kill_rounds(10, 5, 3, 120000, 777);
}

// The same with reservations: processes push through push_slot and in bulk, and pop in bulk, at
// alternating ends, and victims are killed at random moments, perhaps holding reservations. A
// dead process blocks nobody: the survivors finish. What it costs: the reservations it held (at
// most one batch: reserved_places() and reserved_elements() stay within the bound until
// reclaim_leaked_reservations() at the quiescent end), and the elements it had popped (at most
// one batch). Elements reserved by the dead stay in the deque and are delivered after the reclaim.
// Room for what 50 victims can leave reserved (the long run), and more.
constexpr std::uint32_t reserving_capacity = 256, max_reserving_batch = 3;
struct reserving_process_state {
    vdsokit::split_deque<std::uint64_t, reserving_capacity> deque;
    vdsokit_test::exactly_once_ledger<max_processes, max_process_items> ledger;
    std::atomic<std::uint32_t> confirmed[max_processes];  // pushes known to have succeeded
    std::atomic<std::uint32_t> producers_done;
    std::atomic<std::uint32_t> kills_done;
};

[[noreturn]] void reserving_producer_consumer(vdsokit_test::shared_memory_file& file, std::uint32_t id, std::uint32_t items,
                                              std::uint32_t total_producers) {
    auto* view = file.map(static_cast<char*>(file.parent_view()) + (std::size_t(id) + 1) * (std::size_t(64) << 20));
    if (view == file.parent_view()) _exit(90);
    auto& state = *static_cast<reserving_process_state*>(view);
    std::uint32_t sequence = 0;
    std::uint64_t batch[max_reserving_batch];
    for (std::uint32_t round = 0;; ++round) {
        const deque_end end = round % 2 ? deque_end::front : deque_end::back;
        const deque_end other_end = end == deque_end::front ? deque_end::back : deque_end::front;
        const std::uint32_t count = 1 + round % max_reserving_batch;
        if (sequence < items && sequence < max_process_items - max_reserving_batch) {
            std::uint32_t pushed = 0;
            if (round % 3 == 0) {
                if (auto guard = state.deque.push_slot(end)) {
                    guard.value() = make_item(id, sequence);
                    pushed = guard.publish();
                }
            } else {
                const std::uint32_t n = std::min(count, items - sequence);
                for (std::uint32_t i = 0; i < n; ++i) batch[i] = make_item(id, sequence + i);
                pushed = std::uint32_t(state.deque.push_multiple(end, std::span<const std::uint64_t>(batch, n), vdsokit::batch_mode::bulk));
            }
            if (pushed != 0) {
                sequence += pushed;
                state.confirmed[id].store(sequence);
                if (sequence == items) state.producers_done.fetch_add(1);
            }
        }
        std::uint64_t out[max_reserving_batch];
        const std::size_t got = state.deque.pop_multiple(other_end, std::span(out, count),
                                                         round % 4 == 0 ? vdsokit::batch_mode::burst : vdsokit::batch_mode::bulk);
        for (std::size_t i = 0; i < got; ++i) state.ledger.record(out[i]);
        if (sequence >= items && state.producers_done.load() >= total_producers && state.kills_done.load() != 0) _exit(0);
        if (got == 0) sched_yield();
    }
}

void run_reserving_kill_rounds(std::uint32_t rounds, std::uint32_t victims_per_round, std::uint32_t survivor_items,
                               unsigned seed) {
    vdsokit_test::shared_memory_file file(sizeof(reserving_process_state));
    auto& state = *vdsokit_test::construct_shared<reserving_process_state>(file);
    constexpr std::uint32_t survivors = 2;
    std::uint32_t next_id = 0;
    const std::uint32_t kills = kill_while_survivors_work(
        rounds, victims_per_round, survivors, survivor_items, seed, state.kills_done, next_id,
        [&](std::uint32_t id, std::uint32_t items, std::uint32_t producers) {
            reserving_producer_consumer(file, id, items, producers);
        });

    // Quiescent now (survivors exited, victims dead): what the dead left reserved, then reclaimed.
    const std::uint32_t leaked_places = state.deque.reserved_places(), leaked_elements = state.deque.reserved_elements();
    INFO("kills " << kills << ", leaked places " << leaked_places << ", leaked elements " << leaked_elements);
    REQUIRE(leaked_places + leaked_elements <= kills * max_reserving_batch);
    state.deque.reclaim_leaked_reservations();
    REQUIRE(state.deque.reserved_places() == 0);
    REQUIRE(state.deque.reserved_elements() == 0);
    std::uint64_t item = 0;
    while (state.deque.pop_back(item)) state.ledger.record(item);

    // Lost: confirmed but never consumed. Phantoms: consumed past a batch in flight.
    std::uint64_t lost = 0, phantoms = 0;
    for (std::uint32_t id = 0; id < next_id; ++id) {
        const std::uint32_t pushed = state.confirmed[id].load();
        for (std::uint32_t s = 0; s < pushed; ++s) lost += !state.ledger.seen(id, s);
        for (std::uint32_t s = pushed + max_reserving_batch; s < pushed + 64 && s < max_process_items; ++s)
            phantoms += state.ledger.seen(id, s);
    }
    std::printf("split deque: killed %u processes using reservations: %llu items lost (bound: %u), %u places and %u "
                "elements left reserved until reclaimed\n",
                kills, (unsigned long long)lost, kills * max_reserving_batch, leaked_places, leaked_elements);
    REQUIRE(phantoms == 0);
    REQUIRE(state.ledger.duplicates.load() == 0);
    REQUIRE(state.ledger.out_of_range.load() == 0);
    REQUIRE(lost <= kills * max_reserving_batch);
    // (A victim may have popped survivors' items too: those count as lost above.)
    for (std::uint32_t id = 0; id < survivors; ++id) REQUIRE(state.confirmed[id].load() == survivor_items);
    // After the reclaim the whole capacity is there again.
    for (std::uint32_t i = 0; i < reserving_capacity; ++i) REQUIRE((i % 2 ? state.deque.push_front(i) : state.deque.push_back(i)));
    REQUIRE_FALSE(state.deque.push_back(99));
    REQUIRE_FALSE(state.deque.push_front(99));
}

TEST_CASE("split deque processes killed holding reservations block nobody and cost at most one batch each",
          "[split_deque][process][kill]") {
    run_reserving_kill_rounds(3, 2, 30000, 4242);
}

TEST_CASE("long: many split deque processes killed holding reservations", "[.long][split_deque][process][kill]") {
    run_reserving_kill_rounds(10, 5, 120000, 4243);
}

}  // namespace
