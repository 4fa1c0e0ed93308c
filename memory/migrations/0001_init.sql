-- 0001: translation units, their edit history, and the summary cache.
-- Migrations are append-only: never edit a released file, add the next number instead.

CREATE TABLE units (
    id          INTEGER PRIMARY KEY,
    source_lang TEXT NOT NULL,              -- BCP-47, e.g. 'ru'
    target_lang TEXT NOT NULL,
    source      TEXT NOT NULL,
    target      TEXT NOT NULL,
    source_key  TEXT NOT NULL,              -- normalized source (see memory::normalize)
    origin      TEXT NOT NULL CHECK (origin IN ('mt', 'human', 'import')),
    model       TEXT,                       -- model id that made the target, if any
    document    TEXT,                       -- where the segment came from
    position    INTEGER,                    -- its index in that document
    prev_hash   TEXT,                       -- context: hash of the previous source segment
    next_hash   TEXT,                       -- context: hash of the next source segment
    status      TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'approved', 'rejected')),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    use_count   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX units_by_key ON units (source_lang, target_lang, source_key);

CREATE TABLE unit_history (
    id         INTEGER PRIMARY KEY,
    unit_id    INTEGER NOT NULL REFERENCES units (id) ON DELETE CASCADE,
    target     TEXT NOT NULL,
    origin     TEXT NOT NULL,
    status     TEXT NOT NULL,
    changed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX unit_history_by_unit ON unit_history (unit_id);

CREATE TABLE summaries (
    doc_hash   TEXT NOT NULL,
    model      TEXT NOT NULL,
    method     TEXT NOT NULL,
    options    TEXT NOT NULL,              -- canonical JSON of the options that shape the output
    summary    TEXT NOT NULL,              -- JSON
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (doc_hash, model, method, options)
);
