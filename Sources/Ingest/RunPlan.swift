import Catalog
import Foundation
import MediaIO
import Synchronization
import WorkArea

/// A master's file as a run sees it: what the catalog keeps to tell later whether it changed.
struct SourceFile: Sendable, Equatable {
    var stamp: FileStamp
    var sha256: String
    var audioSHA256: String
}

extension Track {
    var sourceStamp: FileStamp {
        FileStamp(size: sourceSize, modified: sourceModified, changed: sourceChanged, inode: sourceInode)
    }
}

extension RejectedMaster {
    var sourceStamp: FileStamp {
        get { FileStamp(size: sourceSize, modified: sourceModified, changed: sourceChanged, inode: sourceInode) }
        set { (sourceSize, sourceModified, sourceChanged, sourceInode) = (newValue.size, newValue.modified, newValue.changed, newValue.inode) }
    }
}

extension SkippedMaster {
    var sourceStamp: FileStamp {
        get { FileStamp(size: sourceSize, modified: sourceModified, changed: sourceChanged, inode: sourceInode) }
        set { (sourceSize, sourceModified, sourceChanged, sourceInode) = (newValue.size, newValue.modified, newValue.changed, newValue.inode) }
    }
}

/// Why a track is updated, as the report's `changes` lists them.
public enum TrackChange: String, Codable, Sendable, Comparable {
    /// New audio at the same path: encoded again, same track id.
    case audio
    /// The master was moved or renamed.
    case moved
    /// Tags or cover art changed, the audio did not.
    case tags
    /// The ladder changed: renditions were added, encoded again or dropped.
    case renditions
    /// The analysis was missing or made with other settings or libraries.
    case analysis
    /// Files of the track were missing from WORK_DIR and were made again.
    case repaired
    /// The master of a removed track is back.
    case restored

    public static func < (lhs: TrackChange, rhs: TrackChange) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// What a run does with one master, or with a track whose master disappeared.
struct PlannedMaster: Sendable {
    enum Action: Sendable {
        /// Nothing to do.
        case unchanged
        /// Catalog rows only: a touched file (new modification time, same bytes), a move, new tags, a return.
        case update
        /// Decode and encode what `work` says into the track's directory, then record it.
        case build(PipelineWork)
        /// Turned down by the plan itself: a copy of another master, a directory, an unreadable file.
        /// `cacheable` rejections hold for as long as the file and the rules do.
        case reject(Rejection, cacheable: Bool)
        /// Rejected by an earlier run with the same file and rules (rewritten when `source` is set: the file was
        /// touched).
        case rejectAgain(RejectedMaster)
        /// Skipped by an earlier run as a duplicate of a track still in the catalog (rewritten likewise).
        case skipAgain(SkippedMaster)
        /// The master disappeared: mark its track removed.
        case remove
    }

    /// Relative to MASTERS_DIR (for a removal, where the master was).
    var path: String
    var action: Action
    /// Nil for a removal.
    var candidate: MasterCandidate?
    /// The track the master is (nil for a new master until its id is allocated, and for rejections).
    var trackID: String?
    /// The catalog's row for that track, before this run.
    var existing: Track?
    var source: SourceFile?
    /// Tags read while hashing the audio (an update whose tags changed).
    var probe: AudioProbe?
    var changes: Set<TrackChange> = []
    /// Where a moved master was before.
    var previousPath: String?
    /// The track found complete, to record (see ``WorkCheck``).
    var checked: WorkCheck?

    /// How `--dry-run` names what will happen.
    var summaryAction: String {
        switch action {
        case .unchanged: return "unchanged"
        case .update where changes.isEmpty: return "unchanged"
        case .build where existing == nil: return "new"
        case .update, .build: return changes.contains(.moved) ? "moved" : "changed"
        case .reject, .rejectAgain: return "rejected"
        case .skipAgain: return "skipped"
        case .remove: return "removed"
        }
    }
}

/// Decides what a run does with each master by comparing MASTERS_DIR with the catalog: (size, modification time)
/// first; where they differ, the file's SHA-256; where that differs, the SHA-256 of the audio payload. Reads files
/// only where it must, `jobs` at a time, and writes nothing.
struct RunPlanner {
    let candidates: [MasterCandidate]
    let snapshot: CatalogSnapshot
    let profile: Profile
    /// The protected tier, when the profile has one.
    let protection: ProtectionPlan?
    let layout: WorkLayout
    let jobs: Int
    /// A track's renditions and waveform as recorded.
    let recordedOutputs: (String) throws(IngestError) -> (renditions: [Rendition], waveform: TrackWaveform?)

