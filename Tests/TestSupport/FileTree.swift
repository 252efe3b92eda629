import Foundation

/// The regular files under a folder, for tests that compare trees.
public enum FileTree {
    /// Every regular file under `root` (at any depth), by its path relative to `root`.
    public static func files(under root: URL) -> [String: URL] {
        var result: [String: URL] = [:]
        let enumerator = FileManager.default.enumerator(atPath: root.path)
        while let path = enumerator?.nextObject() as? String {
            let url = root.appendingPathComponent(path)
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                result[path] = url
            }
        }
        return result
    }
}
