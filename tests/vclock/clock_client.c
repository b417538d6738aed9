/* A plain C program with nothing vdsokit-specific: it calls clock_gettime, gettimeofday, time and
 * sched_getcpu through its libc (musl or glibc, linked -static) and prints what it got, one
 * `name value` per line. Under vdsokit-exec the libc finds vclock through AT_SYSINFO_EHDR. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/time.h>
#include <time.h>

#ifndef CLOCK_TAI
#define CLOCK_TAI 11
#endif

static void print_clock(const char* name, clockid_t id) {
    struct timespec now;
    if (clock_gettime(id, &now) != 0) {
        printf("%s error\n", name);
        return;
    }
    char date[32];
    time_t seconds = now.tv_sec;
    struct tm broken;
    gmtime_r(&seconds, &broken);
    strftime(date, sizeof date, "%Y-%m-%d", &broken);
    printf("%s %lld.%09ld %s\n", name, (long long)now.tv_sec, (long)now.tv_nsec, date);
}

int main(int argc, char** argv) {
    /* With arguments: shows what exec passed (argv, the environment) and exits with argc - 1. */
    if (argc > 1) {
        for (int i = 1; i < argc; ++i) printf("argv %s\n", argv[i]);
        const char* probe = getenv("VCLOCK_PROBE");
        printf("probe %s\n", probe ? probe : "(unset)");
        return argc - 1;
    }
    printf("sysinfo_ehdr %#lx\n", getauxval(AT_SYSINFO_EHDR));
    print_clock("clock_realtime", CLOCK_REALTIME);
    print_clock("clock_monotonic", CLOCK_MONOTONIC);
    print_clock("clock_realtime_coarse", CLOCK_REALTIME_COARSE);
    print_clock("clock_monotonic_coarse", CLOCK_MONOTONIC_COARSE);
    print_clock("clock_boottime", CLOCK_BOOTTIME);
    print_clock("clock_process_cputime", CLOCK_PROCESS_CPUTIME_ID);
    print_clock("clock_tai", CLOCK_TAI);

    struct timeval tv;
    struct timezone tz;
    if (gettimeofday(&tv, &tz) == 0) {
        char date[32];
        time_t seconds = tv.tv_sec;
        struct tm broken;
        gmtime_r(&seconds, &broken);
        strftime(date, sizeof date, "%Y-%m-%d", &broken);
        printf("gettimeofday %lld.%06ld %s\n", (long long)tv.tv_sec, (long)tv.tv_usec, date);
    } else {
        printf("gettimeofday error\n");
    }
    time_t t = 0;
    time_t returned = time(&t);
    char date[32];
    struct tm broken;
    gmtime_r(&returned, &broken);
    strftime(date, sizeof date, "%Y-%m-%d", &broken);
    printf("time %lld %s\n", (long long)returned, returned == t ? date : "mismatch");
    printf("sched_getcpu %d\n", sched_getcpu());
    return 0;
}
