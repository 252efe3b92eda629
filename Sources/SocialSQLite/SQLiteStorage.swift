import Foundation
import GRDB
import Social

/// The social data in one SQLite file (`DATA_DIR/social.sqlite`), the embedded default: one server process, WAL
/// mode, writes one at a time. Full-text search is FTS5 with diacritics removed and prefix indexes.
public struct SQLiteStorage: SocialStorage {
    let writer: any DatabaseWriter

    /// Opens (creating if needed) the database at `path` in WAL mode and migrates it.
    public static func open(atPath path: String) throws -> SQLiteStorage {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        return try SQLiteStorage(DatabasePool(path: path, configuration: configuration))
    }

    /// An in-memory database (tests).
    public static func inMemory() throws -> SQLiteStorage {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        return try SQLiteStorage(DatabaseQueue(configuration: configuration))
    }

    init(_ writer: any DatabaseWriter) throws {
        self.writer = writer
        try Self.migrator.migrate(writer)
    }

    public func read<Value: Sendable>(_ body: @escaping @Sendable (any SocialSession) throws -> Value) async throws -> Value {
        try await writer.read { db in try body(Session(db: db)) }
    }

    @discardableResult
    public func write<Value: Sendable>(_ body: @escaping @Sendable (any SocialSession) throws -> Value) async throws -> Value {
        try await writer.write { db in try body(Session(db: db)) }
    }

    public func close() async {}

    /// The migrations this build knows, in order (`admin migrate-to-postgres` checks a source is fully migrated).
    public static var migrationNames: [String] { migrator.migrations }

    /// One transaction on a GRDB connection.
    struct Session: SocialSession {
        let db: Database

        func execute(_ sql: String, _ arguments: SQLArguments) throws -> Int {
            try db.execute(sql: sql, arguments: Self.arguments(arguments))
            return db.changesCount
        }

        func fetchAll(_ sql: String, _ arguments: SQLArguments) throws -> [SQLRow] {
            try Row.fetchAll(db, sql: sql, arguments: Self.arguments(arguments)).map { row in
                SQLRow(zip(row.columnNames, row.databaseValues).map { ($0, Self.value($1)) })
            }
        }

        /// Each word a quoted FTS5 prefix query, so that no input is read as FTS5 syntax; ranked by BM25 with the
        /// name weighing ten times the context.
        func searchClauses(words: [String]) -> SearchClauses {
            let match = words.map { "\"\($0.replacingOccurrences(of: "\"", with: ""))\"*" }.joined(separator: " ")
            return SearchClauses(match: "searchIndex MATCH ?", matchArguments: [.text(match)], order: "bm25(searchIndex, 0, 0, 10, 1)", orderArguments: [])
        }

        /// SQLite writes one transaction at a time, so event ids always commit in order.
        func willStoreEvents() throws {}

        static func arguments(_ arguments: SQLArguments) -> StatementArguments {
            if !arguments.named.isEmpty {
                return StatementArguments(arguments.named.mapValues { databaseValue($0) })
            }
            return StatementArguments(arguments.positional.map { databaseValue($0) })
        }

        static func databaseValue(_ value: SQLValue) -> DatabaseValue {
            switch value {
            case .null: .null
            case .integer(let integer): integer.databaseValue
            case .real(let real): real.databaseValue
            case .text(let text): text.databaseValue
            case .date(let date): date.storedText.databaseValue
            case .bytes(let bytes): Data(bytes).databaseValue
            }
        }

        static func value(_ value: DatabaseValue) -> SQLValue {
            switch value.storage {
            case .null: .null
            case .int64(let integer): .integer(integer)
            case .double(let real): .real(real)
            case .string(let text): .text(text)
            case .blob(let data): .bytes(Array(data))
            }
        }
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
        migrator.registerMigration("v4: emails found whatever their case; rate limits shared by restarts") { db in
            try db.execute(sql: """
                CREATE INDEX user_email_lower ON user(lower(email));
                CREATE TABLE rateLimitHit (
                    key TEXT NOT NULL,
                    at DATETIME NOT NULL
                );
                CREATE INDEX rateLimitHit_key ON rateLimitHit(key, at);
                """)
        }
        migrator.registerMigration("v5: avatars kept in the store") { db in
            try db.execute(sql: """
                CREATE TABLE avatar (
                    userId INTEGER PRIMARY KEY REFERENCES user(id) ON DELETE CASCADE,
                    image BLOB NOT NULL
                );
                """)
        }
        migrator.registerMigration("v6: listeners' own apps: their credentials, and ratings") { db in
            try db.execute(sql: """
                CREATE TABLE appCredential (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    userId INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE,
                    kind TEXT NOT NULL,
                    name TEXT NOT NULL,
                    lookup TEXT UNIQUE,
                    sealed TEXT,
                    createdAt DATETIME NOT NULL
                );
                CREATE INDEX appCredential_user ON appCredential(userId, kind);
                CREATE TABLE rating (
                    userId INTEGER NOT NULL REFERENCES user(id) ON DELETE CASCADE,
                    subjectKind TEXT NOT NULL,
                    subjectId TEXT NOT NULL,
                    rating INTEGER NOT NULL,
                    ratedAt DATETIME NOT NULL,
                    PRIMARY KEY (userId, subjectKind, subjectId)
                );
                CREATE INDEX listen_user_track ON listen(userId, trackId);
                """)
        }
        return migrator
    }
}
