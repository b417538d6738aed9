// Raw string literals spanning lines, and a Unicode identifier.
extern "C" {
[[deprecated(R"x(use "other"
  instead)x")]] int old_call(void);
int café(void);
int after(void);
}
