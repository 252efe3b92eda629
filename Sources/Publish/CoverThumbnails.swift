import Foundation
import MediaIO
import WorkArea

/// The resized covers of a publication (for list rows, cards and heroes), made once per cover: they are kept in a
/// cache beside OUT_DIR, named by the cover's digest and the recipe that made them, so a re-publish only hashes them.
struct CoverThumbnails {
    /// Sides of the squares the thumbnails fit in (never enlarged: a small cover's thumbnails are its own size).
    static let sides = [96, 300, 600]
    /// Where new thumbnails are made: `OUT_DIR`'s cache (see ``OutputArea/thumbnails``), or a dry run's own folder.
    let cache: URL
    /// A cache only read (a dry run reads OUT_DIR's, and writes nothing there).
    var readOnly: URL? = nil

    /// The cache's folder for a cover: its digest and the recipe, so another FFmpeg or setting makes new ones.
    static func folderName(digest: String) -> String {
        let recipe = FileDigest.sha256(of: Data(CoverThumbnail.recipe.utf8)).prefix(8)
        return "\(digest.prefix(PublicationBuilder.digestLength))-\(recipe)"
    }

    /// The thumbnail files of the cover at `source` whose SHA-256 is `digest`, one per side, made if missing.
    func files(for source: URL, digest: String) throws(MediaError) -> [(side: Int, file: URL)] {
        let name = Self.folderName(digest: digest)
        if let readOnly {
            let made = Self.sides.map { (side: $0, file: readOnly.appendingPathComponent(name).appendingPathComponent("cover-\($0).jpg")) }
            if made.allSatisfy({ FileManager.default.fileExists(atPath: $0.file.path) }) { return made }
        }
        let folder = cache.appendingPathComponent(name)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw .image(path: folder.path, reason: "cannot create the thumbnail cache: \(error.localizedDescription)")
        }
        var files: [(side: Int, file: URL)] = []
        for side in Self.sides {
            let file = folder.appendingPathComponent("cover-\(side).jpg")
            if !FileManager.default.fileExists(atPath: file.path) {
                try CoverThumbnail.write(source, fittingIn: side, to: file)
            }
            files.append((side, file))
        }
        return files
    }

    /// Deletes the cache's folders that no cover of the publication uses any more.
    func prune(keeping used: Set<String>) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: cache.path) else { return }
        for name in names where !used.contains(name) {
            try? FileManager.default.removeItem(at: cache.appendingPathComponent(name))
        }
    }
}
