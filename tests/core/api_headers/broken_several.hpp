#pragma once
extern "C" {
int first(void) noexcept, second(void) noexcept;
}
