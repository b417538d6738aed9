// Loading a vDSO image into Linux processes: the hosted loader.
//
// Three objects, one per concept, each RAII and movable:
//
//   image_file    the image's bytes, validated (elf::image::parse + make_load_plan) and readable
//                 by a file descriptor, from a path, an embedded image (counter_image.hpp) or an
//                 inherited descriptor; it also reads the image's vdsokit notes.
//   vvar_region   the shared data: a memfd. Its creator sizes it and value-initialises the vVAR
//                 object (`create<T>`); every other process or mapping only attaches (`attach<T>`).
//   image_mapping one mapping of the image at a fresh base: [vVAR memfd, MAP_SHARED][shared
//                 segments mapped read-only from the image file, so their physical pages are
//                 shared][private segments copied, relocated, then protected]. Never W+X.
//
//   auto image = host::image_file::open("libcounter.so");          // or from_embedded(...)
//   auto vvar  = host::vvar_region::create<counter_shared>(*image); // the creator initialises
//   auto map   = host::image_mapping::map(*image, *vvar);
//   auto api   = map->bind<counter_vdso::dispatch_table>(counter_vdso::facts);
//   api->counter_add_shared(1);
//
// Another process attaches with `vvar_region::attach<counter_shared>(fd)`, the fd inherited
// across fork/exec (`keep_across_exec`, `fd_from_environment`) or passed over a Unix socket
// (`send_fd`, `receive_fd`). A process may map the same image several times: each mapping is a
// separate "address space" with its own private data and the same vVAR.
//
// The vVAR type is checked twice: its layout fingerprint (vdsokit::layout_fingerprint<T>) must
// equal the one the image recorded in its note, and, at run time, the real field offsets of T
// (found with Boost.PFR on the mapped object) must equal the ones the fingerprint derived from the
// standard-layout rules. Every failure is a `host::result` holding a message that names the image
// and the problem; nothing is left mapped after a failure.
//
// Hosted (libc, mmap, std::string); Linux only. The namespace is `host`, not `linux`, because
// `linux` is a predefined macro in GNU modes.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <boost/pfr/core.hpp>

#include <vdsokit/dispatch.hpp>
#include <vdsokit/elf.hpp>
#include <vdsokit/fingerprint.hpp>
#include <vdsokit/image.hpp>
#include <vdsokit/load_plan.hpp>
#include <vdsokit/note.hpp>
#include <vdsokit/vvar.hpp>

namespace vdsokit::host {

// A value, or a message saying what went wrong and where. `value()` on a failure prints the
// message and aborts: check `ok()` first when failure is expected.
template <class T>
class result {
public:
    result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
    static result failure(std::string message) {
        result r;
        r.state_.template emplace<1>(std::move(message));
        return r;
    }

