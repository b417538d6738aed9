// A tiny image in the vdsokit layout, for the ELF reader's tests: a vVAR page, exported functions
// in two versions, and private data holding pointers (to itself and to vVAR), which the linker
// turns into R_*_RELATIVE relocations in the writable segment.
struct sample_vvar_data {
    unsigned long ticks;
    unsigned long pad[511];
};

[[gnu::section(".vdsokit.vvar"), gnu::visibility("hidden")]] sample_vvar_data sample_vvar;
[[gnu::visibility("hidden")]] long sample_private_counter = 3;
[[gnu::visibility("hidden")]] long* sample_private_pointer = &sample_private_counter;
[[gnu::visibility("hidden")]] unsigned long* sample_vvar_pointer = &sample_vvar.ticks;

extern "C" {
unsigned long* sample_table[2] = {&sample_vvar.pad[1], &sample_vvar.pad[2]};

long __vdso_sample_time() { return static_cast<long>(*sample_vvar_pointer) + *sample_private_pointer; }
long __vdso_sample_clock() { return static_cast<long>(sample_vvar.ticks) * 2; }
long sample_time() __attribute__((weak, alias("__vdso_sample_time")));
}