    /// One entry per candidate, in path order, then one per removal.
    func plan() throws(IngestError) -> [PlannedMaster] {
        var state = PlanningState(snapshot: snapshot, candidates: candidates, profile: profile)
        var (planned, hashing) = planByStamp(state)
        let probing = planByContent(&planned, hashing: hashing, state: &state)
        planByAudio(&planned, probing: probing, state: &state)
        try planOutstandingWork(&planned)
        for track in state.tracks where state.vanished.contains(track.id) && track.removedAt == nil {
            planned.append(PlannedMaster(path: track.sourcePath, action: .remove, trackID: track.id, existing: track))
        }
        return planned
    }

    /// What the phases of a plan look things up in, and the tracks whose master is gone (a new file with their
    /// content is that master, moved).
    private struct PlanningState {
        let tracks: [Track]
        let trackAtPath: TracksByPath
        let rejectedAtPath: [String: RejectedMaster]
        let skippedAtPath: [String: SkippedMaster]
        let liveIDs: Set<String>
        let rulesKey: String
        var vanished: Set<String>

        init(snapshot: CatalogSnapshot, candidates: [MasterCandidate], profile: Profile) {
            tracks = snapshot.tracks
            trackAtPath = TracksByPath(tracks)
            rejectedAtPath = Dictionary(uniqueKeysWithValues: snapshot.rejected.map { ($0.sourcePath, $0) })
            skippedAtPath = Dictionary(uniqueKeysWithValues: snapshot.skipped.map { ($0.sourcePath, $0) })
            // Asked about skipped masters only.
            liveIDs = snapshot.skipped.isEmpty ? [] : Set(tracks.lazy.filter { $0.removedAt == nil }.map(\.id))
            rulesKey = Provenance.rejection(profile.validation)
            var found = [Bool](repeating: false, count: tracks.count)
            for candidate in candidates {
                if let position = trackAtPath.position(of: candidate.relativePath) { found[position] = true }
            }
            let all = snapshot.tracks
            vanished = Set(all.indices.lazy.filter { !found[$0] }.map { all[$0].id })
        }
    }

    /// Tracks by master path, holding positions rather than copies: a copy of every track cost a 100,000-track
    /// rescan a tenth of its time in memory traffic.
    private struct TracksByPath {
        private let tracks: [Track]
        private let positions: [String: Int]

        init(_ tracks: [Track]) {
            self.tracks = tracks
            var positions: [String: Int] = [:]
            positions.reserveCapacity(tracks.count)
            for (index, track) in tracks.enumerated() where positions[track.sourcePath] == nil { positions[track.sourcePath] = index }
            self.positions = positions
        }

        subscript(path: String) -> Track? { positions[path].map { tracks[$0] } }

        func position(of path: String) -> Int? { positions[path] }
    }

