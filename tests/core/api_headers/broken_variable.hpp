#pragma once
extern "C" {
int fine(void);
extern int shared_counter;
}
