// Linux calls glibc declares only under _GNU_SOURCE, which Swift's Glibc module is built without.
#ifndef MUSIKK_CLINUX_SHIM_H
#define MUSIKK_CLINUX_SHIM_H

#include <fcntl.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <errno.h>
#include <unistd.h>

int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags);
int syncfs(int fd);
long syscall(long number, ...);
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

/// Opens `path` (relative, read-only) inside the directory `root` and nowhere else (openat2 with RESOLVE_BENEATH,
/// Linux 5.6+): `..` and symbolic links may move within `root` but never out of it (EXDEV), and /proc's magic links
/// are refused. Returns the descriptor, or -1 with errno set (ENOSYS on older kernels).
#ifndef O_PATH
#define O_PATH 010000000
#endif

static inline int musikk_open_beneath(const char *root, const char *path) {
    int directory = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (directory < 0) return -1;
    struct { unsigned long long flags, mode, resolve; } how = {
        O_RDONLY | O_CLOEXEC, 0, 0x08 /* RESOLVE_BENEATH */ | 0x02 /* RESOLVE_NO_MAGICLINKS */
    };
    int descriptor = (int)syscall(437 /* SYS_openat2 */, directory, path, &how, sizeof how);
    int saved = errno;
    close(directory);
    errno = saved;
    return descriptor;
}

#endif
