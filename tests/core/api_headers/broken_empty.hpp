#pragma once
// no extern "C" function at all
int cpp_only(int);
