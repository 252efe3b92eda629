#ifndef MUSIKK_CEBUR128_SHIM_H
#define MUSIKK_CEBUR128_SHIM_H

#include <ebur128.h>

/* The mode flags are an anonymous-typed enum of combined bits; give Swift one value for the modes Musikk uses. */
static inline int musikk_ebur128_mode_all(void) {
    return EBUR128_MODE_I | EBUR128_MODE_LRA | EBUR128_MODE_SAMPLE_PEAK | EBUR128_MODE_TRUE_PEAK;
}

#endif
