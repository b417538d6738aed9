#pragma once
extern "C" {
int declared(void);
int defined_here(int x)
{
    return x + 1;
}
}