    bool ok() const noexcept { return state_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }
    const std::string& error() const noexcept {
        static const std::string none;
        return ok() ? none : std::get<1>(state_);
    }
    T& value() & { return checked(); }
    T&& value() && { return std::move(checked()); }
    T& operator*() & { return checked(); }
    T&& operator*() && { return std::move(checked()); }
    T* operator->() { return &checked(); }

private:
    result() : state_(std::in_place_index<1>) {}
    T& checked() {
        if (!ok()) {
            std::fprintf(stderr, "vdsokit: value() of a failed result: %s\n", std::get<1>(state_).c_str());
            std::abort();
        }
        return std::get<0>(state_);
    }
    std::variant<T, std::string> state_;
};

// The name of T as the compiler spells it, for messages (`counter_shared`, `ns::thing`).
template <class T>
std::string type_name() {
    std::string_view pretty = __PRETTY_FUNCTION__;  // "... type_name() [with T = X; ...]" or "[T = X]"
    const auto start = pretty.find("T = ");
    if (start == std::string_view::npos) return std::string(pretty);
    pretty.remove_prefix(start + 4);
    const auto end = pretty.find_first_of(";]");
    return std::string(pretty.substr(0, end));
}

namespace detail {

inline std::string hex(std::uint64_t value) {
    char text[24];
    std::snprintf(text, sizeof text, "0x%" PRIx64, value);
    return text;
}

inline std::string errno_text(int number) { return std::string(std::strerror(number)); }

// A file descriptor closed on destruction.
class owned_fd {
public:
    owned_fd() noexcept = default;
    explicit owned_fd(int fd) noexcept : fd_(fd) {}
    owned_fd(owned_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    owned_fd& operator=(owned_fd&& other) noexcept {
        if (this != &other) {
            reset();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    ~owned_fd() { reset(); }
    int get() const noexcept { return fd_; }
    void reset() noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_ = -1;
};

// Address space reserved by mmap, unmapped on destruction.
class owned_mapping {
public:
    owned_mapping() noexcept = default;
    owned_mapping(void* address, std::size_t size) noexcept : address_(address), size_(size) {}
    owned_mapping(owned_mapping&& other) noexcept
        : address_(std::exchange(other.address_, nullptr)), size_(std::exchange(other.size_, 0)) {}
    owned_mapping& operator=(owned_mapping&& other) noexcept {
        if (this != &other) {
            reset();
            address_ = std::exchange(other.address_, nullptr);
            size_ = std::exchange(other.size_, 0);
        }
        return *this;
    }
    ~owned_mapping() { reset(); }
    std::byte* data() const noexcept { return static_cast<std::byte*>(address_); }
    std::size_t size() const noexcept { return size_; }
    void reset() noexcept {
        if (address_ != nullptr && size_ != 0) ::munmap(address_, size_);
        address_ = nullptr;
        size_ = 0;
    }

private:
    void* address_ = nullptr;
    std::size_t size_ = 0;
};

inline std::string describe(const elf::error& failure) {
    char text[512];
    elf::describe(failure, text, sizeof text);
    return text;
}

inline std::uint64_t round_up_to_page(std::uint64_t value) {
    return (value + page_size - 1) / page_size * page_size;
}

inline int protection_of(std::uint32_t flags) {
    return ((flags & segment_read) ? PROT_READ : 0) | ((flags & segment_write) ? PROT_WRITE : 0) |
           ((flags & segment_execute) ? PROT_EXEC : 0);
}

// The offsets Boost.PFR finds in a real object must be the ones layout_fingerprint<T> derived from
// the field types; a mismatch means the fingerprint describes a layout T does not have. Returns
// an empty string or the first difference. Recurses into nested aggregates.
template <class T>
std::string check_real_field_offsets(const T& object, const std::string& path) {
    using U = std::remove_cv_t<T>;
    if constexpr (vdsokit::detail::reflectable_aggregate<U> && !vdsokit::detail::declares_layout_fingerprint<U> &&
                  !std::is_empty_v<U> && !vdsokit::detail::is_std_atomic<U>::value &&
                  !vdsokit::detail::is_std_array<U>::value) {
        std::string difference;
        std::uint64_t derived = 0;  // the offset by the rules fingerprint.hpp uses
        const auto base = reinterpret_cast<std::uintptr_t>(&object);
        const auto fields = boost::pfr::structure_tie(object);
        auto check_field = [&]<std::size_t I>(std::integral_constant<std::size_t, I>) {
            using field = boost::pfr::tuple_element_t<I, U>;
            derived = vdsokit::detail::align_up(derived, alignof(field));
            const auto real = reinterpret_cast<std::uintptr_t>(&std::get<I>(fields)) - base;
            if (difference.empty() && real != derived)
                difference = path + " field " + std::to_string(I) + " is at offset " + std::to_string(real) +
                             ", but the fingerprint assumed " + std::to_string(derived);
            if (difference.empty()) difference = check_real_field_offsets(std::get<I>(fields), path + "." + std::to_string(I));
            derived += sizeof(field);
        };
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (check_field(std::integral_constant<std::size_t, I>{}), ...);
        }(std::make_index_sequence<boost::pfr::tuple_size_v<U>>{});
        return difference;
    } else {
        (void)object;
        (void)path;
        return {};
    }
}

}  // namespace detail

// The vVAR type an image or a host names: its layout fingerprint, and the type's name for messages.
struct vvar_type_identity {
    std::uint64_t fingerprint = 0;  // 0: no vVAR type
    std::uint64_t size = 0;
    std::string name;  // "" when unknown

