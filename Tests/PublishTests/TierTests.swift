import Foundation
import Testing
import TestSupport

/// The lossless tier (FLAC in CMAF) and the protected tier (CMAF cbcs), on masters sox, ffmpeg and lame make at
/// test time, judged by ffmpeg (decoding, decryption), GStreamer, xmllint, openssl's HKDF and the FLAC format's
/// own MD5.
@Suite("Lossless and protected tiers", .serialized)
struct TierTests {
    /// Masters at the rates and depths the lossless tier keeps: name, the tool's arguments, and the sample format
    /// whose PCM must come back bit for bit.
    static let masters: [(path: String, make: [String], pcm: String?)] = [
        ("CD/01 cd.flac", ["sox", "-n", "-r", "44100", "-b", "16", "-c", "2", "OUT", "synth", "4", "sine", "440", "pinknoise", "gain", "-6"], "s16le"),
        ("Hires/01 hires.wav", ["sox", "-n", "-r", "96000", "-b", "24", "-c", "2", "OUT", "synth", "3", "sine", "1000", "brownnoise", "gain", "-9"], "s32le"),
        ("Hires/02 mono 192k.aiff", ["sox", "-n", "-r", "192000", "-b", "24", "-c", "1", "OUT", "synth", "2", "sine", "3000", "gain", "-3"], "s32le"),
        ("Surround/01 five one.flac", ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=300:duration=2:sample_rate=48000",
                                       "-af", "pan=5.1|FL=c0|FR=0.5*c0|FC=0.3*c0|LFE=0.1*c0|BL=0.7*c0|BR=0.2*c0", "-sample_fmt", "s32", "-bits_per_raw_sample", "24", "OUT"], "s32le"),
        ("Lossy/01 lossy.mp3", ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=500:duration=3:sample_rate=44100", "-c:a", "libmp3lame", "-b:a", "192k", "OUT"], nil),
    ]

    static let ladder = """
        [[rendition]]
        codec = "aac"
        bitrate = 128

        [[rendition]]
        codec = "opus"
        bitrate = 96

        [[rendition]]
        codec = "flac"
        surround = "keep"

        """

    static let protection = """

        [protection]
        scheme = "cbcs"

        """

    /// One masters folder, ingested clear and protected (twice each, for determinism) and published.
    struct Runs {
        let root: URL
        let masters: URL
        let keyFile: URL
        let keyHex: String

        static let shared = Result { () throws(SetupError) in
            do {
                return try Runs()
            } catch let error as SetupError {
                throw error
            } catch {
                throw SetupError(description: "\(error)")
            }
        }

        init() throws {
            root = try Repository.temporaryDirectory("tiers")
            masters = root.appendingPathComponent("masters")
            for master in TierTests.masters {
                let url = masters.appendingPathComponent(master.path)
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                let arguments = master.make.dropFirst().map { $0 == "OUT" ? url.path : $0 }
                let result = try Command.run(master.make[0], Array(arguments))
                guard result.status == 0 else { throw SetupError(description: "\(master.make[0]): \(result.standardError)") }
            }
            keyHex = ContentKeyJudge.randomKeyHex()
            keyFile = root.appendingPathComponent("kek")
            try Data((keyHex + "\n").utf8).write(to: keyFile)
            try Data(TierTests.ladder.utf8).write(to: root.appendingPathComponent("clear.toml"))
            try Data((TierTests.ladder + TierTests.protection).utf8).write(to: root.appendingPathComponent("protected.toml"))
            try Data("[[rendition]]\ncodec = \"flac\"\n".utf8).write(to: root.appendingPathComponent("lossless.toml"))
            for (work, profile, extra) in [("clear", "clear", []), ("clear-again", "clear", []), ("lossless", "lossless", []),
                                           ("protected", "protected", ["--key-file", keyFile.path]),
                                           ("protected-again", "protected", ["--key-file", keyFile.path])] {
                let result = try Command.run(Repository.executable("musikk-ingest").path, [
                    masters.path, root.appendingPathComponent(work).path, "--profile", root.appendingPathComponent("\(profile).toml").path,
                    "--jobs", "2", "--quiet", "--no-analysis",
                ] + extra)
                guard result.status == 0 else { throw SetupError(description: "musikk-ingest \(work): \(result.standardError)") }
            }
            for work in ["clear", "protected", "lossless"] {
                let result = try publish(root.appendingPathComponent(work), root.appendingPathComponent("out-\(work)"))
                guard result.status == 0 else { throw SetupError(description: "musikk-publish \(work): \(result.standardError)") }
            }
        }

