#pragma once
extern "C" {
int bad_entry(void) noexcept;
}
