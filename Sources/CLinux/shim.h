// Linux calls glibc declares only under _GNU_SOURCE, which Swift's Glibc module is built without.
#ifndef MUSIKK_CLINUX_SHIM_H
#define MUSIKK_CLINUX_SHIM_H

#include <fcntl.h>

int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags);
int syncfs(int fd);

/// Swaps two paths in one step (renameat2 with RENAME_EXCHANGE, Linux 3.15+): both must exist. Returns 0, or -1
/// with errno set (EINVAL or ENOSYS where the filesystem or kernel cannot).
static inline int musikk_exchange_paths(const char *first, const char *second) {
    return renameat2(AT_FDCWD, first, AT_FDCWD, second, 1u << 1 /* RENAME_EXCHANGE */);
}

#endif
