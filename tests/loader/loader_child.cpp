// A separate process for the loader tests, started with fork + exec:
//   loader_child --image PATH (--vvar-fd N | --socket S) --adds A --report-fd R
// It attaches to the vVAR (inherited descriptor, or one received over a Unix socket), maps the
// image at its own base, adds A to the shared and the private counter, and reports
// "base private shared-after-adds" on R. Exit 0 if its private counter holds exactly its own adds.
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <string>

#include <vdsokit/linux/loader.hpp>

#include "counter_api.hpp"
#include "shared.hpp"

int main(int argc, char** argv) {
    using namespace vdsokit;
    std::string image_path;
    int vvar_fd = -1, socket_fd = -1, report_fd = -1;
    std::uint64_t adds = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string arg = argv[i], value = argv[i + 1];
        if (arg == "--image") image_path = value;
        else if (arg == "--vvar-fd") vvar_fd = std::stoi(value);
        else if (arg == "--socket") socket_fd = std::stoi(value);
        else if (arg == "--adds") adds = std::stoull(value);
        else if (arg == "--report-fd") report_fd = std::stoi(value);
    }
    auto fail = [](const std::string& message) {
        std::fprintf(stderr, "loader_child: %s\n", message.c_str());
        return 2;
    };
    if (socket_fd >= 0) {
        auto received = host::receive_fd(socket_fd);
        if (!received) return fail(received.error());
        vvar_fd = *received;
    }
    auto image = host::image_file::open(image_path);
    if (!image) return fail(image.error());
    auto vvar = host::vvar_region::attach<counter_shared>(vvar_fd);
    if (!vvar) return fail(vvar.error());
    auto mapping = host::image_mapping::map(*image, *vvar);
    if (!mapping) return fail(mapping.error());
    auto api = mapping->bind<counter_vdso::dispatch_table>(counter_vdso::facts);
    if (!api) return fail(api.error());
    for (std::uint64_t i = 0; i < adds; ++i) {
        api->counter_add_shared(1);
        api->counter_add_private(1);
    }
    char line[128];
    const int length = std::snprintf(line, sizeof line, "%" PRIxPTR " %" PRIu64 " %" PRIu64 "\n",
                                     mapping->base_address(), api->counter_read_private(), api->counter_read_shared());
    if (::write(report_fd, line, length) != length) return fail("report write failed");
    return api->counter_read_private() == adds ? 0 : 1;
}
