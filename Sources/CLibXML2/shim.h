#ifndef MUSIKK_CLIBXML2_SHIM_H
#define MUSIKK_CLIBXML2_SHIM_H

#include <libxml/xmlwriter.h>
#include <libxml/xmlmemory.h>

/* xmlFree is a global function pointer macro on some builds; call it through a real function. */
static inline void musikk_xml_free(void *pointer) { xmlFree(pointer); }

#endif
