// Linux calls glibc declares only under _GNU_SOURCE, which Swift's Glibc module is built without.
#ifndef MUSIKK_CLINUX_SHIM_H
#define MUSIKK_CLINUX_SHIM_H

#include <fcntl.h>
#include <sys/types.h>
#include <sys/uio.h>

int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags);
int syncfs(int fd);
ssize_t preadv2(int fd, const struct iovec *vector, int count, off_t offset, int flags);

/// Swaps two paths in one step (renameat2 with RENAME_EXCHANGE, Linux 3.15+): both must exist. Returns 0, or -1
/// with errno set (EINVAL or ENOSYS where the filesystem or kernel cannot).
static inline int musikk_exchange_paths(const char *first, const char *second) {
    return renameat2(AT_FDCWD, first, AT_FDCWD, second, 1u << 1 /* RENAME_EXCHANGE */);
}

/// Reads from the page cache only (preadv2 with RWF_NOWAIT, Linux 4.14+): returns the bytes read, or -1 with
/// errno EAGAIN when the data would have to come from the disk (EOPNOTSUPP where the filesystem cannot tell).
static inline ssize_t musikk_pread_cached(int fd, void *buffer, size_t count, off_t offset) {
    struct iovec vector = { buffer, count };
    return preadv2(fd, &vector, 1, offset, 0x00000008 /* RWF_NOWAIT */);
}

#endif