        func work(_ name: String) -> URL { root.appendingPathComponent(name) }
        func out(_ name: String) -> PublishedTree { PublishedTree(root: root.appendingPathComponent("out-\(name)")) }

        /// The catalog's renditions: track id, name, path (relative to WORK) and master path.
        func renditions(_ work: String) throws -> [(track: String, name: String, path: String, master: String)] {
            let result = try Command.run("sqlite3", ["-separator", "\t", self.work(work).appendingPathComponent("catalog.sqlite").path,
                "SELECT r.trackId, r.name, r.path, t.sourcePath FROM rendition r JOIN track t ON t.id = r.trackId ORDER BY t.sourcePath, r.name"])
            guard result.status == 0 else { throw SetupError(description: result.standardError) }
            return result.text.split(separator: "\n").map { line in
                let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                return (fields[0], fields[1], fields[2], fields[3])
            }
        }
    }

    /// `ffmpeg`'s decode of `input` as raw `format` PCM (every channel, the stream's own rate).
    static func pcm(_ input: String, format: String, key: String? = nil) throws -> (Data, CommandResult) {
        var arguments = ["-nostdin", "-v", "error"]
        if let key { arguments += ["-decryption_key", key] }
        arguments += ["-i", input, "-map", "0:a:0", "-f", format, "-"]
        let result = try Command.run("ffmpeg", arguments)
        return (result.standardOutput, result)
    }

    /// ffprobe's view of the first audio stream.
    static func probe(_ path: String) throws -> [String: Any] {
        let result = try Command.run("ffprobe", ["-v", "error", "-select_streams", "a:0", "-show_streams", "-of", "json", path])
        let object = try JSONSerialization.jsonObject(with: result.standardOutput) as? [String: Any]
        return ((object?["streams"] as? [[String: Any]])?.first) ?? [:]
    }

    // MARK: Lossless

    @Test("FLAC in CMAF decodes bit-exact to the master's PCM at its rate and depth (16/44.1k, 24/96k, 24/192k mono, 24-bit 5.1 kept); an MP3 master gets 16-bit")
    func losslessIsBitExact() throws {
        let runs = try Runs.shared.get()
        let flac = try runs.renditions("clear").filter { $0.name == "flac" }
        #expect(flac.count == Self.masters.count)
        for master in Self.masters {
            let rendition = try #require(flac.first { $0.master == master.path }, "\(master.path)")
            let file = runs.work("clear").appendingPathComponent(rendition.path).path
            let stream = try Self.probe(file)
            #expect(stream["codec_name"] as? String == "flac", "\(master.path)")
            let source = try Self.probe(runs.masters.appendingPathComponent(master.path).path)
            #expect(stream["sample_rate"] as? String == source["sample_rate"] as? String, "\(master.path)")
            #expect(stream["channels"] as? Int == source["channels"] as? Int, "\(master.path)")
            guard let format = master.pcm else {
                #expect(stream["bits_per_raw_sample"] as? String == "16", "\(master.path): \(stream)")
                continue
            }
            let (ours, ourResult) = try Self.pcm(file, format: format)
            let (theirs, _) = try Self.pcm(runs.masters.appendingPathComponent(master.path).path, format: format)
            #expect(ourResult.status == 0, "\(master.path): \(ourResult.standardError)")
            #expect(!theirs.isEmpty && ours == theirs, "\(master.path): \(ours.count) bytes decoded against the master's \(theirs.count)")
        }
    }