    /// Phase 1: the stamp (size, modification time) settles unchanged masters, repeated rejections and skips.
    /// Returns every entry, and the indices of those whose content must decide.
    private func planByStamp(_ state: PlanningState) -> (planned: [PlannedMaster], hashing: [Int]) {
        let (trackAtPath, rejectedAtPath, skippedAtPath) = (state.trackAtPath, state.rejectedAtPath, state.skippedAtPath)
        let (liveIDs, rulesKey) = (state.liveIDs, state.rulesKey)
        var planned: [PlannedMaster] = []
        planned.reserveCapacity(candidates.count)
        var hashing: [Int] = []
        for candidate in candidates {
            var entry = PlannedMaster(path: candidate.relativePath, action: .unchanged, candidate: candidate)
            if candidate.isDirectory {
                entry.action = .reject(Rejection(description: "\(candidate.url.path): is a directory named like an audio "
                    + "file, not a master; rename it or move the audio out of it"), cacheable: false)
            } else if candidate.stamp.size == 0 {
                entry.action = .reject(Rejection(description: "\(candidate.url.path): empty file (0 bytes); copy the "
                    + "master again"), cacheable: false)
            } else if let track = trackAtPath[candidate.relativePath], track.sourceStamp == candidate.stamp,
                      !track.audioSHA256.isEmpty {
                entry.trackID = track.id
                entry.existing = track
                entry.source = SourceFile(stamp: candidate.stamp, sha256: track.sourceSHA256,
                                          audioSHA256: track.audioSHA256)
                if track.removedAt != nil {
                    entry.action = .update
                    entry.changes = [.restored]
                }
            } else if let rejected = rejectedAtPath[candidate.relativePath], rejected.rulesKey == rulesKey,
                      rejected.sourceStamp == candidate.stamp {
                entry.action = .rejectAgain(rejected)
            } else if let skipped = skippedAtPath[candidate.relativePath], skipped.sourceStamp == candidate.stamp,
                      stillSkipped(skipped, liveIDs: liveIDs) {
                entry.action = .skipAgain(skipped)
            } else {
                hashing.append(planned.count)
            }
            planned.append(entry)
        }
        return (planned, hashing)
    }

    /// Phase 2: files whose size or time changed, and new files: the content decides. Returns the entries whose
    /// audio payload must be read.
    private func planByContent(_ planned: inout [PlannedMaster], hashing: [Int], state: inout PlanningState) -> [Int] {
        let (tracks, trackAtPath, rejectedAtPath) = (state.tracks, state.trackAtPath, state.rejectedAtPath)
        let (skippedAtPath, liveIDs, rulesKey) = (state.skippedAtPath, state.liveIDs, state.rulesKey)
        let digests = parallelMap(hashing.compactMap { planned[$0].candidate?.url }) { url in
            Result { () throws(Rejection) in try SourceIdentity.sha256(of: url) }
        }
        var probing: [Int] = []
        var claimedContent: [String: String] = [:]
        for (index, digest) in zip(hashing, digests) {
            guard let candidate = planned[index].candidate else { continue }
            let sha: String
            switch digest {
            case let .failure(rejection):
                planned[index].action = .reject(rejection, cacheable: false)
                continue
            case let .success(value):
                sha = value
            }
            let path = candidate.relativePath
            if let track = trackAtPath[path], track.sourceSHA256 == sha, !track.audioSHA256.isEmpty {
                // Touched, same bytes: only the modification time is new.
                planned[index].trackID = track.id
                planned[index].existing = track
                planned[index].source = SourceFile(stamp: candidate.stamp, sha256: sha,
                                                   audioSHA256: track.audioSHA256)
                planned[index].action = .update
                if track.removedAt != nil { planned[index].changes = [.restored] }
                continue
            }
            if let rejected = rejectedAtPath[path], rejected.rulesKey == rulesKey, rejected.sourceSHA256 == sha {
                var again = rejected
                again.sourceStamp = candidate.stamp
                planned[index].action = .rejectAgain(again)
                planned[index].source = SourceFile(stamp: candidate.stamp, sha256: sha, audioSHA256: "")
                continue
            }
            if let skipped = skippedAtPath[path], skipped.sourceSHA256 == sha, stillSkipped(skipped, liveIDs: liveIDs) {
                var again = skipped
                again.sourceStamp = candidate.stamp
                planned[index].action = .skipAgain(again)
                planned[index].source = SourceFile(stamp: candidate.stamp, sha256: sha, audioSHA256: "")
                continue
            }
            if let first = claimedContent[sha] {
                planned[index].action = .reject(Rejection(description: "\(candidate.url.path): same content as "
                    + "\(first), which this run also has; remove the copy"), cacheable: false)
                continue
            }
            claimedContent[sha] = path
            let sameBytes = tracks.filter { $0.sourceSHA256 == sha && $0.sourcePath != path }
            if let moved = sameBytes.first(where: { state.vanished.contains($0.id) && !$0.audioSHA256.isEmpty }) {
                state.vanished.remove(moved.id)
                planned[index].trackID = moved.id
                planned[index].existing = moved
                planned[index].previousPath = moved.sourcePath
                planned[index].source = SourceFile(stamp: candidate.stamp, sha256: sha,
                                                   audioSHA256: moved.audioSHA256)
                planned[index].action = .update
                planned[index].changes = moved.removedAt == nil ? [.moved] : [.moved, .restored]
                continue
            }
            if let original = sameBytes.first(where: { $0.removedAt == nil }) {
                planned[index].action = .reject(Rejection(description: "\(candidate.url.path): same content as "
                    + "\(original.sourcePath), already in the catalog as track \(original.id); remove the copy"),
                    cacheable: false)
                continue
            }
            planned[index].source = SourceFile(stamp: candidate.stamp, sha256: sha, audioSHA256: "")
            probing.append(index)
        }
        return probing
    }

