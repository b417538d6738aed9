#pragma once
extern "C" int fine(void);
/* this comment
   never ends
