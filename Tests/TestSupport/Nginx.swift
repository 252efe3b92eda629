import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real nginx (the Debian package) serving a folder on a loopback port, started for one test and stopped by
/// ``stop()``. Its configuration is the test's own `http` block around the server snippet under test.
public final class NginxServer: @unchecked Sendable {
    public let port: Int
    public let directory: URL
    private let process: Process

    /// The access log, one request a line (`$request $status`), for what a browser asked for.
    public var accessLog: URL { directory.appendingPathComponent("access.log") }
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Starts nginx with `serverBody` (directives inside `server { … }`, after `listen`) and waits until it answers.
    public convenience init(serverBody: String) throws {
        try self.init { port in
            """
                server {
                    listen 127.0.0.1:\(port);
            \(serverBody)
                }
            """
        }
    }

    /// Starts nginx with what `http(port)` puts in its `http` context (servers and upstreams; one of them listening
    /// on 127.0.0.1:`port`), and waits until it answers. `modules` are dynamic modules to load (paths).
    public init(modules: [String] = [], http: (_ port: Int) throws -> String) throws {
        directory = try Repository.temporaryDirectory("nginx")
        port = try Self.freePort()
        let httpBody = try http(port)
        for folder in ["temp", "logs"] {
            try FileManager.default.createDirectory(at: directory.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        let temp = directory.appendingPathComponent("temp").path
        let configuration = modules.map { "load_module \($0);\n" }.joined() + """
            daemon off;
            worker_processes 1;
            pid \(directory.path)/nginx.pid;
            error_log \(directory.path)/error.log warn;
            events { worker_connections 64; }
            http {
                log_format plain '$request $status';
                access_log \(directory.appendingPathComponent("access.log").path) plain;
                client_body_temp_path \(temp)/body;
                proxy_temp_path \(temp)/proxy;
                fastcgi_temp_path \(temp)/fastcgi;
                uwsgi_temp_path \(temp)/uwsgi;
                scgi_temp_path \(temp)/scgi;
                sendfile on;
            \(httpBody)
            }
            """
        let file = directory.appendingPathComponent("nginx.conf")
        try configuration.write(to: file, atomically: true, encoding: .utf8)
        let test = try Command.run("nginx", ["-t", "-q", "-p", directory.path, "-c", file.path])
        guard test.status == 0 else { throw SetupError(description: "nginx -t: \(test.standardError)") }
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/nginx")
        process.arguments = ["-p", directory.path, "-c", file.path]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<100 {
            if Self.answers(port) { return }
            usleep(50_000)
        }
        stop()
        let log = (try? String(contentsOf: directory.appendingPathComponent("error.log"), encoding: .utf8)) ?? ""
        throw SetupError(description: "nginx did not start on port \(port): \(log)")
    }

    /// Stops nginx and waits for it.
    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    deinit { stop() }

    /// Requests seen so far, as `METHOD URI PROTOCOL STATUS` lines.
    public func requests() -> [String] {
        ((try? String(contentsOf: accessLog, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// A port nothing listens on now (the kernel's pick for port 0).
    public static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw SetupError(description: "socket() failed") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0
            }
        }
        guard bound else { throw SetupError(description: "cannot bind a loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func answers(_ port: Int) -> Bool {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { return false }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}

/// A test helper could not set up what it runs (a server, a generated file).
public struct SetupError: Error, CustomStringConvertible {
    public var description: String

    public init(description: String) {
        self.description = description
    }
}
