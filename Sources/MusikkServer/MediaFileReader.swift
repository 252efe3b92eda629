internal import CLinux
import Glibc
import Hummingbird
import NIOCore
import NIOPosix

/// Reads publication files for responses the way nginx does, minus its one weakness: bytes already in the page
/// cache are read in place (`preadv2` with `RWF_NOWAIT` never waits for a disk), and only reads that would wait go
/// to the thread pool. Responses longer than a chunk are streamed a chunk at a time, so memory stays one chunk per
/// response whatever the file's length.
struct MediaFileReader: Sendable {
    /// What identifies a file's version: size and modification time make its validator, device and inode tell a
    /// file replaced under the same path.
    struct Metadata: Sendable, Equatable {
        var size: Int
        var modified: Int
        var device: UInt
        var inode: UInt
    }

    /// A file opened for a response: its metadata, the byte range chosen for it and the first chunk of that range.
    struct Opening: Sendable {
        var metadata: Metadata
        var range: ClosedRange<Int>?
        var head: ByteBuffer
    }

    /// A file that could not be read although it exists (I/O error, or replaced while a response streamed it).
    struct ReadError: Error, CustomStringConvertible {
        var path: String
        var reason: String
        var description: String { "cannot read \(path): \(reason)" }
    }

    /// The directory files are read from; nothing outside it is ever opened.
    let root: String
    let threadPool: NIOThreadPool
    let chunkLength: Int

    init(root: String, threadPool: NIOThreadPool = .singleton, chunkLength: Int = 256 * 1024) {
        self.root = root
        self.threadPool = threadPool
        self.chunkLength = chunkLength
    }

    /// Opens the regular file at `path` inside `root` (nil when there is none there), lets `choose` decide from its metadata what to
    /// answer and which bytes to send (nil: none), and reads the first chunk of those bytes. Returns the decision too.
    func open<Choice>(path: String, choose: (Metadata) -> (Choice, bytes: ClosedRange<Int>?)) async throws -> (Opening, Choice)? {
        guard let (descriptor, metadata) = try openRegularFile(path) else { return nil }
        defer { Glibc.close(descriptor) }
        let (choice, range) = choose(metadata)
        guard let range else { return (Opening(metadata: metadata, range: nil, head: ByteBuffer()), choice) }
        guard range.lowerBound >= 0, range.upperBound < metadata.size else {
            throw ReadError(path: path, reason: "bytes \(range.lowerBound)-\(range.upperBound) lie outside its \(metadata.size) bytes")
        }
        let head = try await read(descriptor, path: path, offset: range.lowerBound, count: min(range.count, chunkLength))
        return (Opening(metadata: metadata, range: range, head: head), choice)
    }

    /// The response body for `opening`'s range: its first chunk, then the rest read a chunk at a time from the same
    /// file (the stream ends with an error if the file was replaced in between).
    func body(path: String, _ opening: Opening) -> ResponseBody {
        guard let range = opening.range, opening.head.readableBytes < range.count else { return ResponseBody(byteBuffer: opening.head) }
        return ResponseBody(contentLength: range.count) { writer in
            try await writer.write(opening.head)
            guard let (descriptor, metadata) = try openRegularFile(path), metadata == opening.metadata else {
                throw ReadError(path: path, reason: "the file changed while it was being sent")
            }
            defer { Glibc.close(descriptor) }
            var offset = range.lowerBound + opening.head.readableBytes
            while offset <= range.upperBound {
                let count = min(chunkLength, range.upperBound + 1 - offset)
                try await writer.write(try await read(descriptor, path: path, offset: offset, count: count))
                offset += count
            }
        }
    }

    /// Exactly `count` bytes at `offset`: from the page cache in place when they are all there, else on the thread pool.
    private func read(_ descriptor: Int32, path: String, offset: Int, count: Int) async throws -> ByteBuffer {
        if let bytes = try Self.read(descriptor, path: path, offset: offset, count: count, mayWait: false) { return bytes }
        return try await threadPool.runIfActive {
            guard let bytes = try Self.read(descriptor, path: path, offset: offset, count: count, mayWait: true) else {
                throw ReadError(path: path, reason: "the read did not complete")
            }
            return bytes
        }
    }

    /// Opening and `fstat` touch only metadata the kernel keeps cached for files in use, as nginx's workers rely on.
    /// A symbolic link inside the publication that leads out of it (EXDEV) is as good as no file.
    private func openRegularFile(_ path: String) throws -> (Int32, Metadata)? {
        let descriptor = musikk_open_beneath(root, path)
        guard descriptor >= 0 else {
            if [ENOENT, ENOTDIR, EACCES, ELOOP, ENAMETOOLONG, EXDEV].contains(errno) { return nil }
            if errno == ENOSYS { throw ReadError(path: path, reason: "this kernel lacks openat2 (Linux 5.6 or later is needed)") }
            throw ReadError(path: path, reason: String(cString: strerror(errno)))
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(descriptor)
            throw ReadError(path: path, reason: reason)
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            Glibc.close(descriptor)
            return nil
        }
        let metadata = Metadata(
            size: Int(status.st_size), modified: Int(status.st_mtim.tv_sec), device: UInt(status.st_dev), inode: UInt(status.st_ino))
        return (descriptor, metadata)
    }

    /// Exactly `count` bytes at `offset`; nil when `mayWait` is false and some of them are not in the page cache.
    /// A file that shrank since it was opened is an error.
    private static func read(_ descriptor: Int32, path: String, offset: Int, count: Int, mayWait: Bool) throws -> ByteBuffer? {
        var buffer = ByteBufferAllocator().buffer(capacity: count)
        var failure: Int32 = 0
        let done = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { bytes -> Int in
            guard let base = bytes.baseAddress else { return 0 }
            var done = 0
            while done < count {
                let read = mayWait
                    ? pread(descriptor, base + done, count - done, off_t(offset + done))
                    : musikk_pread_cached(descriptor, base + done, count - done, off_t(offset + done))
                if read > 0 {
                    done += read
                } else if read < 0 && errno == EINTR {
                    continue
                } else {
                    failure = read < 0 ? errno : 0
                    break
                }
            }
            return done
        }
        if done == count { return buffer }
        if !mayWait && (failure == EAGAIN || failure == EOPNOTSUPP) { return nil }
        throw ReadError(path: path, reason: failure == 0 ? "the file is shorter than it was when opened" : String(cString: strerror(failure)))
    }
}
