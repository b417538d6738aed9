// The one Catch2 main, built once as a static library: this TU alone takes ~17 s at -O2.
#define CATCH_CONFIG_MAIN
#define CATCH_CONFIG_ENABLE_BENCHMARKING
#include <catch2/catch.hpp>
