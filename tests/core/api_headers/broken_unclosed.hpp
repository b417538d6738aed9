#pragma once
extern "C" {
int lonely(void);