    @Test("the sample entry is fLaC with one dfLa holding STREAMINFO, whose MD5 is the master's PCM's; 192 kHz is 0 in the entry and true in STREAMINFO")
    func sampleEntry() throws {
        let runs = try Runs.shared.get()
        for rendition in try runs.renditions("clear") where rendition.name == "flac" {
            let master = try #require(Self.masters.first { $0.path == rendition.master })
            let bytes = try [UInt8](Data(contentsOf: runs.work("clear").appendingPathComponent(rendition.path)))
            let entry = try #require(BoxWalker(bytes).find(["moov", "trak", "mdia", "minf", "stbl", "stsd"]), "\(rendition.master)")
            // stsd: version/flags, entry count, then the sample entry.
            let sample = entry.lowerBound + 16
            #expect(String(decoding: bytes[(sample + 4)..<(sample + 8)], as: UTF8.self) == "fLaC", "\(rendition.master)")
            let rateField = bytes[(sample + 32)..<(sample + 36)].reduce(0) { $0 << 8 | Int($1) }
            let dfLa = sample + 36
            #expect(String(decoding: bytes[(dfLa + 4)..<(dfLa + 8)], as: UTF8.self) == "dfLa")
            #expect(bytes[dfLa + 12] == 0x80, "one metadata block, STREAMINFO, marked last")
            let streamInfo = Array(bytes[(dfLa + 16)..<(dfLa + 50)])
            let rate = Int(streamInfo[10]) << 12 | Int(streamInfo[11]) << 4 | Int(streamInfo[12]) >> 4
            let sourceRate = Int(try Self.probe(runs.masters.appendingPathComponent(master.path).path)["sample_rate"] as? String ?? "") ?? 0
            #expect(rate == sourceRate, "\(rendition.master)")
            #expect(rateField == (sourceRate > 65535 ? 0 : sourceRate << 16), "\(rendition.master)")
            // STREAMINFO's MD5 is of the samples, little-endian, interleaved, at the stream's own byte width.
            let bits = (Int(streamInfo[12] & 1) << 4 | Int(streamInfo[13]) >> 4) + 1
            let format = bits == 16 ? "s16le" : "s24le"
            let (samples, _) = try Self.pcm(runs.masters.appendingPathComponent(master.path).path, format: format)
            if master.pcm != nil {
                let digest = try Command.run("md5sum", [try Self.write(samples, in: runs.root)]).text.prefix(32)
                #expect(digest == Hex.hex(streamInfo[18..<34]), "\(rendition.master)")
            }
            // The reference decoder checks the stream against that MD5: FLAC frames copied out of the MP4 into a
            // .flac file (with the dfLa's STREAMINFO), then `flac -t`.
            let copy = runs.root.appendingPathComponent("check-\(UUID().uuidString).flac")
            let remux = try Command.run("ffmpeg", ["-nostdin", "-v", "error", "-i", runs.work("clear").appendingPathComponent(rendition.path).path,
                                                   "-c", "copy", copy.path])
            #expect(remux.status == 0, "\(remux.standardError)")
            let tested = try Command.run("flac", ["-t", "-s", copy.path])
            #expect(tested.status == 0, "\(rendition.master): flac -t: \(tested.standardError)")
        }
    }

    @Test("renditions are byte-identical across runs, clear and protected, lossless and lossy")
    func deterministic() throws {
        let runs = try Runs.shared.get()
        for (first, second) in [("clear", "clear-again"), ("protected", "protected-again")] {
            let renditions = try runs.renditions(first)
            #expect(renditions.count == Self.masters.count * 3)
            for rendition in renditions {
                let a = try Data(contentsOf: runs.work(first).appendingPathComponent(rendition.path))
                let b = try Data(contentsOf: runs.work(second).appendingPathComponent(rendition.path))
                #expect(a == b, "\(first): \(rendition.path)")
            }
        }
    }

