#pragma once
extern "C" {
int fine(void);
int (*handler)(int);
}