    bool present() const noexcept { return fingerprint != 0; }
    std::string describe() const {
        if (!present()) return "no vVAR type";
        return "`" + (name.empty() ? std::string("?") : name) + "` (fingerprint " + detail::hex(fingerprint) +
               ", " + std::to_string(size) + " bytes)";
    }
    template <class T>
    static vvar_type_identity of() {
        return {layout_fingerprint<T>, sizeof(T), type_name<T>()};
    }
};

// A MUT_CFG value recorded in the image.
struct mut_cfg_value {
    std::string name;
    std::string value;
    note::mut_cfg_kind kind;
};

// Reads the vdsokit notes of a parsed image: the vVAR type (if any) and MUT_CFG values.
struct image_notes {
    vvar_type_identity vvar;
    int vvar_note_count = 0;
    std::vector<mut_cfg_value> mut_cfg;

    static image_notes read(const elf::image& image) {
        image_notes notes;
        image.for_each_note([&](const elf::note& n) {
            if (std::string_view(n.owner.data(), n.owner.size()) != note::owner) return;
            const auto text_after = [&](std::size_t header) {
                if (n.description.size() <= header) return std::string();
                const char* begin = reinterpret_cast<const char*>(n.description.data()) + header;
                return std::string(begin, strnlen(begin, n.description.size() - header));
            };
            if (n.type == note::vvar_layout && n.description.size() >= sizeof(note::vvar_layout_description)) {
                note::vvar_layout_description d;
                std::memcpy(&d, n.description.data(), sizeof d);
                ++notes.vvar_note_count;
                notes.vvar = {std::uint64_t{d.fingerprint_low} | std::uint64_t{d.fingerprint_high} << 32, d.size,
                              text_after(sizeof d)};
            } else if (n.type == note::mut_cfg_value && n.description.size() >= sizeof(note::mut_cfg_description)) {
                note::mut_cfg_description d;
                std::memcpy(&d, n.description.data(), sizeof d);
                const std::string text = text_after(sizeof d);
                const auto equals = text.find('=');
                if (equals != std::string::npos)
                    notes.mut_cfg.push_back({text.substr(0, equals), text.substr(equals + 1), d.kind});
            }
        });
        return notes;
    }
};

// A validated vDSO image whose bytes a process can read and map.
class image_file {
public:
    // Reads and validates the image at `path`; its segments will be mapped from that file.
    static result<image_file> open(const std::string& path) {
        detail::owned_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (fd.get() < 0) return result<image_file>::failure(path + ": cannot open: " + detail::errno_text(errno));
        return from_owned_fd(std::move(fd), path);
    }

