// Prints the MUT_CFG value as the host sees it and as the image recorded it; the generated header
// refuses to compile if they differ.
#include <cstdio>
#include "greeter_api.hpp"

int main() {
    std::printf("host GREETER_REPEAT=%u image GREETER_REPEAT=%lld exports=%zu\n", unsigned(GREETER_REPEAT),
                greeter_vdso::mut_cfg[0].value, sizeof(greeter_vdso::dispatch_table) / sizeof(void*));
    return 0;
}
