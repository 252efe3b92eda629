#ifndef MUSIKK_CVORBISFILE_SHIM_H
#define MUSIKK_CVORBISFILE_SHIM_H
// vorbisfile.h defines static callback tables in the header itself; Musikk opens files with its own below.
#define OV_EXCLUDE_STATIC_CALLBACKS
#include <stdio.h>
#include <vorbis/codec.h>
#include <vorbis/vorbisfile.h>

static inline size_t musikk_ov_read(void *buffer, size_t size, size_t count, void *file) {
    return fread(buffer, size, count, (FILE *)file);
}
static inline int musikk_ov_close(void *file) { return fclose((FILE *)file); }

/// Opens `path` to be read from start to end, without seeking. libvorbisfile 1.3.7's seekable open leaks what it
/// parsed of a chained stream it then refuses (xiph/vorbis#125); a stream open never takes that path. On success
/// ov_clear closes the file; on failure it is closed here, as libvorbisfile leaves that to the caller.
static inline int musikk_ov_open_stream(const char *path, OggVorbis_File *vf) {
    FILE *file = fopen(path, "rb");
    if (file == NULL) return OV_EREAD;
    ov_callbacks callbacks = { musikk_ov_read, NULL, musikk_ov_close, NULL };
    int result = ov_open_callbacks(file, vf, NULL, 0, callbacks);
    if (result != 0) fclose(file);
    return result;
}
#endif
