#ifndef MUSIKK_CLIBOPUS_SHIM_H
#define MUSIKK_CLIBOPUS_SHIM_H

/* libopus, which FFmpeg's libopus encoder wraps. Musikk needs only its version, for the provenance of Opus
   renditions: FFmpeg does not report which libopus it links. */
#include <opus.h>

#endif