    @Test("the lossless tier has its own HLS master (CODECS fLaC) and DASH AdaptationSet; the JSON names its tier; GStreamer plays both to the end")
    func losslessManifestsPlay() throws {
        let runs = try Runs.shared.get()
        let tree = runs.out("clear")
        let server = try NginxServer(serverBody: """
            root \(tree.root.path);
            include \(tree.root.path)/nginx/musikk.conf;
            """)
        defer { server.stop() }
        let lossless = runs.out("lossless")
        let onlyLossless = try NginxServer(serverBody: """
            root \(lossless.root.path);
            include \(lossless.root.path)/nginx/musikk.conf;
            """)
        defer { onlyLossless.stop() }
        #expect(Set(try lossless.trackIDs()) == Set(try tree.trackIDs()), "track ids do not depend on the ladder")
        for id in try tree.trackIDs() {
            let document = try tree.json("api/tracks/\(id).json")
            let streams = try #require(document["streams"] as? [String: Any])
            let renditions = try #require(document["renditions"] as? [[String: Any]])
            #expect(renditions.filter { $0["tier"] as? String == "lossless" }.map { $0["codecs"] as? String } == ["flac"])
            #expect(renditions.filter { $0["tier"] as? String == "lossy" }.count == 2)
            let master = try String(contentsOf: tree.root.appendingPathComponent("hls/\(id)/master-flac.m3u8"), encoding: .utf8)
            #expect(master.contains("CODECS=\"fLaC\""))
            #expect(!master.contains("mp4a") && !master.contains("Opus"))
            #expect(HLSChecker.checkMaster(at: tree.root.appendingPathComponent("hls/\(id)/master-flac.m3u8")).isEmpty)
            #expect(HLSChecker.checkMedia(at: tree.root.appendingPathComponent("hls/\(id)/flac.m3u8")).isEmpty)
            #expect((streams["hlsLossless"] as? String)?.hasSuffix("hls/\(id)/master-flac.m3u8") == true)
            #expect((streams["lossless"] as? String)?.hasPrefix("media/audio/") == true)
            let mpd = try String(contentsOf: tree.root.appendingPathComponent("dash/\(id).mpd"), encoding: .utf8)
            #expect(mpd.components(separatedBy: "<AdaptationSet").count == 4, "AAC, Opus and FLAC each in a set of their own")
            #expect(mpd.contains("codecs=\"flac\""))
            let duration = try #require(document["duration"] as? Double)
            // The clear publication's FLAC master; the MPD of a FLAC-only publication (playbin plays an MPD's
            // first set, which is AAC in the mixed one).
            for (base, manifest) in [(server.baseURL, "hls/\(id)/master-flac.m3u8"), (onlyLossless.baseURL, "dash/\(id).mpd")] {
                var (decoded, result) = try DecodedAudio.gstreamer(uri: "\(base)/\(manifest)", sampleRate: 48_000)
                for _ in 0..<2 where [9, 124, 137].contains(result.status) {
                    (decoded, result) = try DecodedAudio.gstreamer(uri: "\(base)/\(manifest)", sampleRate: 48_000)
                }
                #expect(result.status == 0, "\(manifest): \(result.standardError)")
                #expect(abs(decoded.seconds - duration) <= 0.05, "\(manifest): played \(decoded.seconds) s of \(duration) s")
            }
        }
        let mpds = (tree.files().filter { $0.hasSuffix(".mpd") }.map { tree.root.appendingPathComponent($0).path })
            + (lossless.files().filter { $0.hasSuffix(".mpd") }.map { lossless.root.appendingPathComponent($0).path })
        let result = try Command.run("xmllint", ["--noout", "--schema", Repository.dashSchema.path] + mpds.sorted())
        #expect(result.status == 0, "\(result.standardError)")
    }

    // MARK: Protected