    /// Phase 3: new content: the audio payload tells a re-tagged or moved-and-re-tagged master from new audio.
    private func planByAudio(_ planned: inout [PlannedMaster], probing: [Int], state: inout PlanningState) {
        let (tracks, trackAtPath) = (state.tracks, state.trackAtPath)
        let strict = profile.validation.rejectDamaged
        let probes = parallelMap(probing.compactMap { planned[$0].candidate?.url }) { url in
            Result { () throws(Rejection) in try SourceIdentity.probeAudio(url, strict: strict) }
        }
        var takenIDs = probing.isEmpty ? [] : Set(tracks.map(\.id))
        for (index, outcome) in zip(probing, probes) {
            guard let candidate = planned[index].candidate else { continue }
            let probe: AudioProbe
            switch outcome {
            case let .failure(rejection):
                planned[index].action = .reject(rejection, cacheable: true)
                continue
            case let .success(value):
                probe = value
            }
            planned[index].source?.audioSHA256 = probe.audioSHA256
            planned[index].probe = probe
            if let track = trackAtPath[candidate.relativePath] {
                planned[index].trackID = track.id
                planned[index].existing = track
                let restored: Set<TrackChange> = track.removedAt == nil ? [] : [.restored]
                if track.audioSHA256 == probe.audioSHA256 {
                    planned[index].action = .update
                    planned[index].changes = restored.union([.tags])
                } else {
                    planned[index].action = .build(PipelineWork(rungs: profile.ladder, analyse: profile.analysis.enabled))
                    planned[index].changes = restored.union([.audio])
                }
                continue
            }
            if let moved = tracks.first(where: { $0.audioSHA256 == probe.audioSHA256 && state.vanished.contains($0.id) }) {
                state.vanished.remove(moved.id)
                planned[index].trackID = moved.id
                planned[index].existing = moved
                planned[index].previousPath = moved.sourcePath
                planned[index].action = .update
                planned[index].changes = moved.removedAt == nil ? [.moved, .tags] : [.moved, .tags, .restored]
                continue
            }
            let id = Track.newID(
                audioSHA256: probe.audioSHA256, relativePath: candidate.relativePath, isTaken: { takenIDs.contains($0) }
            )
            takenIDs.insert(id)
            planned[index].trackID = id
            planned[index].action = .build(PipelineWork(rungs: profile.ladder, analyse: profile.analysis.enabled))
        }
    }

