import Catalog
import Crypto
import Fingerprint
import Foundation
import Loudness
import Manifest
import MediaIO
import Segmenter
import SignalCheck
import WorkArea

/// Plan entries that need no decoding.
extension MasterWorker {
    // MARK: Catalog-only outcomes

    /// Carries out a plan entry that needs no decoding: an update, a repeated rejection or skip, a rejection the
    /// plan made, a removal. Writes nothing for a master that is unchanged.
    func apply(_ planned: PlannedMaster) throws(IngestError) -> FileReport {
        do {
            switch planned.action {
            case .unchanged:
                return summaryReport(planned, status: .unchanged)
            case .update:
                try update(planned)
                return summaryReport(planned, status: planned.changes.isEmpty ? .unchanged : .updated)
            case let .reject(rejection, cacheable):
                return try reject(planned, rejection, cacheable: cacheable)
            case let .rejectAgain(rejected):
                // Rewritten only when the file was touched (the plan then hashed it).
                if planned.source != nil { try catalog.recordRejection(rejected) }
                return FileReport(path: planned.path, status: .rejected, error: rejected.reason)
            case let .skipAgain(skipped):
                if planned.source != nil { try catalog.recordSkipped(skipped) }
                var report = FileReport(path: planned.path, status: .skipped)
                let original = try catalog.track(id: skipped.duplicateOfId)
                report.duplicateOf = DuplicateReport(trackID: skipped.duplicateOfId, path: original?.sourcePath ?? "")
                report.similarity = skipped.similarity
                return report
            case .remove:
                if let id = planned.trackID {
                    try catalog.markRemoved(trackIds: [id], albumLoudness: Self.albumLoudness)
                }
                return FileReport(path: planned.path, status: .removed, trackID: planned.trackID)
            case .build:
                throw Rejection(description: "\(planned.path): a build reached the catalog-only step (an internal "
                    + "error); please report it")
            }
        } catch let error as IngestError {
            throw error
        } catch let rejection as Rejection {
            return FileReport(path: planned.path, status: .rejected, error: rejection.description)
        } catch {
            throw .catalog(path: layout.catalog.path, detail: "\(error)")
        }
    }

    func update(_ planned: PlannedMaster) throws {
        guard var track = planned.existing, let source = planned.source else { return }
        track.sourcePath = planned.path
        (track.sourceSize, track.sourceModified) = (source.stamp.size, source.stamp.modified)
        (track.sourceChanged, track.sourceInode) = (source.stamp.changed, source.stamp.inode)
        track.sourceSHA256 = source.sha256
        track.removedAt = nil
        var description: TrackDescription?
        if let probe = planned.probe {
            track.describe(with: TrackMetadata(tags: probe.tags, relativePath: planned.path))
            description = try describe(tags: probe.tags, coverArt: probe.coverArt, planned: planned)
        }
        try catalog.updateTrack(track, description: description, albumLoudness: Self.albumLoudness)
    }

    func reject(_ planned: PlannedMaster, _ rejection: Rejection, cacheable: Bool) throws -> FileReport {
        var rejected = RejectedMaster(
            sourcePath: planned.path, reason: rejection.description, runId: runID, sourceSHA256: planned.source?.sha256 ?? "",
            rulesKey: cacheable ? Provenance.rejection(options.profile.validation) : nil
        )
        if let stamp = planned.candidate?.stamp { rejected.sourceStamp = stamp }
        try catalog.recordRejection(rejected)
        return FileReport(path: planned.path, status: .rejected, error: rejection.description)
    }

    /// The report of a master that was not decoded: where its track is, and what changed.
    func summaryReport(_ planned: PlannedMaster, status: FileReport.Status) -> FileReport {
        var report = FileReport(path: planned.path, status: status, trackID: planned.trackID)
        if let track = planned.existing {
            report.durationSeconds = Self.rounded(track.durationSeconds)
            report.hlsMaster = track.hlsMasterPath
            report.dashMPD = track.dashManifestPath
        }
        if status == .updated {
            report.changes = planned.changes.sorted()
            report.previousPath = planned.previousPath
        }
        return report
    }
}
