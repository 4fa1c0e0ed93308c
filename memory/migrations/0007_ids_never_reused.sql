-- 0007: unit and term ids are never given out again. Without AUTOINCREMENT SQLite gives a new
-- row the largest id + 1, so deleting the newest unit handed its id to the next one, and links
-- and notes citing it then pointed at another sentence (PostgreSQL's identity columns never
-- reuse). SQLite cannot add AUTOINCREMENT to a table: each is copied into one that has it,
-- ids kept, and its indexes and triggers are made again. The migration runs with foreign keys
-- off (dropping the old table must not cascade) and checks them before it commits.

CREATE TABLE units_next (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    source_lang TEXT NOT NULL,
    target_lang TEXT NOT NULL,
    source      TEXT NOT NULL,
    target      TEXT NOT NULL,
    source_key  TEXT NOT NULL,
    origin      TEXT NOT NULL CHECK (origin IN ('mt', 'human', 'import')),
    model       TEXT,
    document    TEXT,
    position    INTEGER,
    prev_hash   TEXT,
    next_hash   TEXT,
    status      TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'approved', 'rejected')),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    use_count   INTEGER NOT NULL DEFAULT 0,
    ident       INTEGER,
    key_hash    INTEGER,
    ntok        INTEGER,
    source_tags TEXT,
    target_tags TEXT,
    precision   TEXT CHECK (precision IN ('int8', 'fp32'))
);
INSERT INTO units_next (id, source_lang, target_lang, source, target, source_key, origin, model,
    document, position, prev_hash, next_hash, status, created_at, updated_at, use_count, ident,
    key_hash, ntok, source_tags, target_tags, precision)
SELECT id, source_lang, target_lang, source, target, source_key, origin, model, document,
    position, prev_hash, next_hash, status, created_at, updated_at, use_count, ident, key_hash,
    ntok, source_tags, target_tags, precision
FROM units;
DROP TABLE units;
ALTER TABLE units_next RENAME TO units;
CREATE UNIQUE INDEX units_ident ON units (ident);
CREATE INDEX units_key ON units (key_hash);
CREATE INDEX units_place ON units (document, position) WHERE document IS NOT NULL;
CREATE TRIGGER units_words_insert AFTER INSERT ON units BEGIN
    INSERT INTO units_words (rowid, source, target) VALUES (new.id, new.source, new.target);
END;
CREATE TRIGGER units_words_delete AFTER DELETE ON units BEGIN
    DELETE FROM units_words WHERE rowid = old.id;
END;
CREATE TRIGGER units_words_update AFTER UPDATE OF source, target ON units BEGIN
    DELETE FROM units_words WHERE rowid = old.id;
    INSERT INTO units_words (rowid, source, target) VALUES (new.id, new.source, new.target);
END;

CREATE TABLE terms_next (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    source_lang TEXT NOT NULL,
    target_lang TEXT NOT NULL,
    source      TEXT NOT NULL,
    target      TEXT NOT NULL,
    source_key  TEXT NOT NULL,
    note        TEXT,
    pos         TEXT,
    status      TEXT NOT NULL DEFAULT 'preferred' CHECK (status IN ('preferred', 'forbidden')),
    origin      TEXT NOT NULL CHECK (origin IN ('human', 'import', 'auto')),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
INSERT INTO terms_next (id, source_lang, target_lang, source, target, source_key, note, pos,
    status, origin, created_at, updated_at)
SELECT id, source_lang, target_lang, source, target, source_key, note, pos, status, origin,
    created_at, updated_at
FROM terms;
DROP TABLE terms;
ALTER TABLE terms_next RENAME TO terms;
CREATE UNIQUE INDEX terms_entry ON terms (source_lang, target_lang, source, target);
CREATE INDEX terms_key ON terms (source_lang, target_lang, source_key);
