import Foundation
import Lyrics
import PublicationFormat
import Testing
import TestSupport

@Suite("Lyrics from masters")
struct LyricsTests {
    typealias Line = TrackDocument.Lyrics.Line

    @Test("LRC text, worked by hand: several times per line, word times, headers, offset, all three fraction widths")
    func lrc() throws {
        let text = "\u{FEFF}[ar:Someone]\r\n[offset:+250]\r\n[00:01.5]One\n[00:03.25][01:02.125]Two <00:03.80>words\r[00:02:50]Three\n\nno time\n[bad]keep?"
        let lyrics = try #require(MasterLyrics.parse(String(text.dropFirst()), language: "eng"))
        #expect(lyrics.synced && lyrics.language == "eng")
        #expect(lyrics.lines == [
            Line(start: 1250, text: "One"), Line(start: 2250, text: "Three"), Line(start: 3000, text: "Two words"), Line(start: 61875, text: "Two words"),
        ])
        let plain = try #require(MasterLyrics.parse("\n\nFirst\n\nSecond <b>\n\n"))
        #expect(!plain.synced && plain.lines.map(\.text) == ["First", "", "Second <b>"] && plain.lines.allSatisfy { $0.start == nil })
        #expect(MasterLyrics.parse("[ar:Nobody]\n\n  \n") == nil)
        #expect(MasterLyrics.parse("[00:60.00]not a time")?.synced == false)
    }

    @Test("USLT and SYLT (mutagen, ID3v2.3 and 2.4, UTF-16 and UTF-8), Vorbis LYRICS in LRC form, Ogg UNSYNCEDLYRICS, MP4 ©lyr and an .lrc sidecar reach the track JSON; a re-tag updates them")
    func mastersFromTools() throws {
        let root = try Repository.temporaryDirectory("lyrics")
        let masters = root.appendingPathComponent("masters"), work = root.appendingPathComponent("work"), out = root.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: masters, withIntermediateDirectories: true)
        let tone = root.appendingPathComponent("tone.wav").path
        func run(_ tool: String, _ arguments: [String]) throws {
            let result = try Command.run(tool, arguments)
            try #require(result.status == 0, "\(tool) \(arguments): \(result.standardError)")
        }
        func master(_ name: String) -> String { masters.appendingPathComponent(name).path }
        try run("sox", ["-n", "-r", "44100", "-c", "2", "-b", "16", tone, "synth", "8", "sine", "440", "sine", "660"])
        try run("lame", ["--quiet", tone, master("v23.mp3")])
        try run("lame", ["--quiet", "-b", "192", tone, master("v24.mp3")])
        let tagger = root.appendingPathComponent("tag.py")
        try """
            import sys
            from mutagen.id3 import ID3, SYLT, USLT, TIT2, Encoding
            path, version, encoding = sys.argv[1], int(sys.argv[2]), getattr(Encoding, sys.argv[3])
            tags = ID3()
            tags.add(TIT2(encoding=Encoding.UTF8, text="ID3 v2.%d" % version))
            tags.add(SYLT(encoding=encoding, lang="eng", format=2, type=1, desc="", text=[("Hello \u{fc}n\u{ef}code", 1000), ("World \u{1F3B5}", 2500), ("Last", 6000)]))
            tags.add(USLT(encoding=Encoding.UTF8, lang="deu", desc="", text="Hallo Welt\\nZweite Zeile"))
            tags.save(path, v2_version=version)
            """.write(to: tagger, atomically: true, encoding: .utf8)
        try run("/usr/bin/python3", [tagger.path, master("v23.mp3"), "3", "UTF16"])
        try run("/usr/bin/python3", [tagger.path, master("v24.mp3"), "4", "UTF8"])
        try run("flac", ["--silent", "-f", tone, "-o", master("vorbis.flac"), "-T", "TITLE=Vorbis",
                         "-T", "LYRICS=[ar:Someone]\n[00:01.00]First line\n[00:03.50][00:07.25]Chorus <00:03.80>word\n[00:05.00]Second line"])
        try run("ffmpeg", ["-nostdin", "-v", "error", "-y", "-i", tone, "-c:a", "aac", "-b:a", "128k", "-metadata", "title=MP4",
                           "-metadata", "lyrics=Plain one\nPlain two", master("mp4.m4a")])
        try run("oggenc", ["-Q", tone, "-o", master("ogg.ogg"), "-c", "TITLE=Ogg", "-c", "UNSYNCEDLYRICS=Ogg line one\nOgg line two"])
        try run("cp", [tone, master("sidecar.wav")])
        try "[00:00.50]Side one\n[00:02.00]Side two\n".write(toFile: master("sidecar.lrc"), atomically: true, encoding: .utf8)

        let ingest = try Command.run(Repository.executable("musikk-ingest").path, [masters.path, work.path, "--quiet", "--jobs", "2"])
        try #require(ingest.status == 0, "\(ingest.standardError)")
        try #require(try publish(work, out).status == 0)
        let byTitle = try Self.lyricsByTitle(out)
        let id3Synced = [Line(start: 1000, text: "Hello ünïcode"), Line(start: 2500, text: "World 🎵"), Line(start: 6000, text: "Last")]
        let id3Plain = [Line(text: "Hallo Welt"), Line(text: "Zweite Zeile")]
        for title in ["ID3 v2.3", "ID3 v2.4"] {
            #expect(byTitle[title] == [
                TrackDocument.Lyrics(language: "eng", synced: true, lines: id3Synced), TrackDocument.Lyrics(language: "deu", synced: false, lines: id3Plain),
            ], "\(title): \(String(describing: byTitle[title]))")
        }
        #expect(byTitle["Vorbis"] == [TrackDocument.Lyrics(language: "und", synced: true, lines: [
            Line(start: 1000, text: "First line"), Line(start: 3500, text: "Chorus word"), Line(start: 5000, text: "Second line"), Line(start: 7250, text: "Chorus word"),
        ])])
        #expect(byTitle["MP4"] == [TrackDocument.Lyrics(language: "und", synced: false, lines: [Line(text: "Plain one"), Line(text: "Plain two")])])
        #expect(byTitle["Ogg"] == [TrackDocument.Lyrics(language: "und", synced: false, lines: [Line(text: "Ogg line one"), Line(text: "Ogg line two")])])
        #expect(byTitle["sidecar"] == [TrackDocument.Lyrics(language: "und", synced: true, lines: [Line(start: 500, text: "Side one"), Line(start: 2000, text: "Side two")])])
        #expect(!FileManager.default.fileExists(atPath: work.appendingPathComponent("rejected").path))

        // A re-tag is a tag-only change: new lyrics without encoding again; removing them removes them.
        try run("metaflac", ["--remove-tag=LYRICS", "--set-tag=LYRICS=Now plain", master("vorbis.flac")])
        try run("vorbiscomment", ["-w", "-t", "TITLE=Ogg", master("ogg.ogg")])
        let again = try Command.run(Repository.executable("musikk-ingest").path, [masters.path, work.path, "--json", "--jobs", "2"])
        try #require(again.status == 0, "\(again.standardError)")
        let report = try #require(try JSONSerialization.jsonObject(with: again.standardOutput) as? [String: Any])
        let files = report["files"] as? [[String: Any]] ?? []
        #expect(files.filter { $0["status"] as? String == "updated" }.compactMap { $0["path"] as? String }.sorted() == ["ogg.ogg", "vorbis.flac"], "\(files)")
        #expect(files.allSatisfy { ($0["changes"] as? [String] ?? []).allSatisfy { $0 == "tags" } })
        try #require(try publish(work, out).status == 0)
        let after = try Self.lyricsByTitle(out)
        #expect(after["Vorbis"] == [TrackDocument.Lyrics(language: "und", synced: false, lines: [Line(text: "Now plain")])])
        #expect(after["Ogg"] == nil)
        #expect(after["MP4"] == byTitle["MP4"])
    }

    @Test("a damaged ID3 tag gives the lyrics before the damage and no more, and never stops the ingest")
    func damagedTag() throws {
        let root = try Repository.temporaryDirectory("lyrics-damage")
        let file = root.appendingPathComponent("sylt.mp3")
        // An ID3v2.4 tag by hand: a TXXX frame (skipped), a SYLT frame, then an APIC frame whose size runs past
        // the tag.
        func syncsafe(_ value: Int) -> [UInt8] { [UInt8(value >> 21 & 0x7F), UInt8(value >> 14 & 0x7F), UInt8(value >> 7 & 0x7F), UInt8(value & 0x7F)] }
        let sylt: [UInt8] = [3] + Array("eng".utf8) + [2, 1, 0] + Array("One".utf8) + [0, 0, 0, 0x03, 0xE8] + Array("Two".utf8) + [0, 0, 0, 0x07, 0xD0]
        var frames: [UInt8] = Array("TXXX".utf8) + syncsafe(4) + [0, 0] + [3, 0x61, 0, 0x62]
        frames += Array("SYLT".utf8) + syncsafe(sylt.count) + [0, 0] + sylt
        frames += Array("APIC".utf8) + syncsafe(1000) + [0, 0] + [0, 0, 0]
        let tag = Array("ID3".utf8) + [4, 0, 0] + syncsafe(frames.count + 5) + frames
        try Data(tag).write(to: file)
        let lyrics = MasterLyrics.syncedFrames(inID3Of: file)
        #expect(lyrics == [TrackDocument.Lyrics(language: "eng", synced: true, lines: [Line(start: 1000, text: "One"), Line(start: 2000, text: "Two")])])
        // A frame in a group (v2.4 flag 0x40) has a group byte before its body.
        let grouped = Array("ID3".utf8) + [4, 0, 0] + syncsafe(11 + sylt.count) + Array("SYLT".utf8) + syncsafe(1 + sylt.count) + [0, 0x40, 7] + sylt
        try Data(grouped).write(to: file)
        #expect(MasterLyrics.syncedFrames(inID3Of: file) == lyrics)
        try Data(tag).write(to: file)
        // Cut inside the SYLT frame: nothing, and no crash.
        try Data(tag.prefix(tag.count - 30)).write(to: file)
        #expect(MasterLyrics.syncedFrames(inID3Of: file).isEmpty)
        try Data(Array("ID3".utf8) + [4, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]).write(to: file)
        #expect(MasterLyrics.syncedFrames(inID3Of: file).isEmpty)
    }

    /// Each published track's lyrics, by title, read from the track documents (absent when it has none).
    static func lyricsByTitle(_ out: URL) throws -> [String: [TrackDocument.Lyrics]] {
        var result: [String: [TrackDocument.Lyrics]] = [:]
        let folder = out.appendingPathComponent("api/tracks")
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where !name.hasPrefix("page-") {
            let track = try JSONDecoder().decode(TrackDocument.self, from: Data(contentsOf: folder.appendingPathComponent(name)))
            if let lyrics = track.lyrics { result[track.title] = lyrics }
        }
        return result
    }
}