    /// Phase 4: tracks kept as they are: is everything this profile would make there, made the way it would make it?
    /// A track's files all sit in its WORK folder. While that folder's stamp and the track's output digest are the
    /// ones recorded when a run last found it complete, nothing was added, removed or renamed there and every
    /// rendition is as this profile makes it: one stat stands for the 16 checks and the rendition rows (measured:
    /// a 20,000-track rescan went from 3.4 s to 1.3 s). That check runs on every core; the tracks it does not
    /// settle are checked in full, and those found complete are returned, to be recorded.
    private func planOutstandingWork(_ planned: inout [PlannedMaster]) throws(IngestError) {
        let analysisKey = Provenance.analysis(profile.analysis)
        let rootPath = layout.root.path
        var makings = Makings()
        // Whether the protected tier covers a track goes by where its master is now (a move may take it in or out).
        let kept: [(index: Int, track: Track, protected: Bool)] = planned.indices.compactMap { index in
            switch planned[index].action {
            case .unchanged, .update:
                planned[index].existing.map { (index, $0, protection?.settings.covers(planned[index].path) == true) }
            default: nil
            }
        }
        for (_, track, protected) in kept { _ = makings.ladder(for: track, protected: protected, profile: profile, protection: protection) }
        let (ladders, workChecks, analysing) = (makings.ofLadder, snapshot.workChecks, profile.analysis.enabled)
        let settled = chunkedMap(kept) { _, track, protected -> (folder: FileStamp?, complete: Bool) in
            let folder = FileStamp(path: rootPath + "/" + Self.folder(of: track))
            guard let folder, !analysing || track.analysisKey == analysisKey,
                  let ladder = ladders[Makings.shape(of: track, protected: protected)], let check = workChecks[track.id] else { return (folder, false) }
            return (folder, check == WorkCheck(folder: folder, outputs: Self.outputs(of: track, ladderDigest: ladder.digest)))
        }
        for ((index, track, protected), (folder, complete)) in zip(kept, settled) where !complete {
            let (work, changes, checked) = try outstandingWork(
                for: track, protected: protected, folderStamp: folder, analysisKey: analysisKey, rootPath: rootPath, makings: &makings
            )
            if let work {
                planned[index].action = .build(work)
                planned[index].changes.formUnion(changes)
            }
            planned[index].checked = checked
        }
    }

    /// A track's WORK folder, relative to WORK_DIR. Plain string work: NSString's path methods cost more than the
    /// stats they were saving.
    private static func folder(of track: Track) -> String {
        track.hlsMasterPath.lastIndex(of: "/").map { String(track.hlsMasterPath[..<$0]) } ?? ""
    }

    /// What a work check records of a track's outputs: its audio, and how its ladder is made.
    private static func outputs(of track: Track, ladderDigest: String) -> String {
        track.audioSHA256 + " " + ladderDigest
    }

    /// Rejections and skips of masters no longer there, to forget.
    func vanishedMasters() -> [String] {
        guard !snapshot.rejected.isEmpty || !snapshot.skipped.isEmpty else { return [] }
        let scanned = Set(candidates.map(\.relativePath))
        return (snapshot.rejected.map(\.sourcePath) + snapshot.skipped.map(\.sourcePath)).filter { !scanned.contains($0) }
    }

    /// The provenance strings a profile gives, by encoder settings, and the digest of a whole ladder's, by the
    /// settings of its rungs: built once per run, not once per track.
    private struct Makings {
        /// By settings and whether the track is protected.
        var ofRung: [RungMaking: String] = [:]
        /// By ``shape(of:protected:)``.
        var ofLadder: [SIMD4<Int>: (settings: [EncoderSettings], digest: String)] = [:]

        struct RungMaking: Hashable {
            var settings: EncoderSettings
            var protected: Bool
        }

        /// The source's sample rate, channel count and bit depth, and whether it is protected: all a ladder's
        /// settings and provenance depend on.
        static func shape(of track: Track, protected: Bool) -> SIMD4<Int> {
            SIMD4(track.sourceSampleRate, track.sourceChannels, track.sourceBitDepth ?? 0, protected ? 1 : 0)
        }

        mutating func ladder(
            for track: Track, protected: Bool, profile: Profile, protection: ProtectionPlan?
        ) -> (settings: [EncoderSettings], digest: String) {
            let shape = Self.shape(of: track, protected: protected)
            if let made = ofLadder[shape] { return made }
            let settings = profile.ladder.map { rung in
                Profile.encoderSettings(
                    for: rung, sourceSampleRate: track.sourceSampleRate, sourceChannels: track.sourceChannels,
                    sourceBitDepth: track.sourceBitDepth
                )
            }
            let protectedBy = protected ? protection : nil
            let made = (settings, FileDigest.sha256(of: Data(zip(profile.ladder, settings).map { rung, settings in
                rung.name + "=" + Provenance.making(settings, profile: profile, protection: protectedBy)
            }.joined(separator: "\n").utf8)))
            ofLadder[shape] = made
            return made
        }
    }

