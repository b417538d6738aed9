#pragma once
#define DECLARE_API(name) int name(void)
extern "C" {
DECLARE_API(hidden_by_macro);
}
