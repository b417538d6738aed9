#pragma once
extern "C" {
int always(void);
#if defined(HAVE_FEATURE)
int sometimes(void);
#endif
}
