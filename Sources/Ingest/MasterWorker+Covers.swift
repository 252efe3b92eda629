import Catalog
import Fingerprint
import Foundation
import Loudness
import Manifest
import MediaIO
import Segmenter
import SignalCheck
import WorkArea

/// Cover art stored once under a name derived from its bytes.
extension MasterWorker {
    /// Stores the embedded picture (or a cover image beside the master) under a name derived from its bytes.
    func storeCoverArt(_ embedded: CoverArt?, master: URL) throws -> (path: String, mimeType: String)? {
        let art: CoverArt
        if let embedded {
            art = embedded
        } else if let file = MasterScanner.folderCover(beside: master), let data = try? Data(contentsOf: file) {
            let png = file.pathExtension.lowercased() == "png"
            art = CoverArt(data: data, mimeType: png ? "image/png" : "image/jpeg", fileExtension: png ? "png" : "jpg")
        } else {
            return nil
        }
        let name = FileDigest.sha256(of: art.data).prefix(20) + "." + art.fileExtension
        let destination = layout.covers.appendingPathComponent(String(name))
        if !FileManager.default.fileExists(atPath: destination.path) {
            let temporary = layout.covers.appendingPathComponent(".partial-\(name)-\(UUID().uuidString)")
            do {
                try art.data.write(to: temporary)
                try FileManager.default.moveItem(at: temporary, to: destination)
            } catch {
                try? FileManager.default.removeItem(at: temporary)
                if !FileManager.default.fileExists(atPath: destination.path) {
                    throw IngestError.workDirectory(path: destination.path, detail: error.localizedDescription)
                }
            }
        }
        return (layout.relative(destination), art.mimeType)
    }
}
