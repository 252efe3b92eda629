import Foundation

/// Headless Chromium (the Debian package) loading a page; the page reports back through requests the test's web
/// server logs.
public enum Chromium {
    /// Opens `url` and waits until `until` holds for the server's `/report` requests (or 45 s pass), then closes
    /// the browser. Returns the report requests seen.
    public static func open(
        _ url: String, server: NginxServer, until: ([String]) -> Bool
    ) throws -> [String] {
        let profile = try Repository.temporaryDirectory("chromium-profile")
        defer { try? FileManager.default.removeItem(at: profile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/chromium")
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--mute-audio",
            "--autoplay-policy=no-user-gesture-required", "--user-data-dir=\(profile.path)", url,
        ]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
        }
        let deadline = Date().addingTimeInterval(45)
        var reports: [String] = []
        while Date() < deadline {
            reports = server.requests().filter { $0.contains("/report?") }
            if until(reports) { break }
            guard process.isRunning else { break }
            usleep(200_000)
        }
        return reports
    }
}
