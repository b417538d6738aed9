// Maps the greeter image twice in this process (two "address spaces" with one vVAR) and calls it
// through a dispatch table bound to each mapping.
#include <cstdio>

#include <vdsokit/linux/loader.hpp>

#include "greeter_api.hpp"
#include "greeter_image.hpp"
#include "shared.hpp"

int main() {
    namespace host = vdsokit::host;
    auto image = host::image_file::from_embedded(greeter_vdso::embedded::image, "greeter");
    if (!image) return std::fprintf(stderr, "%s\n", image.error().c_str()), 1;
    auto vvar = host::vvar_region::create<greeter_shared>(*image);   // the creator initialises vVAR
    if (!vvar) return std::fprintf(stderr, "%s\n", vvar.error().c_str()), 1;

    auto first = host::image_mapping::map(*image, *vvar);
    auto second = host::image_mapping::map(*image, *vvar);
    if (!first || !second) return std::fprintf(stderr, "cannot map the image\n"), 1;
    auto first_api = first->bind<greeter_vdso::dispatch_table>(greeter_vdso::facts);
    auto second_api = second->bind<greeter_vdso::dispatch_table>(greeter_vdso::facts);
    if (!first_api || !second_api) return std::fprintf(stderr, "cannot bind the dispatch tables\n"), 1;

    first_api->greeter_greet();
    const auto greetings = second_api->greeter_greet();   // the second mapping sees the first's greeting
    std::printf("host GREETER_REPEAT=%u image GREETER_REPEAT=%u greetings=%llu\n", unsigned(GREETER_REPEAT),
                unsigned(first_api->greeter_repeat()), static_cast<unsigned long long>(greetings));
    return greetings == 2 ? 0 : 1;
}