    // The same from an open descriptor (e.g. inherited); the descriptor is duplicated.
    static result<image_file> from_fd(int fd, const std::string& name) {
        detail::owned_fd own(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
        if (own.get() < 0)
            return result<image_file>::failure(name + ": cannot duplicate descriptor " + std::to_string(fd) + ": " +
                                               detail::errno_text(errno));
        return from_owned_fd(std::move(own), name);
    }

    // An image compiled into the program (vdsokit-gen's <name>_image.hpp). Its bytes are copied
    // once into a sealed memfd, so every mapping in this process (and any process the descriptor
    // is passed to) shares the physical pages of the read-only segments.
    static result<image_file> from_embedded(const embedded_image& embedded, const std::string& name) {
        const std::string label = "embedded image `" + name + "`";
        detail::owned_fd fd(::memfd_create(("vdsokit-image:" + name).c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING));
        if (fd.get() < 0) return result<image_file>::failure(label + ": memfd_create failed: " + detail::errno_text(errno));
        std::size_t written = 0;
        while (written < embedded.size) {
            const ssize_t n = ::write(fd.get(), embedded.bytes + written, embedded.size - written);
            if (n <= 0) {
                if (n < 0 && errno == EINTR) continue;
                return result<image_file>::failure(label + ": writing the memfd failed: " + detail::errno_text(errno));
            }
            written += static_cast<std::size_t>(n);
        }
        // Immutable from now on: nobody can change the code every mapping shares.
        if (::fcntl(fd.get(), F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
            return result<image_file>::failure(label + ": sealing the memfd failed: " + detail::errno_text(errno));
        auto out = from_owned_fd(std::move(fd), label);
        if (!out) return out;
        // The build-time plan must describe the same image as the bytes.
        const load_plan& plan = out->plan();
        if (embedded.vvar_size != plan.vvar_size() || embedded.image_size != plan.image_size() ||
            embedded.segment_count != plan.segments().size() ||
            embedded.vvar_fingerprint != out->vvar_type().fingerprint)
            return result<image_file>::failure(label + ": the embedded load plan disagrees with its own ELF bytes "
                                               "(vvar_size, image_size, segment count or fingerprint): regenerate it");
        return out;
    }

    const std::string& name() const noexcept { return name_; }
    int fd() const noexcept { return fd_.get(); }
    std::span<const std::byte> bytes() const noexcept { return {bytes_.data(), bytes_.size()}; }
    const elf::image& elf() const noexcept { return elf_; }
    const load_plan& plan() const noexcept { return plan_; }
    std::uint64_t vvar_size() const noexcept { return plan_.vvar_size(); }
    std::uint64_t image_size() const noexcept { return plan_.image_size(); }
    const vvar_type_identity& vvar_type() const noexcept { return notes_.vvar; }
    const std::vector<mut_cfg_value>& mut_cfg() const noexcept { return notes_.mut_cfg; }
    // True while the file's size and modification time are the ones it had when validated.
    bool unchanged_since_open() const noexcept {
        struct stat now {};
        return ::fstat(fd_.get(), &now) == 0 && now.st_size == opened_.st_size &&
               now.st_mtim.tv_sec == opened_.st_mtim.tv_sec && now.st_mtim.tv_nsec == opened_.st_mtim.tv_nsec;
    }

    image_file(image_file&& other) noexcept { *this = std::move(other); }
    image_file& operator=(image_file&& other) noexcept {
        if (this == &other) return *this;
        name_ = std::move(other.name_);
        fd_ = std::move(other.fd_);
        bytes_ = std::move(other.bytes_);  // the heap buffer moves, so elf_ and plan_ stay valid
        elf_ = other.elf_;
        plan_ = other.plan_;
        notes_ = std::move(other.notes_);
        opened_ = other.opened_;
        return *this;
    }

private:
    image_file() = default;

    static result<image_file> from_owned_fd(detail::owned_fd fd, const std::string& name) {
        image_file image;
        image.name_ = name;
        struct stat status {};
        if (::fstat(fd.get(), &status) != 0)
            return result<image_file>::failure(name + ": fstat failed: " + detail::errno_text(errno));
        if (!S_ISREG(status.st_mode))
            return result<image_file>::failure(name + ": not a regular file (st_mode " + detail::hex(status.st_mode) + ")");
        image.bytes_.resize(static_cast<std::size_t>(status.st_size));
        std::size_t done = 0;
        while (done < image.bytes_.size()) {
            const ssize_t n = ::pread(fd.get(), image.bytes_.data() + done, image.bytes_.size() - done,
                                      static_cast<off_t>(done));
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0)
                return result<image_file>::failure(name + ": reading failed at byte " + std::to_string(done) + ": " +
                                                   (n == 0 ? std::string("unexpected end of file") : detail::errno_text(errno)));
            done += static_cast<std::size_t>(n);
        }
        auto parsed = elf::image::parse(std::span<const std::byte>(image.bytes_.data(), image.bytes_.size()));
        if (!parsed) return result<image_file>::failure(name + ": not a valid vDSO image: " + detail::describe(parsed.failure()));
        image.elf_ = parsed.value();
        auto plan = make_load_plan(image.elf_);
        if (!plan) return result<image_file>::failure(name + ": cannot be mapped as a vDSO: " + detail::describe(plan.failure()));
        image.plan_ = plan.value();
        for (const segment_mapping& s : image.plan_.segments()) {
            if ((s.flags & segment_write) && (s.flags & segment_execute))
                return result<image_file>::failure(name + ": a segment at image offset " + detail::hex(s.image_offset) +
                                                   " is both writable and executable (W^X)");
            if (s.file_size > s.memory_size)
                return result<image_file>::failure(name + ": the segment at image offset " + detail::hex(s.image_offset) +
                                                   " has more file bytes (" + detail::hex(s.file_size) +
                                                   ") than memory (" + detail::hex(s.memory_size) + ")");
            if (s.file_offset + s.file_size > image.bytes_.size())
                return result<image_file>::failure(name + ": a segment's file bytes end at " +
                                                   detail::hex(s.file_offset + s.file_size) + ", beyond the file size " +
                                                   detail::hex(image.bytes_.size()));
        }
        image.notes_ = image_notes::read(image.elf_);
        if (image.notes_.vvar_note_count > 1)
            return result<image_file>::failure(name + ": has " + std::to_string(image.notes_.vvar_note_count) +
                                               " vVAR layout notes; an image has exactly one vVAR object");
        if (image.notes_.vvar.present() && image.notes_.vvar.size > image.plan_.vvar_size())
            return result<image_file>::failure(name + ": its vVAR type " + image.notes_.vvar.describe() +
                                               " does not fit the vVAR region of " + std::to_string(image.plan_.vvar_size()) + " bytes");
        image.fd_ = std::move(fd);
        image.opened_ = status;
        return image;
    }

    std::string name_;
    detail::owned_fd fd_;
    std::vector<std::byte> bytes_;
    elf::image elf_{};
    load_plan plan_{};
    image_notes notes_;
    struct stat opened_ {};
};

namespace detail {
// Refuses a host vVAR type that is not the image's, naming both.
inline std::string vvar_mismatch(const image_file& image, const vvar_type_identity& host) {
    const vvar_type_identity& expected = image.vvar_type();
    if (expected.fingerprint == host.fingerprint) return {};
    if (!expected.present())
        return image.name() + ": the image has no vVAR type, but the host passes " + host.describe() +
               ": map it without a vVAR type";
    if (!host.present())
        return image.name() + ": the image's vVAR type is " + expected.describe() +
               ", but the host passes no vVAR type: use vvar_region::create<" + expected.name + ">";
    return image.name() + ": vVAR layout mismatch: the image was built with " + expected.describe() +
           ", the host was compiled with " + host.describe() + ": rebuild both from the same shared header";
}
}  // namespace detail

// The shared data of one image, in a memfd every process and mapping maps MAP_SHARED.
class vvar_region {
public:
    // Creates the region for `image` and value-initialises the one vVAR object (`new (p) T{}`).
    // Only the creator does this; attachers see the creator's (and everyone's) writes.
    template <class T>
    static result<vvar_region> create(const image_file& image) {
        static_assert(vvar_type<T>, "vdsokit: a vVAR type must be a trivially destructible, default "
                                    "constructible struct (see vdsokit/vvar.hpp).");
        const auto host = vvar_type_identity::of<T>();
        if (auto mismatch = detail::vvar_mismatch(image, host); !mismatch.empty())
            return result<vvar_region>::failure(mismatch);
        if (image.vvar_size() < sizeof(T))
            return result<vvar_region>::failure(image.name() + ": its vVAR region of " + std::to_string(image.vvar_size()) +
                                                " bytes cannot hold " + host.describe());
        auto region = make(image.vvar_size(), host, "vdsokit-vvar:" + host.name);
        if (!region) return region;
        new (region->data()) T{};
        if (auto wrong = detail::check_real_field_offsets(*static_cast<const T*>(region->data()), host.name);
            !wrong.empty())
            return result<vvar_region>::failure(image.name() + ": " + wrong);
        return region;
    }

    // A region for an image without a vVAR type (vvar_size may still be non-zero: raw pages).
    static result<vvar_region> create_untyped(const image_file& image) {
        if (auto mismatch = detail::vvar_mismatch(image, {}); !mismatch.empty())
            return result<vvar_region>::failure(mismatch);
        return make(image.vvar_size(), {}, "vdsokit-vvar");
    }

    // Attaches to a region another process (or this one) created; never initialises. The
    // descriptor is duplicated, so the caller keeps ownership of `fd`.
    template <class T>
    static result<vvar_region> attach(int fd) {
        const auto host = vvar_type_identity::of<T>();
        auto region = attach_as(fd, host);
        if (!region) return region;
        if (region->size_ < sizeof(T))
            return result<vvar_region>::failure("vVAR descriptor " + std::to_string(fd) + ": its " +
                                                std::to_string(region->size_) + " bytes cannot hold " + host.describe());
        if (auto wrong = detail::check_real_field_offsets(*static_cast<const T*>(region->data()), host.name);
            !wrong.empty())
            return result<vvar_region>::failure("vVAR descriptor " + std::to_string(fd) + ": " + wrong);
        return region;
    }
    static result<vvar_region> attach_untyped(int fd) { return attach_as(fd, {}); }

    int fd() const noexcept { return fd_.get(); }
    std::size_t size() const noexcept { return size_; }
    void* data() const noexcept { return view_.data(); }
    const vvar_type_identity& type() const noexcept { return type_; }
    // The vVAR object, if T is the type this region was created or attached as.
    template <class T>
    T* object() const noexcept {
        return type_.fingerprint == layout_fingerprint<T> && size_ >= sizeof(T) ? static_cast<T*>(data()) : nullptr;
    }

private:
    vvar_region() = default;

    static result<vvar_region> make(std::uint64_t size, vvar_type_identity type, const std::string& memfd_name) {
        vvar_region region;
        region.type_ = std::move(type);
        region.size_ = static_cast<std::size_t>(size);
        region.fd_ = detail::owned_fd(::memfd_create(memfd_name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING));
        if (region.fd_.get() < 0)
            return result<vvar_region>::failure("vVAR: memfd_create failed: " + detail::errno_text(errno));
        if (::ftruncate(region.fd_.get(), static_cast<off_t>(size)) != 0)
            return result<vvar_region>::failure("vVAR: ftruncate to " + std::to_string(size) +
                                                " bytes failed: " + detail::errno_text(errno));
        // The size is part of the contract with every attacher: nobody may shrink it under them.
        ::fcntl(region.fd_.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
        if (auto mapped = region.map_view(); !mapped.empty()) return result<vvar_region>::failure(mapped);
        return region;
    }

    static result<vvar_region> attach_as(int fd, vvar_type_identity type) {
        vvar_region region;
        region.type_ = std::move(type);
        region.fd_ = detail::owned_fd(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
        if (region.fd_.get() < 0)
            return result<vvar_region>::failure("vVAR descriptor " + std::to_string(fd) +
                                                ": cannot duplicate: " + detail::errno_text(errno));
        struct stat status {};
        if (::fstat(region.fd_.get(), &status) != 0)
            return result<vvar_region>::failure("vVAR descriptor " + std::to_string(fd) + ": fstat failed: " +
                                                detail::errno_text(errno));
        region.size_ = static_cast<std::size_t>(status.st_size);
        if (region.size_ % page_size != 0)
            return result<vvar_region>::failure("vVAR descriptor " + std::to_string(fd) + ": size " +
                                                std::to_string(region.size_) + " is not a multiple of the page size");
        if (auto mapped = region.map_view(); !mapped.empty()) return result<vvar_region>::failure(mapped);
        return region;
    }

    // The creator's (or attacher's) own view, outside any image mapping.
    std::string map_view() {
        if (size_ == 0) return {};
        void* at = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_.get(), 0);
        if (at == MAP_FAILED) return "vVAR: mmap of " + std::to_string(size_) + " bytes failed: " + detail::errno_text(errno);
        view_ = detail::owned_mapping(at, size_);
        return {};
    }

    detail::owned_fd fd_;
    detail::owned_mapping view_;
    std::size_t size_ = 0;
    vvar_type_identity type_;
};

// One mapping of an image: vVAR below, image from its base. Unmapped on destruction.
class image_mapping {
public:
    static result<image_mapping> map(const image_file& image, const vvar_region& vvar) {
        using detail::hex;
        const std::string& name = image.name();
        if (auto mismatch = detail::vvar_mismatch(image, vvar.type()); !mismatch.empty())
            return result<image_mapping>::failure(mismatch);
        const load_plan& plan = image.plan();
        if (vvar.size() < plan.vvar_size())
            return result<image_mapping>::failure(name + ": needs " + std::to_string(plan.vvar_size()) +
                                                  " bytes of vVAR, the region has " + std::to_string(vvar.size()));

        // The file must still hold the bytes we validated: refuse it if it was modified since (an
        // in-place rewrite changes the modification time; a replaced file keeps our inode). Cheaper
        // than comparing the mapped bytes, which would fault in every page up front.
        if (!image.unchanged_since_open())
            return result<image_mapping>::failure(name + ": the file was modified after it was validated; open it again");
        const std::size_t total = static_cast<std::size_t>(plan.vvar_size() + plan.image_size());
        void* reserved = ::mmap(nullptr, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (reserved == MAP_FAILED)
            return result<image_mapping>::failure(name + ": reserving " + hex(total) + " bytes failed: " +
                                                  detail::errno_text(errno));
        image_mapping mapping;
        mapping.reservation_ = detail::owned_mapping(reserved, total);  // unmaps everything on failure
        std::byte* const bottom = mapping.reservation_.data();
        std::byte* const base = bottom + plan.vvar_size();
        mapping.image_size_ = plan.image_size();
        mapping.vvar_size_ = plan.vvar_size();
        mapping.vvar_type_ = vvar.type();

        auto fail = [&](const std::string& what) {
            return result<image_mapping>::failure(name + ": " + what + ": " + detail::errno_text(errno));
        };
        if (plan.vvar_size() != 0 &&
            ::mmap(bottom, plan.vvar_size(), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, vvar.fd(), 0) == MAP_FAILED)
            return fail("mapping the vVAR memfd at " + hex(reinterpret_cast<std::uintptr_t>(bottom)) + " failed");

        std::size_t relocated = 0;
        for (const segment_mapping& s : plan.segments()) {
            std::byte* const at = base + s.image_offset;
            const std::uint64_t file_pages = std::min<std::uint64_t>(detail::round_up_to_page(s.file_size), s.memory_size);
            if (s.shared) {
                // Read-only straight from the file: every mapping shares these physical pages.
                if (file_pages != 0 && ::mmap(at, file_pages, PROT_READ, MAP_PRIVATE | MAP_FIXED, image.fd(),
                                              static_cast<off_t>(s.file_offset)) == MAP_FAILED)
                    return fail("mapping the segment at image offset " + hex(s.image_offset) + " from the file failed");
                if (s.memory_size > file_pages &&
                    ::mmap(at + file_pages, s.memory_size - file_pages, PROT_READ, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS,
                           -1, 0) == MAP_FAILED)
                    return fail("mapping the zero tail of the segment at image offset " + hex(s.image_offset) + " failed");
            } else {
                // Private: a writable anonymous copy, relocated, then given its own permissions.
                if (::mmap(at, s.memory_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0) ==
                    MAP_FAILED)
                    return fail("mapping the private segment at image offset " + hex(s.image_offset) + " failed");
                std::memcpy(at, image.bytes().data() + s.file_offset, s.file_size);
                relocated += apply_relocations(plan, reinterpret_cast<std::uint64_t>(base), s,
                                               std::span<std::byte>(at, static_cast<std::size_t>(s.memory_size)));
            }
            // Never W+X: a private segment was RW and becomes its own flags (the image was
            // refused earlier if those are W+X); a shared one was R and becomes R or RX.
            if (::mprotect(at, s.memory_size, detail::protection_of(s.flags)) != 0)
                return fail("mprotect of the segment at image offset " + hex(s.image_offset) + " to flags " +
                            std::to_string(s.flags) + " failed");
        }
        // make_load_plan allows relocations only into private segments, so every one must have landed.
        if (relocated != plan.relocation_count())
            return result<image_mapping>::failure(name + ": applied " + std::to_string(relocated) + " of " +
                                                  std::to_string(plan.relocation_count()) +
                                                  " relative relocations; the others are outside every private segment");
        return mapping;
    }

    // Where the ELF header is mapped (what a kernel passes in AT_SYSINFO_EHDR).
    const void* image_base() const noexcept { return reservation_.data() + vvar_size_; }
    std::uintptr_t base_address() const noexcept { return reinterpret_cast<std::uintptr_t>(image_base()); }
    void* vvar_data() const noexcept { return reservation_.data(); }
    std::uint64_t vvar_size() const noexcept { return vvar_size_; }
    std::uint64_t image_size() const noexcept { return image_size_; }
    // The vVAR object as this mapping sees it, if T is the region's type.
    template <class T>
    T* vvar() const noexcept {
        return vvar_type_.fingerprint == layout_fingerprint<T> ? static_cast<T*>(vvar_data()) : nullptr;
    }

    // Binds a generated dispatch table to this mapping; refuses entries outside the image.
    template <class Table>
        requires is_dispatch_table<Table>
    result<Table> bind() const {
        Table table = Table::bind(image_base());
        if (!table_within(table, image_base(), image_size_))
            return result<Table>::failure("dispatch table " + type_name<Table>() + ": an entry lies outside the image [" +
                                          detail::hex(base_address()) + ", +" + detail::hex(image_size_) +
                                          "): the generated header is stale, regenerate it");
        return table;
    }
    // The same, after checking that the generated header describes this image (not a stale one).
    template <class Table>
        requires is_dispatch_table<Table>
    result<Table> bind(const image_facts& facts) const {
        if (facts.vvar_size != vvar_size_ || facts.image_size != image_size_ ||
            facts.vvar_fingerprint != vvar_type_.fingerprint)
            return result<Table>::failure(std::string("dispatch table for `") + facts.name + "`: the generated header "
                                          "describes another image (vvar_size " + detail::hex(facts.vvar_size) +
                                          ", image_size " + detail::hex(facts.image_size) + ", fingerprint " +
                                          detail::hex(facts.vvar_fingerprint) + "), the mapped one has " +
                                          detail::hex(vvar_size_) + ", " + detail::hex(image_size_) + ", " +
                                          detail::hex(vvar_type_.fingerprint) + ": rebuild the host");
        return bind<Table>();
    }

    image_mapping(image_mapping&&) noexcept = default;
    image_mapping& operator=(image_mapping&&) noexcept = default;

private:
    image_mapping() = default;
    detail::owned_mapping reservation_;
    std::uint64_t vvar_size_ = 0;
    std::uint64_t image_size_ = 0;
    vvar_type_identity vvar_type_;
};

// ---- Passing the vVAR descriptor to other processes ----------------------------------------

// Lets `fd` survive exec (clears FD_CLOEXEC); the vVAR and image descriptors are close-on-exec by
// default, so only the processes you choose inherit them.
inline result<int> keep_across_exec(int fd) {
    const int flags = ::fcntl(fd, F_GETFD);
    if (flags < 0 || ::fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) != 0)
        return result<int>::failure("descriptor " + std::to_string(fd) + ": cannot clear FD_CLOEXEC: " +
                                    detail::errno_text(errno));
    return fd;
}

// A descriptor number passed in an environment variable (e.g. VDSOKIT_VVAR_FD=5), checked open.
inline result<int> fd_from_environment(const char* variable) {
    const char* text = std::getenv(variable);
    if (text == nullptr) return result<int>::failure(std::string("environment variable ") + variable + " is not set");
    char* end = nullptr;
    const long fd = std::strtol(text, &end, 10);
    if (end == text || *end != '\0' || fd < 0 || fd > 1 << 20)
        return result<int>::failure(std::string(variable) + "=" + text + " is not a descriptor number");
    if (::fcntl(static_cast<int>(fd), F_GETFD) < 0)
        return result<int>::failure(std::string(variable) + "=" + text + " is not an open descriptor: " +
                                    detail::errno_text(errno));
    return static_cast<int>(fd);
}

namespace detail {
// One byte of payload and room for one descriptor: the message send_fd and receive_fd exchange.
// Not movable: `message` points into the object itself.
struct descriptor_message {
    char payload = 'v';
    iovec io{&payload, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr message{};

    descriptor_message() {
        message.msg_iov = &io;
        message.msg_iovlen = 1;
        message.msg_control = control;
        message.msg_controllen = sizeof control;
    }
    descriptor_message(const descriptor_message&) = delete;
    descriptor_message& operator=(const descriptor_message&) = delete;
};
}  // namespace detail

// Sends `fd` over a connected Unix socket (SCM_RIGHTS) with one byte of payload.
inline result<int> send_fd(int socket, int fd) {
    detail::descriptor_message out;
    msghdr& message = out.message;
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(header), &fd, sizeof fd);
    ssize_t sent;
    do sent = ::sendmsg(socket, &message, MSG_NOSIGNAL);
    while (sent < 0 && errno == EINTR);
    if (sent != 1)
        return result<int>::failure("send_fd: sendmsg on socket " + std::to_string(socket) + " failed: " +
                                    detail::errno_text(errno));
    return fd;
}

// Receives a descriptor sent by `send_fd`; the new descriptor is close-on-exec and the caller's.
inline result<int> receive_fd(int socket) {
    detail::descriptor_message in;
    msghdr& message = in.message;
    ssize_t received;
    do received = ::recvmsg(socket, &message, MSG_CMSG_CLOEXEC);
    while (received < 0 && errno == EINTR);
    if (received < 0)
        return result<int>::failure("receive_fd: recvmsg on socket " + std::to_string(socket) + " failed: " +
                                    detail::errno_text(errno));
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    if (received == 0 || header == nullptr || header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS ||
        header->cmsg_len != CMSG_LEN(sizeof(int)))
        return result<int>::failure("receive_fd: socket " + std::to_string(socket) +
                                    " delivered no descriptor (peer closed, or no SCM_RIGHTS message)");
    int fd;
    std::memcpy(&fd, CMSG_DATA(header), sizeof fd);
    return fd;
}

}  // namespace vdsokit::host
