#pragma once
extern "C" {
int renamed(void) __asm__("other_name");
}