    @Test("protected renditions: sinf/schm cbcs/tenc in the init, senc+saiz+saio in every fragment; no key: ffmpeg fails or decodes other audio; the key (openssl's HKDF): bit-exact with the clear rendition")
    func protectedDecryptsBitExact() throws {
        let runs = try Runs.shared.get()
        let clear = try runs.renditions("clear")
        let protected = try runs.renditions("protected")
        #expect(protected.count == clear.count)
        var ivsByTrack: [String: [String]] = [:]
        for rendition in protected {
            let (kid, key) = try ContentKeyJudge.contentKey(keyHex: runs.keyHex, trackID: rendition.track)
            let file = runs.work("protected").appendingPathComponent(rendition.path)
            let bytes = try [UInt8](Data(contentsOf: file))
            let walker = BoxWalker(bytes)
            let tenc = try #require(walker.find(["moov", "trak", "mdia", "minf", "stbl", "stsd"]).flatMap { stsd in
                walker.search("tenc", in: stsd)
            }, "\(rendition.path)")
            #expect(Hex.hex(bytes[(tenc.lowerBound + 16)..<(tenc.lowerBound + 32)]) == kid, "\(rendition.path): tenc's KID")
            #expect(bytes[tenc.lowerBound + 14] == 1 && bytes[tenc.lowerBound + 15] == 16, "protected, 16-byte IVs")
            #expect(walker.search("schm", in: 0..<bytes.count).map { String(decoding: bytes[($0.lowerBound + 12)..<($0.lowerBound + 16)], as: UTF8.self) } == "cbcs")
            let fragments = walker.top.filter { $0.type == "moof" }
            #expect(!fragments.isEmpty)
            for moof in fragments {
                for box in ["senc", "saiz", "saio"] { #expect(walker.search(box, in: moof.range) != nil, "\(rendition.path): \(box)") }
                // senc: version and flags, sample count, then one 16-byte IV a sample.
                if let senc = walker.search("senc", in: moof.range) {
                    let count = bytes[(senc.lowerBound + 12)..<(senc.lowerBound + 16)].reduce(0) { $0 << 8 | Int($1) }
                    #expect(senc.count == 16 + 16 * count)
                    for index in 0..<count {
                        let start = senc.lowerBound + 16 + 16 * index
                        ivsByTrack[rendition.track, default: []].append(Hex.hex(bytes[start..<(start + 16)]))
                    }
                }
            }
            let clearFile = runs.work("clear").appendingPathComponent(try #require(clear.first { $0.track == rendition.track && $0.name == rendition.name }).path)
            let format = rendition.name == "flac" ? "s32le" : "f32le"
            let (reference, referenceResult) = try Self.pcm(clearFile.path, format: format)
            #expect(referenceResult.status == 0 && !reference.isEmpty)
            let (withoutKey, _) = try Self.pcm(file.path, format: format)
            #expect(withoutKey != reference, "\(rendition.path) decoded without its key")
            let (decrypted, result) = try Self.pcm(file.path, format: format, key: key)
            #expect(result.status == 0, "\(rendition.path): \(result.standardError)")
            #expect(decrypted == reference, "\(rendition.path): \(decrypted.count) bytes decrypted against \(reference.count) clear")
        }
        // One key per track, shared by its renditions: no IV may repeat under it.
        for (track, ivs) in ivsByTrack {
            #expect(ivs.count > 100 && Set(ivs).count == ivs.count, "track \(track): \(ivs.count - Set(ivs).count) IVs repeat")
        }
    }

    @Test("no key is anywhere in OUT (raw, hex, base64, base64url, nor the KEK); the MPD names ClearKey and a default_KID, HLS an EXT-X-KEY; xmllint and the RFC 8216 checks pass")
    func keysNeverPublished() throws {
        let runs = try Runs.shared.get()
        let tree = runs.out("protected")
        var needles: [Data] = [Data(runs.keyHex.utf8), Hex.bytes(runs.keyHex).map { Data($0) } ?? Data()]
        let ids = try tree.trackIDs()
        #expect(ids.count == Self.masters.count)
        for id in ids {
            let (kid, key) = try ContentKeyJudge.contentKey(keyHex: runs.keyHex, trackID: id)
            let raw = Data(Hex.bytes(key) ?? [])
            let base64 = raw.base64EncodedString()
            let base64URL = base64.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            needles += [raw, Data(key.utf8), Data(key.uppercased().utf8), Data(base64.utf8), Data(base64URL.utf8)]
            let mpd = try String(contentsOf: tree.root.appendingPathComponent("dash/\(id).mpd"), encoding: .utf8)
            #expect(mpd.contains("schemeIdUri=\"urn:mpeg:dash:mp4protection:2011\" value=\"cbcs\""))
            let uuid = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { range in
                String(kid.dropFirst(range.lowerBound).prefix(range.count))
            }.joined(separator: "-")
            #expect(mpd.contains("cenc:default_KID=\"\(uuid)\""), "\(id)")
            #expect(mpd.contains("urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e"))
            #expect(mpd.contains("<dashif:Laurl>/api/drm/clearkey</dashif:Laurl>"))
            let media = try String(contentsOf: tree.root.appendingPathComponent("hls/\(id)/aac-128k.m3u8"), encoding: .utf8)
            #expect(media.contains("#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"/api/drm/clearkey/\(kid)\",KEYFORMAT=\"identity\""), "\(id)")
            #expect(HLSChecker.checkMedia(at: tree.root.appendingPathComponent("hls/\(id)/aac-128k.m3u8")).isEmpty)
            let document = try tree.json("api/tracks/\(id).json")
            let kids = Set(((document["renditions"] as? [[String: Any]]) ?? []).compactMap { $0["kid"] as? String })
            #expect(kids == [kid])
        }
        for path in tree.files() {
            let data = try Data(contentsOf: tree.root.appendingPathComponent(path))
            for needle in needles where !needle.isEmpty {
                #expect(data.range(of: needle) == nil, "\(path) holds a key")
            }
        }
        let mpds = tree.files().filter { $0.hasSuffix(".mpd") }.map { tree.root.appendingPathComponent($0).path }
        let result = try Command.run("xmllint", ["--noout", "--schema", Repository.dashSchema.path] + mpds.sorted())
        #expect(result.status == 0, "\(result.standardError)")
    }