    /// What a recorded track lacks under this profile: renditions missing, made with other settings or libraries,
    /// or whose files are gone; the analysis if missing or made otherwise; manifests gone. Nil when nothing.
    private func outstandingWork(
        for track: Track, protected: Bool, folderStamp stamp: FileStamp?, analysisKey: String, rootPath: String,
        makings: inout Makings
    ) throws(IngestError) -> (PipelineWork?, Set<TrackChange>, checked: WorkCheck?) {
        let (settings, ladderDigest) = makings.ladder(for: track, protected: protected, profile: profile, protection: protection)
        let protectedBy = protected ? protection : nil
        let outputs = Self.outputs(of: track, ladderDigest: ladderDigest)
        let folder = Self.folder(of: track)

        let (renditions, waveform) = try recordedOutputs(track.id)
        let manager = FileManager.default
        let exists = { (path: String) in manager.fileExists(atPath: rootPath + "/" + path) }
        let recorded = Dictionary(renditions.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var changes: Set<TrackChange> = []
        var rungs: [Profile.Rung] = []
        for (rung, settings) in zip(profile.ladder, settings) {
            let key = Makings.RungMaking(settings: settings, protected: protectedBy != nil)
            let making = makings.ofRung[key] ?? Provenance.making(settings, profile: profile, protection: protectedBy)
            makings.ofRung[key] = making
            guard let rendition = recorded[rung.name],
                  rendition.provenance == Provenance.rendition(audioSHA256: track.audioSHA256, making: making) else {
                rungs.append(rung)
                changes.insert(.renditions)
                continue
            }
            if !exists(rendition.path) || !exists(folder + "/" + TrackFiles.mediaPlaylist(for: rung.name)) {
                rungs.append(rung)
                changes.insert(.repaired)
            }
        }
        if Set(recorded.keys) != Set(profile.ladder.map(\.name)) { changes.insert(.renditions) }
        var analyse = false
        if profile.analysis.enabled {
            if track.analysisKey != analysisKey {
                analyse = true
                changes.insert(.analysis)
            } else if let waveform, !exists(waveform.jsonPath) || !exists(waveform.dataPath) {
                analyse = true
                changes.insert(.repaired)
            }
        }
        if !exists(track.hlsMasterPath) || !exists(track.dashManifestPath) { changes.insert(.repaired) }
        guard !changes.isEmpty else { return (nil, [], stamp.map { WorkCheck(folder: $0, outputs: outputs) }) }
        return (PipelineWork(rungs: rungs, analyse: analyse), changes, nil)
    }

    /// A skip holds while the run still skips duplicates and the original is still in the catalog.
    private func stillSkipped(_ skipped: SkippedMaster, liveIDs: Set<String>) -> Bool {
        profile.analysis.enabled && profile.analysis.skipDuplicates && liveIDs.contains(skipped.duplicateOfId)
    }

    /// `transform` applied to every input, `jobs` at a time; results in input order.
    /// `transform` over `inputs` in `jobs` contiguous runs: for many cheap calls (a stat each), where
    /// ``parallelMap(_:_:)``'s lock per input would cost more than the calls.
    private func chunkedMap<Input: Sendable, Output: Sendable>(
        _ inputs: [Input], _ transform: @escaping @Sendable (Input) -> Output
    ) -> [Output] {
        let runs = max(1, min(jobs, inputs.count))
        let length = (inputs.count + runs - 1) / runs
        let results = Mutex<[Int: [Output]]>([:])
        takeInTurn(runs, workers: runs) { run in
            let part = inputs[min(run * length, inputs.count)..<min((run + 1) * length, inputs.count)].map(transform)
            results.withLock { $0[run] = part }
        }
        return results.withLock { results in (0..<runs).flatMap { results[$0] ?? [] } }
    }

    private func parallelMap<Input: Sendable, Output: Sendable>(
        _ inputs: [Input], _ transform: @escaping @Sendable (Input) -> Output
    ) -> [Output] {
        let results = Mutex<[Int: Output]>([:])
        takeInTurn(inputs.count, workers: jobs) { position in
            let output = transform(inputs[position])
            results.withLock { $0[position] = output }
        }
        return results.withLock { results in inputs.indices.compactMap { results[$0] } }
    }
}
