#ifndef MUSIKK_CLIBXML2_SHIM_H
#define MUSIKK_CLIBXML2_SHIM_H

/* Debian builds libxml2 with ICU, whose headers clash with the ICU copy inside swift-corelibs-foundation.
   Musikk only uses the text writer, never the ICU-backed encoding handlers, so keep ICU's headers out. */
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED

#include <libxml/xmlwriter.h>

#endif
