#ifndef MUSIKK_CVORBISFILE_SHIM_H
#define MUSIKK_CVORBISFILE_SHIM_H
// vorbisfile.h defines static callback tables in the header itself; Musikk opens files with ov_fopen only.
#define OV_EXCLUDE_STATIC_CALLBACKS
#include <vorbis/codec.h>
#include <vorbis/vorbisfile.h>
#endif
