#ifndef MUSIKK_CCHROMAPRINT_SHIM_H
#define MUSIKK_CCHROMAPRINT_SHIM_H

#include <chromaprint.h>

/* chromaprint.h declares everything as functions and enums Swift imports; nothing to re-export. */

#endif
