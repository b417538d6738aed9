// The time page (include/vdsokit/vclock.hpp) through the real vclock vDSO, mapped into this
// process as a kernel would map it (embedded image, memfd vVAR with a read-only user view and a
// writable kernel view): values written by the kernel side read back exactly, unserved clocks
// fall back to the system call, advance() keeps every clock on its line, and a reader never sees
// a torn update while a writer rewrites the page continuously (threads and a forked process).
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <new>
#include <thread>
#include <vector>

#include <vdsokit/vclock.hpp>

#include "map_vclock.hpp"
#include "vclock_api.hpp"
#include "vclock_image.hpp"

namespace {

namespace vclock = vdsokit::vclock;

struct mapped_vclock {
    vdsokit::exec::mapped_image mapping;
    vclock::time_page* page = nullptr;  // the kernel's writable view
    vclock_vdso::dispatch_table vdso{};
};

mapped_vclock map_vclock() {
    mapped_vclock out;
    const std::string error = vdsokit::exec::map_embedded_image(vclock_vdso::embedded::image, out.mapping);
    INFO(error);
    REQUIRE(error.empty());
    out.page = new (out.mapping.kernel_vvar) vclock::time_page{};
    out.vdso = vclock_vdso::dispatch_table::bind(out.mapping.image_base);
    return out;
}

std::int64_t host_seconds(clockid_t clock) {
    timespec now{};
    clock_gettime(clock, &now);
    return now.tv_sec;
}

// The value of nanoseconds for update number k: a function of the seconds, so a reader can tell
// whether the two words it got came from the same update.
std::uint64_t nanoseconds_for(std::uint64_t k) { return (k * 2654435761ull) % 1'000'000'000ull; }

}  // namespace

TEST_CASE("the vVAR page the vDSO reads is the one the kernel view writes", "[vclock]") {
    auto v = map_vclock();
    REQUIRE(vclock_vdso::facts.vvar_size >= sizeof(vclock::time_page));
    CHECK(v.mapping.user_vvar + vclock_vdso::facts.vvar_size == v.mapping.image_base);
    vclock::set_clock(*v.page, vclock::clock_realtime, 77, 5, 0, 0, 0);
    const auto* user_view = reinterpret_cast<const vclock::time_page*>(v.mapping.user_vvar);
    CHECK(user_view->clocks[vclock::clock_realtime].seconds.load() == 77);
}

TEST_CASE("a value-initialised page sends every call to the system call", "[vclock]") {
    auto v = map_vclock();
    vclock::kernel_timespec now{};
    REQUIRE(v.vdso.__vdso_clock_gettime(CLOCK_REALTIME, &now) == 0);
    CHECK(now.tv_sec >= host_seconds(CLOCK_REALTIME) - 1);
    CHECK(now.tv_sec <= host_seconds(CLOCK_REALTIME));
    REQUIRE(v.vdso.__vdso_clock_gettime(CLOCK_MONOTONIC, &now) == 0);
    CHECK(now.tv_sec <= host_seconds(CLOCK_MONOTONIC));
    vclock::kernel_timeval tv{};
    REQUIRE(v.vdso.__vdso_gettimeofday(&tv, nullptr) == 0);
    CHECK(tv.tv_sec >= host_seconds(CLOCK_REALTIME) - 1);
    long seconds = 0;
    CHECK(v.vdso.__vdso_time(&seconds) == seconds);
    CHECK(seconds >= host_seconds(CLOCK_REALTIME) - 1);
    unsigned cpu = ~0u;
    CHECK(v.vdso.__vdso_getcpu(&cpu, nullptr, nullptr) == 0);
    CHECK(cpu < 4096);
}

TEST_CASE("clocks set through vclock.hpp read back exactly through every entry point", "[vclock]") {
    auto v = map_vclock();
    // mult 0: the line is flat, so the value is exactly the base whatever the counter reads.
    vclock::set_clock(*v.page, vclock::clock_realtime, 1'000'000'000, 2'500'000'123, 0, 0, 20);
    vclock::set_clock(*v.page, vclock::clock_monotonic_coarse, 5000, 7, 0, 0, 0, vclock::clock_mode::coarse);
    vclock::set_timezone(*v.page, -60, 1);

    vclock::kernel_timespec now{};
    REQUIRE(v.vdso.__vdso_clock_gettime(CLOCK_REALTIME, &now) == 0);
    CHECK(now.tv_sec == 1'000'000'002);  // set_clock normalised the 2.5 s of nanoseconds
    CHECK(now.tv_nsec == 500'000'123);
    REQUIRE(v.vdso.__vdso_clock_gettime(CLOCK_MONOTONIC_COARSE, &now) == 0);
    CHECK(now.tv_sec == 5000);
    CHECK(now.tv_nsec == 7);

    vclock::kernel_timeval tv{};
    vclock::kernel_timezone zone{};
    REQUIRE(v.vdso.__vdso_gettimeofday(&tv, &zone) == 0);
    CHECK(tv.tv_sec == 1'000'000'002);
    CHECK(tv.tv_usec == 500'000);
    CHECK(zone.tz_minuteswest == -60);
    CHECK(zone.tz_dsttime == 1);
    long seconds = 0;
    CHECK(v.vdso.__vdso_time(&seconds) == 1'000'000'002);
    CHECK(v.vdso.__vdso_time(nullptr) == 1'000'000'002);
    CHECK(seconds == 1'000'000'002);

    SECTION("switching a clock to syscall mode reaches the kernel again") {
        vclock::set_mode(*v.page, vclock::clock_realtime, vclock::clock_mode::syscall);
        REQUIRE(v.vdso.__vdso_clock_gettime(CLOCK_REALTIME, &now) == 0);
        CHECK(now.tv_sec >= host_seconds(CLOCK_REALTIME) - 1);
        CHECK(v.vdso.__vdso_time(nullptr) >= host_seconds(CLOCK_REALTIME) - 1);
    }
}

TEST_CASE("a counter clock moves with the cycle counter from its base", "[vclock]") {
    auto v = map_vclock();
    const auto scale = vclock::scale_for_frequency(1'000'000'000);  // 1 ns per cycle
    const std::uint64_t cycles = vclock::read_cycles();
    vclock::set_clock(*v.page, vclock::clock_boottime, 100, 0, cycles, scale.mult, scale.shift);
    vclock::kernel_timespec first{}, second{};
    REQUIRE(v.vdso.__vdso_clock_gettime(CLOCK_BOOTTIME, &first) == 0);
    REQUIRE(v.vdso.__vdso_clock_gettime(CLOCK_BOOTTIME, &second) == 0);
    CHECK(first.tv_sec >= 100);
    CHECK(first.tv_nsec < 1'000'000'000);
    CHECK((second.tv_sec > first.tv_sec || (second.tv_sec == first.tv_sec && second.tv_nsec >= first.tv_nsec)));
}

TEST_CASE("clock ids the page does not serve fall back to the system call", "[vclock]") {
    auto v = map_vclock();
    vclock::set_clock(*v.page, vclock::clock_realtime, 1'000'000'000, 0, 0, 0, 0);
    vclock::kernel_timespec now{};
    REQUIRE(v.vdso.__vdso_clock_gettime(CLOCK_TAI, &now) == 0);
    CHECK(now.tv_sec >= host_seconds(CLOCK_TAI) - 1);
    REQUIRE(v.vdso.__vdso_clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now) == 0);
    CHECK(now.tv_sec < 3600);
    CHECK(v.vdso.__vdso_clock_gettime(100, &now) == -EINVAL);  // the kernel's verdict, unchanged
}

TEST_CASE("scale_for_frequency keeps mult in 32 bits with the largest shift", "[vclock]") {
    constexpr auto ghz = vclock::scale_for_frequency(1'000'000'000);
    static_assert(ghz.shift == 31 && ghz.mult == 1u << 31);
    const auto tsc = vclock::scale_for_frequency(2'994'000'000);
    CHECK(tsc.shift == 32);
    CHECK(static_cast<std::uint64_t>((static_cast<unsigned __int128>(2'994'000'000) * tsc.mult) >> tsc.shift) ==
          Approx(1'000'000'000).epsilon(1e-8));
    const auto slow = vclock::scale_for_frequency(19'200'000);  // an arm generic timer
    CHECK(static_cast<std::uint64_t>((static_cast<unsigned __int128>(19'200'000) * slow.mult) >> slow.shift) ==
          Approx(1'000'000'000).epsilon(1e-8));
}

TEST_CASE("advance moves the base without leaving the clock's line", "[vclock]") {
    vclock::time_page page{};
    const auto scale = vclock::scale_for_frequency(2'994'123'457);
    vclock::set_clock(page, vclock::clock_monotonic, 10, 999'999'999, 1000, scale.mult, scale.shift);
    auto value_at = [&](std::uint64_t cycles) {
        const auto& c = page.clocks[vclock::clock_monotonic];
        const unsigned __int128 shifted = static_cast<unsigned __int128>(cycles - c.cycles_ref.load()) * c.mult.load() +
                                          c.shifted_nanoseconds.load();
        return static_cast<unsigned __int128>(c.seconds.load()) * 1'000'000'000u + (shifted >> c.shift.load());
    };
    const std::uint64_t later = 1000 + 7'000'000'001ull;  // a few seconds of cycles
    const auto before = value_at(later);
    for (std::uint64_t tick = 1000 + 12'345; tick < later; tick += 1'234'567'891) {
        vclock::advance(page, tick);
        CHECK(value_at(later) == before);  // exactly, sub-nanosecond remainder included
        CHECK(page.clocks[vclock::clock_monotonic].shifted_nanoseconds.load() >> scale.shift < 1'000'000'000u);
    }
    CHECK(page.sequence.sequence() % 2 == 0);
}

TEST_CASE("a reader never sees a torn update while the writer rewrites the page", "[vclock]") {
    auto v = map_vclock();
    constexpr std::uint64_t updates = 200'000;
    vclock::set_clock(*v.page, vclock::clock_realtime, 1, nanoseconds_for(1), 0, 0, 0, vclock::clock_mode::coarse);
    vclock::set_clock(*v.page, vclock::clock_monotonic, 1, nanoseconds_for(1), 0, 0, 12);

    std::atomic<bool> writer_done{false};
    auto reader = [&](std::uint64_t& reads) {
        std::uint64_t violations = 0, last_seconds = 0;
        long last_time = 0;
        auto check = [&](std::uint64_t seconds, std::uint64_t nanoseconds) {
            if (nanoseconds != nanoseconds_for(seconds) || seconds < last_seconds) ++violations;
            last_seconds = seconds;
        };
        bool last_round = false;
        while (!last_round) {
            last_round = writer_done.load(std::memory_order_acquire);
            vclock::kernel_timespec ts{};
            if (v.vdso.__vdso_clock_gettime(CLOCK_REALTIME, &ts) != 0) ++violations;
            check(static_cast<std::uint64_t>(ts.tv_sec), static_cast<std::uint64_t>(ts.tv_nsec));
            vclock::kernel_timeval tv{};
            if (v.vdso.__vdso_gettimeofday(&tv, nullptr) != 0) ++violations;
            if (static_cast<std::uint64_t>(tv.tv_usec) != nanoseconds_for(static_cast<std::uint64_t>(tv.tv_sec)) / 1000 ||
                static_cast<std::uint64_t>(tv.tv_sec) < last_seconds)
                ++violations;
            const long t = v.vdso.__vdso_time(nullptr);
            if (t < last_time || static_cast<std::uint64_t>(t) < last_seconds) ++violations;
            last_time = t;
            // MONOTONIC is a counter clock with mult 0: the shifted base must come back whole.
            if (v.vdso.__vdso_clock_gettime(CLOCK_MONOTONIC, &ts) != 0) ++violations;
            if (static_cast<std::uint64_t>(ts.tv_nsec) != nanoseconds_for(static_cast<std::uint64_t>(ts.tv_sec)))
                ++violations;
            ++reads;
        }
        if (last_seconds != updates) ++violations;  // the final update was seen
        return violations;
    };

    // A forked reader shares only the vVAR pages (MAP_SHARED memfd), as another address space.
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        std::uint64_t reads = 0, violations = 0, last_seconds = 0;
        while (last_seconds != updates) {
            vclock::kernel_timespec ts{};
            v.vdso.__vdso_clock_gettime(CLOCK_REALTIME, &ts);
            const auto seconds = static_cast<std::uint64_t>(ts.tv_sec);
            if (static_cast<std::uint64_t>(ts.tv_nsec) != nanoseconds_for(seconds) || seconds < last_seconds) ++violations;
            last_seconds = seconds;
            ++reads;
        }
        _exit(violations == 0 && reads > 0 ? 0 : 1);
    }

    std::uint64_t reads[2] = {0, 0}, violations[2] = {0, 0};
    std::thread readers[2];
    for (int i = 0; i < 2; ++i) readers[i] = std::thread([&, i] { violations[i] = reader(reads[i]); });
    for (std::uint64_t k = 2; k <= updates; ++k) {
        // Both clocks in one update, word by word, as a tick handler writes them. The pause
        // between the seconds and the nanoseconds plays a writer interrupted mid-update: without
        // the seqcount, readers would see new seconds with old nanoseconds (checked: they do).
        vclock::update(*v.page, [&](vclock::time_page& page) {
            auto& real = page.clocks[vclock::clock_realtime];
            auto& mono = page.clocks[vclock::clock_monotonic];
            real.seconds.store(k, std::memory_order_relaxed);
            mono.seconds.store(k, std::memory_order_relaxed);
            for (int spin = 0; spin < 32; ++spin) vdsokit::detail::cpu_relax();
            real.shifted_nanoseconds.store(nanoseconds_for(k), std::memory_order_relaxed);
            mono.shifted_nanoseconds.store(nanoseconds_for(k) << 12, std::memory_order_relaxed);
        });
    }
    writer_done.store(true, std::memory_order_release);
    for (auto& r : readers) r.join();
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);

    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    for (int i = 0; i < 2; ++i) {
        INFO("reader " << i << ": " << reads[i] << " rounds");
        CHECK(reads[i] > 0);
        CHECK(violations[i] == 0);
    }
}
