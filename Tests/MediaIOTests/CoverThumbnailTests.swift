import Foundation
import MediaIO
import Testing
import TestSupport

/// Cover thumbnails judged by ffprobe (size, codec) and by ffmpeg's own Lanczos scaler (PSNR), on covers ffmpeg
/// makes at test time in the formats taggers embed, and on covers damaged the ways transfers damage them. One case
/// at a time: each waits on ffmpeg on a cooperative thread, and the servers other suites run in-process need them.
@Suite("cover thumbnails", .serialized)
struct CoverThumbnailTests {
    /// A cover drawn by ffmpeg: a test pattern of `width` × `height` in the container the extension names.
    static func makeCover(_ name: String, width: Int, height: Int, in folder: URL, pixelFormat: String? = nil) throws -> URL {
        let file = folder.appendingPathComponent(name)
        var arguments = ["-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=\(width)x\(height)", "-frames:v", "1"]
        if let pixelFormat { arguments += ["-pix_fmt", pixelFormat] }
        let result = try Command.run("/usr/bin/ffmpeg", arguments + [file.path])
        try #require(result.status == 0, "\(result.standardError)")
        return file
    }

    /// ffprobe's codec, width and height of an image.
    static func probe(_ file: URL) throws -> (codec: String, width: Int, height: Int) {
        let result = try Command.run("/usr/bin/ffprobe", [
            "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0", file.path,
        ])
        let fields = result.text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",")
        try #require(fields.count == 3, "ffprobe: \(result.text) \(result.standardError)")
        return (String(fields[0]), Int(fields[1]) ?? 0, Int(fields[2]) ?? 0)
    }

    /// PSNR (dB, average over Y, U, V) of `file` against ffmpeg's own Lanczos scaling of `source` to its size.
    static func psnr(_ file: URL, against source: URL, width: Int, height: Int) throws -> Double {
        let result = try Command.run("/usr/bin/ffmpeg", [
            "-v", "info", "-i", file.path, "-i", source.path, "-filter_complex",
            "[1:v]scale=\(width):\(height):flags=lanczos,format=yuvj420p[reference];[0:v]format=yuvj420p[thumbnail];[thumbnail][reference]psnr",
            "-f", "null", "-",
        ])
        guard let range = result.standardError.range(of: "average:") else { throw CommandFailure(result.standardError) }
        let text = result.standardError[range.upperBound...].prefix { !$0.isWhitespace }
        return Double(text) ?? (text == "inf" ? .infinity : 0)
    }

    struct CommandFailure: Error { let text: String; init(_ text: String) { self.text = text } }

    @Test("a cover is scaled to fit each side, aspect kept, as close to ffmpeg's own scaler as JPEG allows, the same bytes every time",
          arguments: [("cover.png", 1000, 800, nil), ("cover.jpg", 700, 1400, "yuvj420p"), ("alpha.png", 640, 640, "rgba"),
                      ("gray.png", 900, 600, "gray")] as [(String, Int, Int, String?)])
    func scaled(name: String, width: Int, height: Int, pixelFormat: String?) throws {
        let folder = try Repository.temporaryDirectory("thumbnails")
        let cover = try Self.makeCover(name, width: width, height: height, in: folder, pixelFormat: pixelFormat)
        #expect(try CoverThumbnail.dimensions(of: cover) == (width, height))
        for side in [96, 300, 600] {
            let thumbnail = folder.appendingPathComponent("\(side).jpg")
            let made = try CoverThumbnail.write(cover, fittingIn: side, to: thumbnail)
            // Hand-worked: the longer side becomes `side`, the other keeps the proportion (rounded).
            let longest = max(width, height)
            let expected = longest <= side ? (width, height)
                : (Int((Double(width) * Double(side) / Double(longest)).rounded()), Int((Double(height) * Double(side) / Double(longest)).rounded()))
            #expect(made == expected, "\(name) at \(side)")
            let probed = try Self.probe(thumbnail)
            #expect(probed.codec == "mjpeg" && probed.width == expected.0 && probed.height == expected.1, "\(probed)")
            let quality = try Self.psnr(thumbnail, against: cover, width: expected.0, height: expected.1)
            #expect(quality > 30, "\(name) at \(side): PSNR \(quality) dB against ffmpeg's Lanczos scaling")
            let again = folder.appendingPathComponent("\(side)-again.jpg")
            try CoverThumbnail.write(cover, fittingIn: side, to: again)
            #expect(try Data(contentsOf: again) == Data(contentsOf: thumbnail), "two runs differ")
        }
    }

    @Test("damaged or hostile covers are refused with an error naming the file, never a crash")
    func damaged() throws {
        let folder = try Repository.temporaryDirectory("thumbnails-damaged")
        let cover = try Self.makeCover("whole.jpg", width: 600, height: 600, in: folder)
        let bytes = try Data(contentsOf: cover)
        var damaged: [(String, Data)] = [
            ("empty.jpg", Data()),
            ("cut.jpg", bytes.prefix(bytes.count / 3)),
            ("header-only.jpg", bytes.prefix(20)),
            ("noise.png", Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) })),
            ("text.jpg", Data("this is not a picture\n".utf8)),
        ]
        // A PNG whose header claims 30000 × 30000 pixels (a bomb): refused before anything is decoded.
        var bomb = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52])
        bomb += Data([0, 0, 0x75, 0x30, 0, 0, 0x75, 0x30, 8, 2, 0, 0, 0, 0, 0, 0, 0])
        damaged.append(("bomb.png", bomb))
        for (name, data) in damaged {
            let file = folder.appendingPathComponent(name)
            try data.write(to: file)
            do {
                try CoverThumbnail.write(file, fittingIn: 300, to: folder.appendingPathComponent("\(name).thumbnail.jpg"))
                // A cut JPEG may still decode (the decoder conceals what is missing); then it must be a real JPEG.
                #expect(name == "cut.jpg", "\(name) was accepted")
                #expect(try Self.probe(folder.appendingPathComponent("\(name).thumbnail.jpg")).codec == "mjpeg")
            } catch let error as MediaError {
                #expect(error.description.hasPrefix(file.path), "\(error)")
            }
        }
        #expect(throws: MediaError.self) { try CoverThumbnail.write(cover, fittingIn: 0, to: folder.appendingPathComponent("zero.jpg")) }
        // A real picture wider than covers may be is refused before it is decoded, naming the limit.
        let wide = try Self.makeCover("wide.png", width: Int(CoverThumbnail.maximumSide) + 8, height: 8, in: folder)
        do {
            try CoverThumbnail.write(wide, fittingIn: 300, to: folder.appendingPathComponent("wide.jpg"))
            Issue.record("a \(CoverThumbnail.maximumSide + 8) px wide picture was accepted")
        } catch {
            #expect(error.description.contains("at most \(CoverThumbnail.maximumSide) pixels"), "\(error)")
        }
    }
}
