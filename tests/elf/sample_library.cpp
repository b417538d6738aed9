// An ordinary shared object (default GNU ld layout, no libc) with a data pointer, so that it
// carries an R_*_RELATIVE relocation; the ELF reader must read it, the load plan may refuse it.
static int sample_library_value = 42;
extern "C" {
int* sample_library_pointer = &sample_library_value;
int sample_library_get() { return *sample_library_pointer; }
}
