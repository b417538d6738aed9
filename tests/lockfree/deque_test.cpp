// The deque in one address space: semantics single-threaded, then threaded stress with producers
// and consumers at both ends on a small (so often full) deque. Tagged [long] cases run only in
// the 'long' suite.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <new>
#include <thread>
#include <vector>

#include <vdsokit/deque.hpp>

#include "stress_support.hpp"

using vdsokit::batch_mode;
using vdsokit::deque_end;
using vdsokit_test::element_of;
using vdsokit_test::item_of;
using vdsokit_test::make_item;
using vdsokit_test::wide_item;
using vdsokit_test::stress_divisor;

namespace {

constinit vdsokit::deque<std::uint32_t, 8> global_deque;  // constant-initialised, like a vVAR field

TEST_CASE("a deque is constant-initialisable and reports its layout", "[deque]") {
    REQUIRE(global_deque.empty());
    REQUIRE(global_deque.free_slots() == 8);
    REQUIRE(global_deque.push_back(7));
    std::uint32_t value = 0;
    REQUIRE(global_deque.pop_front(value));
    REQUIRE(value == 7);
    STATIC_REQUIRE(vdsokit::layout_fingerprint<vdsokit::deque<std::uint32_t, 8>> !=
                   vdsokit::layout_fingerprint<vdsokit::deque<std::uint32_t, 16>>);
    STATIC_REQUIRE(vdsokit::layout_fingerprint<vdsokit::deque<std::uint32_t, 8>> !=
                   vdsokit::layout_fingerprint<vdsokit::deque<std::uint64_t, 8>>);
}

TEST_CASE("both ends behave as a double-ended queue", "[deque]") {
    vdsokit::deque<int, 8> deque;
    int value = 0;
    REQUIRE_FALSE(deque.pop_front(value));
    REQUIRE_FALSE(deque.pop_back(value));
    REQUIRE(deque.push_back(2));
    REQUIRE(deque.push_front(1));
    REQUIRE(deque.push_back(3));  // 1 2 3
    REQUIRE(deque.size() == 3);
    REQUIRE(deque.pop_back(value));
    REQUIRE(value == 3);
    REQUIRE(deque.pop_front(value));
    REQUIRE(value == 1);
    REQUIRE(deque.pop_front(value));
    REQUIRE(value == 2);
    REQUIRE(deque.empty());
}

TEST_CASE("a full deque refuses pushes at both ends and an empty one refuses pops", "[deque]") {
    vdsokit::deque<int, 4> deque;
    for (int i = 0; i < 4; ++i) REQUIRE((i % 2 == 0 ? deque.push_back(i) : deque.push_front(i)));
    REQUIRE_FALSE(deque.push_back(99));
    REQUIRE_FALSE(deque.push_front(99));
    REQUIRE_FALSE(deque.push_slot(deque_end::back));
    int values[4];
    REQUIRE(deque.pop_multiple(deque_end::front, values, batch_mode::bulk) == 4);
    REQUIRE(values[0] == 3);
    REQUIRE(values[1] == 1);
    REQUIRE(values[2] == 0);
    REQUIRE(values[3] == 2);
    REQUIRE_FALSE(deque.pop_back(values[0]));
    REQUIRE(deque.free_slots() == 4);
}

TEST_CASE("the index wraps around many times without losing order", "[deque]") {
    vdsokit::deque<std::uint64_t, 4> deque;
    std::uint64_t value = 0;
    for (std::uint64_t i = 0; i < 100000; ++i) {
        REQUIRE(deque.push_front(i));
        REQUIRE(deque.push_front(i + 1));
        REQUIRE(deque.pop_back(value));
        REQUIRE(value == i);
        REQUIRE(deque.pop_back(value));
        REQUIRE(value == i + 1);
    }
}

TEST_CASE("push_slot publishes when the guard is released and cancel gives the slot back", "[deque]") {
    struct message {
        std::uint32_t kind;
        std::uint64_t payload[3];
    };
    vdsokit::deque<message, 2> deque;
    {
        auto slot = deque.push_slot(deque_end::back);
        REQUIRE(slot);
        slot->kind = 5;
        slot->payload[2] = 42;
        REQUIRE(deque.empty());  // not visible until released
    }
    REQUIRE(deque.size() == 1);
    {
        auto slot = deque.push_slot(deque_end::front);
        REQUIRE(slot);
        slot.cancel();
    }
    REQUIRE(deque.size() == 1);
    REQUIRE(deque.free_slots() == 1);
    message out{};
    REQUIRE(deque.pop_front(out));
    REQUIRE(out.kind == 5);
    REQUIRE(out.payload[2] == 42);
}

TEST_CASE("reclaiming at a quiescent point keeps the elements and the free slots", "[deque]") {
    // A real leak needs a dead process: see deque_process_test.cpp.
    vdsokit::deque<int, 8> deque;
    const int items[3] = {1, 2, 3};
    REQUIRE(deque.push_multiple(deque_end::back, items, batch_mode::bulk) == 3);
    REQUIRE(deque.push_front(0));
    REQUIRE(deque.reclaim_leaked_slots() == 0);
    REQUIRE(deque.free_slots() == 4);
    int out[8];
    REQUIRE(deque.pop_multiple(deque_end::front, out, batch_mode::burst) == 4);
    REQUIRE(out[0] == 0);
    REQUIRE(out[3] == 3);
    for (int i = 0; i < 8; ++i) REQUIRE(deque.push_back(i));
    REQUIRE_FALSE(deque.push_back(8));
}

TEST_CASE("bulk batches are all or nothing and bursts take what fits", "[deque]") {
    vdsokit::deque<int, 8> deque;
    const int items[6] = {1, 2, 3, 4, 5, 6};
    REQUIRE(deque.push_multiple(deque_end::back, items, batch_mode::bulk) == 6);
    REQUIRE(deque.push_multiple(deque_end::back, items, batch_mode::bulk) == 0);
    REQUIRE(deque.size() == 6);
    REQUIRE(deque.push_multiple(deque_end::front, items, batch_mode::burst) == 2);  // 2 1 1 2 3 4 5 6
    int out[10] = {};
    REQUIRE(deque.pop_multiple(deque_end::back, std::span(out, 10), batch_mode::bulk) == 0);
    REQUIRE(deque.pop_multiple(deque_end::back, std::span(out, 3), batch_mode::bulk) == 3);
    REQUIRE(out[0] == 6);
    REQUIRE(out[2] == 4);
    REQUIRE(deque.pop_multiple(deque_end::front, std::span(out, 10), batch_mode::burst) == 5);
    REQUIRE(out[0] == 2);
    REQUIRE(out[1] == 1);
    REQUIRE(out[4] == 3);
    REQUIRE(deque.empty());
    REQUIRE(deque.free_slots() == 8);
}

// A pusher, or a guard, that is never destroyed: what a process leaves behind when it is killed.
// One abandoned handle per handle type (the storage is per type).
template <class Handle>
Handle& abandon(Handle&& handle) {
    alignas(Handle) static unsigned char storage[sizeof(Handle)];
    return *new (storage) Handle(static_cast<Handle&&>(handle));
}

TEST_CASE("pushers: attached per owner until none is left, detached, reclaimed by owner", "[deque][pusher]") {
    vdsokit::deque<std::uint64_t, 8, 2> deque;
    REQUIRE_FALSE(deque.attach_pusher(0));  // 0 means "no owner"
    auto first = deque.attach_pusher(7);
    auto second = deque.attach_pusher(8);
    REQUIRE(first);
    REQUIRE(second);
    REQUIRE_FALSE(deque.attach_pusher(9));
    // Pushes without a pusher attach one for the call: with none free they refuse, changing nothing.
    REQUIRE_FALSE(deque.push_back(1));
    REQUIRE_FALSE(deque.push_slot(deque_end::back));
    const std::uint64_t batch[2] = {1, 2};
    REQUIRE(deque.push_multiple(deque_end::back, batch, batch_mode::burst) == 0);
    REQUIRE(deque.empty());

    REQUIRE(first.push_back(1));
    second.detach();
    REQUIRE_FALSE(second);
    REQUIRE(deque.push_back(2));
    auto& dead = abandon(deque.attach_pusher(9));  // its process is killed holding it
    REQUIRE(dead.push_back(3));
    REQUIRE_FALSE(deque.attach_pusher(10));
    REQUIRE(deque.reclaim_pushers(8) == 0);
    REQUIRE(deque.reclaim_pushers(9) == 1);
    REQUIRE(deque.attach_pusher(10));

    std::uint64_t value = 0;
    for (std::uint64_t expected = 1; expected <= 3; ++expected) {
        REQUIRE(deque.pop_front(value));
        REQUIRE(value == expected);
    }
    REQUIRE(deque.free_slots() == 8);
}

TEST_CASE("a newly attached pusher never rewrites the staging word of a push still pending", "[deque][pusher]") {
    // One pusher entry, so the second pusher gets the first one's staging words. The anchor still
    // references the first pusher's last push; rewriting that word would duplicate an element.
    vdsokit::deque<std::uint64_t, 8, 1> deque;
    for (std::uint64_t pushes_before = 1; pushes_before <= 2; ++pushes_before) {
        CAPTURE(pushes_before);
        {
            auto first = deque.attach_pusher(1);
            for (std::uint64_t i = 0; i < pushes_before; ++i) REQUIRE(first.push_back(10 + i));
        }
        {
            auto second = deque.attach_pusher(2);
            REQUIRE(second);
            REQUIRE(second.push_back(20));
            REQUIRE(second.push_back(21));
        }
        std::uint64_t value = 0;
        for (std::uint64_t i = 0; i < pushes_before; ++i) {
            REQUIRE(deque.pop_front(value));
            REQUIRE(value == 10 + i);
        }
        REQUIRE(deque.pop_front(value));
        REQUIRE(value == 20);
        REQUIRE(deque.pop_front(value));
        REQUIRE(value == 21);
        REQUIRE(deque.empty());
    }
}

TEST_CASE("push_slot on small elements reserves a place until published or cancelled", "[deque][pusher]") {
    vdsokit::deque<std::uint32_t, 4> deque;
    auto pusher = deque.attach_pusher(1);
    {
        auto slot = pusher.push_slot(deque_end::back);
        REQUIRE(slot);
        slot.value() = 9;
        REQUIRE(deque.empty());
        REQUIRE(deque.free_slots() == 3);
        REQUIRE(deque.push_front(1));
        REQUIRE(deque.push_front(2));
        REQUIRE(pusher.push_back(3));
        REQUIRE_FALSE(deque.push_back(4));  // the reserved place is not for others
        REQUIRE_FALSE(deque.push_slot(deque_end::front));
    }
    REQUIRE(deque.size() == 4);
    std::uint32_t value = 0;
    REQUIRE(deque.pop_back(value));
    REQUIRE(value == 9);
    {
        auto slot = deque.push_slot(deque_end::front);
        REQUIRE(slot);
        REQUIRE(deque.free_slots() == 0);
        slot.cancel();
        REQUIRE_FALSE(slot);
    }
    REQUIRE(deque.free_slots() == 1);
    REQUIRE(deque.size() == 3);

    // A guard whose process dies keeps its place (and its pusher) until the quiescent reclaim.
    auto& dead = abandon(deque.push_slot(deque_end::back));
    REQUIRE(dead);
    REQUIRE(deque.free_slots() == 0);
    REQUIRE(deque.reclaim_leaked_slots() == 1);
    REQUIRE(deque.reclaim_pushers(decltype(deque)::anonymous_owner) == 1);
    REQUIRE(deque.free_slots() == 1);
    REQUIRE(deque.size() == 3);
    REQUIRE(deque.pop_front(value));
    REQUIRE(value == 2);
}

// N producers and M consumers, each alternating ends (or using the mix given), every item
// accounted for exactly once by a bitmap, a count and a checksum. Producers push through a pusher
// of their own or without one, alternately by thread.
template <class Element, std::uint32_t Capacity, std::uint32_t Producers, std::uint32_t Items>
void run_threaded_stress(std::uint32_t consumers, bool batches) {
    auto deque = std::make_unique<vdsokit::deque<Element, Capacity>>();
    using ledger_type = vdsokit_test::exactly_once_ledger<Producers, Items>;
    auto ledger = std::make_unique<ledger_type>();
    std::atomic<std::uint32_t> producers_done{0};
    std::atomic<std::uint64_t> torn{0};
    std::vector<std::thread> threads;
    for (std::uint32_t p = 0; p < Producers; ++p) {
        threads.emplace_back([&, p] {
            auto pusher = deque->attach_pusher(p + 1);
            REQUIRE(pusher);
            const bool through_pusher = p % 2 == 0;
            std::uint32_t sequence = 0;
            Element batch[3];
            while (sequence < Items) {
                const deque_end end = (sequence + p) % 2 ? deque_end::front : deque_end::back;
                if (batches && sequence + 3 <= Items && sequence % 5 == 0) {
                    for (std::uint32_t i = 0; i < 3; ++i) batch[i] = element_of<Element>(make_item(p, sequence + i));
                    // A bulk batch larger than the capacity can never succeed: use bursts there.
                    const batch_mode mode = sequence % 2 && Capacity >= 3 ? batch_mode::bulk : batch_mode::burst;
                    const auto pushed = std::uint32_t(through_pusher ? pusher.push_multiple(end, batch, mode)
                                                                     : deque->push_multiple(end, batch, mode));
                    sequence += pushed;
                    if (pushed == 0) std::this_thread::yield();
                } else if (sequence % 7 == 3) {
                    auto slot = through_pusher ? pusher.push_slot(end) : deque->push_slot(end);
                    if (slot) slot.value() = element_of<Element>(make_item(p, sequence++));
                    else std::this_thread::yield();
                } else {
                    const Element element = element_of<Element>(make_item(p, sequence));
                    const bool pushed = through_pusher
                                            ? (end == deque_end::front ? pusher.push_front(element) : pusher.push_back(element))
                                            : (end == deque_end::front ? deque->push_front(element) : deque->push_back(element));
                    if (pushed) ++sequence;
                    else std::this_thread::yield();  // 2 cores, more threads: let a consumer run
                }
            }
            producers_done.fetch_add(1);
        });
    }
    for (std::uint32_t c = 0; c < consumers; ++c) {
        threads.emplace_back([&, c] {
            Element out[4];
            std::uint32_t round = 0;
            for (;;) {
                const bool finished = producers_done.load() == Producers;
                const deque_end end = (round++ + c) % 2 ? deque_end::front : deque_end::back;
                std::size_t got;
                if (batches && round % 3 == 0)
                    got = deque->pop_multiple(end, out, round % 2 ? batch_mode::bulk : batch_mode::burst);
                else
                    got = (end == deque_end::front ? deque->pop_front(out[0]) : deque->pop_back(out[0])) ? 1 : 0;
                for (std::size_t i = 0; i < got; ++i) ledger->record(item_of(out[i], torn));
                if (got == 0 && finished && deque->empty()) return;
                if (got == 0) std::this_thread::yield();
            }
        });
    }
    for (auto& thread : threads) thread.join();
    REQUIRE(torn.load() == 0);
    REQUIRE(ledger->duplicates.load() == 0);
    REQUIRE(ledger->out_of_range.load() == 0);
    REQUIRE(ledger->consumed.load() == std::uint64_t(Producers) * Items);
    REQUIRE(ledger->checksum.load() == ledger_type::expected_checksum(Producers, Items));
    REQUIRE(deque->free_slots() == Capacity);
}

TEMPLATE_TEST_CASE("threaded stress: producers and consumers at both ends of a small deque", "[deque][stress]",
                   std::uint64_t, wide_item) {
    SECTION("2 producers, 2 consumers, capacity 4") { run_threaded_stress<TestType, 4, 2, 200000 / stress_divisor>(2, false); }
    SECTION("3 producers, 1 consumer, capacity 2, with batches and push slots") {
        run_threaded_stress<TestType, 2, 3, 100000 / stress_divisor>(1, true);
    }
    SECTION("1 producer, 3 consumers, capacity 8, with batches") {
        run_threaded_stress<TestType, 8, 1, 200000 / stress_divisor>(3, true);
    }
}

// The case that livelocks the original deque: full, with producers pushing at both ends while a
// single slow consumer drains. Every producer must finish (no livelock) and nothing is lost.
TEST_CASE("a full deque with producers at both ends keeps making progress", "[deque][stress]") {
    auto deque = std::make_unique<vdsokit::deque<std::uint64_t, 2>>();
    constexpr std::uint32_t producers = 4, items = 20000 / stress_divisor;
    using ledger_type = vdsokit_test::exactly_once_ledger<producers, items>;
    auto ledger = std::make_unique<ledger_type>();
    REQUIRE(deque->push_back(make_item(0, 0)));
    REQUIRE(deque->push_front(make_item(1, 0)));
    REQUIRE_FALSE(deque->push_back(1));
    std::atomic<std::uint64_t> refused{0};
    std::vector<std::thread> threads;
    for (std::uint32_t p = 0; p < producers; ++p) {
        threads.emplace_back([&, p] {
            for (std::uint32_t sequence = p < 2 ? 1 : 0; sequence < items;) {
                const std::uint64_t item = make_item(p, sequence);
                if (p % 2 ? deque->push_front(item) : deque->push_back(item)) {
                    ++sequence;
                } else {
                    refused.fetch_add(1, std::memory_order_relaxed);
                    if (refused.load(std::memory_order_relaxed) % 8 == 0) std::this_thread::yield();
                }
            }
        });
    }
    std::uint64_t item = 0;
    for (std::uint64_t consumed = 0; consumed < std::uint64_t(producers) * items;) {
        if ((consumed % 2 ? deque->pop_front(item) : deque->pop_back(item))) {
            ledger->record(item);
            ++consumed;
        }
    }
    for (auto& thread : threads) thread.join();
    REQUIRE(refused.load() > 0);  // it really was full
    REQUIRE(ledger->duplicates.load() == 0);
    REQUIRE(ledger->checksum.load() == ledger_type::expected_checksum(producers, items));
}

TEMPLATE_TEST_CASE("long threaded stress", "[.long][deque]", std::uint64_t, wide_item) {
    run_threaded_stress<TestType, 4, 4, 2000000>(4, true);
    run_threaded_stress<TestType, 2, 2, 2000000>(2, false);
    run_threaded_stress<TestType, 64, 3, 3000000>(3, true);
}

}  // namespace
