/**
 * The schema, as the ordered list of steps that build it. `PRAGMA user_version` records the last
 * step a database has had, so each runs exactly once, inside a transaction with the version bump:
 * a failed step leaves the database as it was. Never edit a step that has shipped; add a new one.
 *
 * Timestamps are ISO-8601 UTC strings and structured values are JSON, both as TEXT, so the file
 * stays readable with the sqlite3 shell. `foreign_keys` cannot be switched inside a transaction,
 * so a future step that rebuilds a referenced table must not rely on turning it off.
 */
export interface Migration {
  /** 1, 2, 3… with no gaps; becomes the database's `user_version` once applied. */
  version: number;
  /** Logged when the step runs. */
  description: string;
  /** One or more statements, executed together. */
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'users, sessions, OAuth clients, API tokens and servers',
    sql: `
      CREATE TABLE users (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        admin INTEGER NOT NULL DEFAULT 0,
        password_hash TEXT,
        created TEXT NOT NULL,
        last_activity TEXT
      );

      CREATE TABLE sessions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        hash TEXT NOT NULL UNIQUE,
        created TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        last_activity TEXT
      );

      CREATE TABLE oauth_clients (
        identifier TEXT PRIMARY KEY,
        secret_hash TEXT NOT NULL,
        redirect_uri TEXT NOT NULL,
        description TEXT NOT NULL,
        allowed_scopes TEXT NOT NULL DEFAULT '[]',
        user_id INTEGER REFERENCES users(id) ON DELETE CASCADE
      );

      CREATE TABLE api_tokens (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        hash TEXT NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('api','server','oauth')),
        user_id INTEGER REFERENCES users(id) ON DELETE CASCADE,
        service_name TEXT,
        scopes TEXT NOT NULL DEFAULT '[]',
        note TEXT NOT NULL DEFAULT '',
        oauth_client_id TEXT REFERENCES oauth_clients(identifier) ON DELETE CASCADE,
        session_id INTEGER REFERENCES sessions(id) ON DELETE CASCADE,
        created TEXT NOT NULL,
        expires_at TEXT,
        last_activity TEXT
      );
      CREATE INDEX api_tokens_prefix ON api_tokens(prefix);

      CREATE TABLE servers (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name TEXT NOT NULL DEFAULT '',
        url TEXT,
        state TEXT NOT NULL DEFAULT '{}',
        user_options TEXT NOT NULL DEFAULT '{}',
        started TEXT,
        last_activity TEXT,
        UNIQUE(user_id, name)
      );
    `,
  },
  {
    version: 2,
    description: 'groups (classes) and their members',
    sql: `
      CREATE TABLE groups (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        properties TEXT NOT NULL DEFAULT '{}'
      );

      CREATE TABLE group_members (
        group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        PRIMARY KEY (group_id, user_id)
      );
      CREATE INDEX group_members_user ON group_members(user_id);
    `,
  },
  {
    version: 3,
    description: 'classroom accounts: display names, forced password changes, sign-ups awaiting approval, one-time login links, hub settings',
    sql: `
      ALTER TABLE users ADD COLUMN display_name TEXT;
      -- 1: the next login must choose a new password (after a teacher's reset).
      ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
      -- 0: signed up with the class join code, waiting for the teacher's approval; cannot log in.
      ALTER TABLE users ADD COLUMN approved INTEGER NOT NULL DEFAULT 1;

      CREATE TABLE login_links (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        hash TEXT NOT NULL UNIQUE,
        created TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at TEXT
      );
      CREATE INDEX login_links_user ON login_links(user_id);

      -- Settings the teacher changes while the hub runs (the join code), by name, as JSON.
      CREATE TABLE settings (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
    `,
  },
  {
    version: 4,
    description: "each server's own origin: the public port browsers reach it at, kept across starts",
    sql: `
      ALTER TABLE servers ADD COLUMN origin_port INTEGER;
      CREATE UNIQUE INDEX servers_origin_port ON servers(origin_port) WHERE origin_port IS NOT NULL;
    `,
  },
  {
    version: 5,
    description: 'handouts: files the teacher hands out, each student\'s copy of them, and the work collected back',
    sql: `
      CREATE TABLE handouts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        -- Also the name of the folder each student gets it in.
        name TEXT NOT NULL UNIQUE,
        -- The class it is for (a group's name); NULL: everyone.
        class TEXT,
        -- The version handed out, 1, 2…; 0 until it is handed out.
        version INTEGER NOT NULL DEFAULT 0,
        available_at TEXT,
        due_at TEXT,
        -- What a hand-in after the due time is: 'mark' (accepted, marked late) or 'refuse'.
        late TEXT NOT NULL DEFAULT 'mark' CHECK (late IN ('mark', 'refuse')),
        created TEXT NOT NULL,
        -- When the collection at the due time was taken.
        collected_at TEXT
      );

      -- What each student was given: the folder it is in, and each file as it was delivered
      -- (path -> sha256), from which an update tells a file the student changed from one they did not.
      CREATE TABLE handout_copies (
        handout_id INTEGER NOT NULL REFERENCES handouts(id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        folder TEXT NOT NULL,
        version INTEGER NOT NULL DEFAULT 0,
        files TEXT NOT NULL DEFAULT '{}',
        delivered_at TEXT,
        -- Why the last delivery did not happen (disk full, folder in the way); NULL when it did.
        problem TEXT,
        -- 1 once a delivery found a file the student had changed or deleted.
        student_changed INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (handout_id, user_id)
      );

      -- Snapshots of a student's copy: handed in by the student, or collected by the teacher.
      CREATE TABLE handins (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        handout_id INTEGER NOT NULL REFERENCES handouts(id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('handed-in', 'collected')),
        at TEXT NOT NULL,
        late INTEGER NOT NULL DEFAULT 0,
        -- Its folder under the data dir's collections/.
        folder TEXT NOT NULL,
        files INTEGER NOT NULL,
        bytes INTEGER NOT NULL
      );
      CREATE INDEX handins_handout_user ON handins(handout_id, user_id);
    `,
  },
  {
    version: 6,
    description: 'handouts: when each student first opened a file of their copy',
    sql: `
      ALTER TABLE handout_copies ADD COLUMN opened_at TEXT;
    `,
  },
];