    @Test("the --json report gives each rendition its tier and, protected, its kid; WORK/keys/kek is made 0600 when no --key-file is given; a malformed key file stops the run")
    func reportAndKeyFile() throws {
        let runs = try Runs.shared.get()
        let work = runs.root.appendingPathComponent("own-key")
        let masters = runs.root.appendingPathComponent("one-master")
        try FileManager.default.createDirectory(at: masters, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: runs.masters.appendingPathComponent(Self.masters[0].path), to: masters.appendingPathComponent("a.flac"))
        let result = try Command.run(Repository.executable("musikk-ingest").path, [
            masters.path, work.path, "--profile", runs.root.appendingPathComponent("protected.toml").path, "--json", "--no-analysis",
        ])
        #expect(result.status == 0, "\(result.standardError)")
        let report = try JSONSerialization.jsonObject(with: result.standardOutput) as? [String: Any]
        let file = try #require((report?["files"] as? [[String: Any]])?.first)
        let renditions = try #require(file["renditions"] as? [[String: Any]])
        #expect(renditions.map { $0["tier"] as? String } == ["lossy", "lossy", "lossless"])
        let kek = work.appendingPathComponent("keys/kek")
        let permissions = try FileManager.default.attributesOfItem(atPath: kek.path)[.posixPermissions] as? Int
        #expect(permissions == 0o600)
        let keyHex = try String(contentsOf: kek, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(keyHex.count == 64)
        let (kid, _) = try ContentKeyJudge.contentKey(keyHex: keyHex, trackID: try #require(file["track_id"] as? String ?? file["trackID"] as? String))
        #expect(Set(renditions.compactMap { $0["kid"] as? String }) == [kid])
        #expect(renditions.allSatisfy { $0["kid"] != nil })
        // A key file that is not 64 hex digits stops the run before anything is written, naming the file.
        let bad = runs.root.appendingPathComponent("bad-kek")
        try Data("not a key\n".utf8).write(to: bad)
        let refused = try Command.run(Repository.executable("musikk-ingest").path, [
            masters.path, runs.root.appendingPathComponent("bad-key-work").path, "--profile",
            runs.root.appendingPathComponent("protected.toml").path, "--key-file", bad.path, "--no-analysis",
        ])
        #expect(refused.status == 1)
        #expect(refused.standardError.contains("\(bad.path): not a key file"), "\(refused.standardError)")
        let tracks = runs.root.appendingPathComponent("bad-key-work/tracks").path
        let written = (try? FileManager.default.contentsOfDirectory(atPath: tracks)) ?? []
        #expect(written.isEmpty, "\(written)")
    }

    @Test("turning protection on for one folder encrypts only its masters' renditions; a new key re-encrypts them; turning it off makes them clear; the rest are never touched")
    func protectionChanges() throws {
        let runs = try Runs.shared.get()
        let root = runs.root.appendingPathComponent("changes")
        let work = root.appendingPathComponent("work")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let otherKey = root.appendingPathComponent("other-kek")
        try Data(ContentKeyJudge.randomKeyHex().utf8).write(to: otherKey)
        let profiles = [
            ("clear", Self.ladder),
            ("cd", Self.ladder + "\n[protection]\nscheme = \"cbcs\"\nfolders = [\"CD\"]\n"),
        ]
        for (name, text) in profiles { try Data(text.utf8).write(to: root.appendingPathComponent("\(name).toml")) }
        func ingest(_ profile: String, key: URL) throws -> [String: (status: String, kids: Set<String>)] {
            let result = try Command.run(Repository.executable("musikk-ingest").path, [
                runs.masters.path, work.path, "--profile", root.appendingPathComponent("\(profile).toml").path, "--key-file", key.path,
                "--json", "--no-analysis", "--jobs", "2",
            ])
            #expect(result.status == 0, "\(result.standardError)")
            let report = try JSONSerialization.jsonObject(with: result.standardOutput) as? [String: Any]
            var files: [String: (String, Set<String>)] = [:]
            for file in (report?["files"] as? [[String: Any]]) ?? [] {
                let kids = Set(((file["renditions"] as? [[String: Any]]) ?? []).compactMap { $0["kid"] as? String })
                files[file["path"] as? String ?? ""] = (file["status"] as? String ?? "", kids)
            }
            return files
        }
        let cd = Self.masters[0].path
        let first = try ingest("clear", key: runs.keyFile)
        #expect(first.values.allSatisfy { $0.status == "ingested" && $0.kids.isEmpty })
        let on = try ingest("cd", key: runs.keyFile)
        #expect(on[cd]?.status == "updated" && on[cd]?.kids.count == 1, "\(String(describing: on[cd]))")
        #expect(on.filter { $0.key != cd }.values.allSatisfy { $0.status == "unchanged" }, "\(on)")
        let rotated = try ingest("cd", key: otherKey)
        #expect(rotated[cd]?.status == "updated" && rotated[cd]?.kids.count == 1 && rotated[cd]?.kids != on[cd]?.kids)
        #expect(rotated.filter { $0.key != cd }.values.allSatisfy { $0.status == "unchanged" })
        let off = try ingest("clear", key: otherKey)
        #expect(off[cd]?.status == "updated" && off[cd]?.kids.isEmpty == true)
        #expect(off.filter { $0.key != cd }.values.allSatisfy { $0.status == "unchanged" })
        // Back to clear: the same bytes as a clear run from scratch.
        let clearRows = try runs.renditions("clear").filter { $0.master == cd }
        for row in clearRows {
            let again = try Data(contentsOf: work.appendingPathComponent(row.path))
            #expect(again == (try Data(contentsOf: runs.work("clear").appendingPathComponent(row.path))), "\(row.path)")
        }
    }

    private static func write(_ data: Data, in folder: URL) throws -> String {
        let url = folder.appendingPathComponent("pcm-\(UUID().uuidString)")
        try data.write(to: url)
        return url.path
    }
}

/// ISO BMFF boxes of a file, walked with nothing but the box header rule (size, type; containers hold boxes).
struct BoxWalker {
    struct Box {
        var type: String
        var range: Range<Int>
    }

    let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    static let containers: Set<String> = ["moov", "trak", "mdia", "minf", "stbl", "moof", "traf", "sinf", "schi", "edts", "dinf", "mvex"]

    func boxes(in range: Range<Int>) -> [Box] {
        var found: [Box] = []
        var at = range.lowerBound
        while at + 8 <= range.upperBound {
            let size = bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) }
            guard size >= 8, at + size <= range.upperBound else { break }
            found.append(Box(type: String(decoding: bytes[(at + 4)..<(at + 8)], as: UTF8.self), range: at..<(at + size)))
            at += size
        }
        return found
    }

    var top: [Box] { boxes(in: 0..<bytes.count) }

    /// The box at a path of container types from the top.
    func find(_ path: [String]) -> Range<Int>? {
        var range = 0..<bytes.count
        for (depth, type) in path.enumerated() {
            guard let box = boxes(in: depth == 0 ? range : (range.lowerBound + 8)..<range.upperBound).first(where: { $0.type == type }) else { return nil }
            range = box.range
        }
        return range
    }

    /// The first box of `type` anywhere in `range`, by scanning for its type code after a plausible size.
    func search(_ type: String, in range: Range<Int>) -> Range<Int>? {
        let code = Array(type.utf8)
        var at = range.lowerBound + 4
        while at + 4 <= range.upperBound {
            if Array(bytes[at..<(at + 4)]) == code {
                let size = bytes[(at - 4)..<at].reduce(0) { $0 << 8 | Int($1) }
                if size >= 8, at - 4 + size <= range.upperBound { return (at - 4)..<(at - 4 + size) }
            }
            at += 1
        }
        return nil
    }
}
