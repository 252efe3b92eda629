import Foundation
import GRDB

/// The server's own SQLite database (`DATA_DIR/social.sqlite`): accounts, the social graph, comments, forums,
/// playlists, likes, notifications, the event log behind live updates, play queues and listens.
///
/// The catalog is never written here; tracks, releases and artists are referred to by their published ids.
/// Everything the server reads or writes goes through ``SocialStore``'s methods, so another backend (PostgreSQL)
/// can take its place without touching the HTTP layer.
public struct SocialDatabase: Sendable {
    let writer: any DatabaseWriter

    /// Opens (creating if needed) the database at `path` in WAL mode and migrates it.
    public static func open(atPath path: String) throws -> SocialDatabase {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        return try SocialDatabase(DatabasePool(path: path, configuration: configuration))
    }

    /// An in-memory database (tests).
    public static func inMemory() throws -> SocialDatabase {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        return try SocialDatabase(DatabaseQueue(configuration: configuration))
    }

    init(_ writer: any DatabaseWriter) throws {
        self.writer = writer
        try Self.migrator.migrate(writer)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: social schema") { db in
            try db.execute(sql: """
                CREATE TABLE user (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
                    passwordHash TEXT NOT NULL,
                    displayName TEXT NOT NULL,
                    bio TEXT NOT NULL DEFAULT '',
                    avatarType TEXT,
                    avatarVersion INTEGER NOT NULL DEFAULT 0,
                    role TEXT NOT NULL DEFAULT 'listener',
                    nowPlayingVisibility TEXT NOT NULL DEFAULT 'followers',
                    createdAt DATETIME NOT NULL
                );
                CREATE TABLE refreshToken (
                    tokenHash TEXT PRIMARY KEY,
                    userId INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE,
                    familyId TEXT NOT NULL,
                    expiresAt DATETIME NOT NULL,
                    usedAt DATETIME,
                    revokedAt DATETIME
                );
                CREATE INDEX refreshToken_family ON refreshToken(familyId);
                CREATE TABLE artistOwner (
                    artistId INTEGER PRIMARY KEY,
                    userId INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE
                );
                CREATE TABLE follow (
                    followerId INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE,
                    followeeId INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE,
                    createdAt DATETIME NOT NULL,
                    PRIMARY KEY (followerId, followeeId)
                );
                CREATE INDEX follow_followee ON follow(followeeId, followerId);
                CREATE TABLE comment (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    subjectKind TEXT NOT NULL,
                    subjectId TEXT NOT NULL,
                    parentId INTEGER REFERENCES comment(id),
                    rootId INTEGER REFERENCES comment(id),
                    authorId INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE,
                    body TEXT NOT NULL,
                    embeds TEXT NOT NULL DEFAULT '[]',
                    createdAt DATETIME NOT NULL,
                    editedAt DATETIME,
                    deletedAt DATETIME
                );
                CREATE INDEX comment_subject ON comment(subjectKind, subjectId, rootId, id);
                CREATE INDEX comment_root ON comment(rootId, id);
                CREATE TABLE forum (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
                    description TEXT NOT NULL DEFAULT '',
                    creatorId INTEGER NOT NULL REFERENCES user(id),
                    createdAt DATETIME NOT NULL
                );
                CREATE TABLE thread (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    forumId INTEGER NOT NULL REFERENCES forum(id) ON DELETE CASCADE,
                    title TEXT NOT NULL,
                    authorId INTEGER NOT NULL REFERENCES user(id),
                    createdAt DATETIME NOT NULL
                );
                CREATE INDEX thread_forum ON thread(forumId, id);
                CREATE TABLE playlist (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    ownerId INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    description TEXT NOT NULL DEFAULT '',
                    visibility TEXT NOT NULL,
                    createdAt DATETIME NOT NULL,
                    updatedAt DATETIME NOT NULL
                );
                CREATE INDEX playlist_owner ON playlist(ownerId, id);
                CREATE TABLE playlistEntry (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    playlistId INTEGER NOT NULL REFERENCES playlist(id) ON DELETE CASCADE,
                    trackId TEXT NOT NULL,
                    position INTEGER NOT NULL,
                    addedBy INTEGER NOT NULL REFERENCES user(id),
                    addedAt DATETIME NOT NULL
                );
                CREATE INDEX playlistEntry_order ON playlistEntry(playlistId, position);
                CREATE TABLE playlistCollaborator (
                    playlistId INTEGER NOT NULL REFERENCES playlist(id) ON DELETE CASCADE,
                    userId INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE,
                    PRIMARY KEY (playlistId, userId)
                );
                CREATE TABLE "like" (
                    userId INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE,
                    subjectKind TEXT NOT NULL,
                    subjectId TEXT NOT NULL,
                    createdAt DATETIME NOT NULL,
                    PRIMARY KEY (userId, subjectKind, subjectId)
                );
                CREATE INDEX like_subject ON "like"(subjectKind, subjectId);
                CREATE TABLE notification (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    userId INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE,
                    kind TEXT NOT NULL,
                    actorId INTEGER REFERENCES user(id) ON DELETE CASCADE,
                    subjectKind TEXT NOT NULL,
                    subjectId TEXT NOT NULL,
                    commentId INTEGER,
                    createdAt DATETIME NOT NULL,
                    readAt DATETIME
                );
                CREATE INDEX notification_user ON notification(userId, id);
                CREATE TABLE activity (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    actorId INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE,
                    kind TEXT NOT NULL,
                    subjectKind TEXT NOT NULL,
                    subjectId TEXT NOT NULL,
                    summary TEXT NOT NULL DEFAULT '',
                    createdAt DATETIME NOT NULL
                );
                CREATE INDEX activity_actor ON activity(actorId, id);
                CREATE TABLE event (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    userId INTEGER,
                    subject TEXT,
                    type TEXT NOT NULL,
                    data TEXT NOT NULL,
                    createdAt DATETIME NOT NULL
                );
                CREATE INDEX event_user ON event(userId, id);
                CREATE INDEX event_subject ON event(subject, id);
                CREATE TABLE queue (
                    userId INTEGER PRIMARY KEY REFERENCES user(id) ON DELETE CASCADE,
                    version INTEGER NOT NULL,
                    items TEXT NOT NULL,
                    currentIndex INTEGER NOT NULL,
                    positionSeconds DOUBLE NOT NULL,
                    device TEXT NOT NULL,
                    updatedAt DATETIME NOT NULL
                );
                CREATE TABLE listenSession (
                    userId INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE,
                    sessionId TEXT NOT NULL,
                    trackId TEXT NOT NULL,
                    startedAt DATETIME NOT NULL,
                    lastReportAt DATETIME NOT NULL,
                    lastPosition DOUBLE NOT NULL,
                    playedSeconds DOUBLE NOT NULL,
                    counted BOOLEAN NOT NULL DEFAULT 0,
                    PRIMARY KEY (userId, sessionId)
                );
                CREATE TABLE listen (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    userId INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE,
                    trackId TEXT NOT NULL,
                    listenedAt DATETIME NOT NULL
                );
                CREATE INDEX listen_track ON listen(trackId);
                CREATE INDEX listen_user ON listen(userId, id);
                CREATE TABLE nowPlaying (
                    userId INTEGER PRIMARY KEY REFERENCES user(id) ON DELETE CASCADE,
                    trackId TEXT NOT NULL,
                    positionSeconds DOUBLE NOT NULL,
                    updatedAt DATETIME NOT NULL
                );
                CREATE TABLE knownRelease (releaseId INTEGER PRIMARY KEY);
                CREATE VIRTUAL TABLE searchIndex USING fts5(
                    kind UNINDEXED, ref UNINDEXED, name, context,
                    tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3'
                );
                """)
        }
        migrator.registerMigration("v2: who may receive an event; counted listening per account") { db in
            try db.execute(sql: """
                ALTER TABLE event ADD COLUMN audiencePlaylist INTEGER;
                ALTER TABLE event ADD COLUMN audienceListener INTEGER;
                ALTER TABLE event ADD COLUMN audienceFollowee INTEGER;
                CREATE TABLE listenClock (
                    userId INTEGER PRIMARY KEY REFERENCES user(id) ON DELETE CASCADE,
                    creditedUntil DATETIME NOT NULL
                );
                UPDATE event SET audienceFollowee = json_extract(data, '$.actor.id') WHERE type = 'activity';
                UPDATE event SET audienceListener = json_extract(data, '$.actor.id') WHERE type = 'activity' AND json_extract(data, '$.kind') = 'listen';
                UPDATE event SET audienceListener = json_extract(data, '$.user.id') WHERE type = 'now-playing';
                UPDATE event SET audiencePlaylist = CAST(json_extract(data, '$.subjectId') AS INTEGER)
                    WHERE type IN ('activity', 'notification') AND json_extract(data, '$.subjectKind') = 'playlist';
                UPDATE event SET audiencePlaylist = CAST(substr(subject, 10) AS INTEGER) WHERE subject LIKE 'playlist:%';
                UPDATE event SET audiencePlaylist = json_extract(data, '$.id') WHERE type = 'playlist';
                """)
        }
        migrator.registerMigration("v3: the track a playlist change was about") { db in
            try db.execute(sql: "ALTER TABLE activity ADD COLUMN itemId TEXT")
        }
        return migrator
    }
}
