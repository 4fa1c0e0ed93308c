-- 0003: the termbase. Entries per language pair; recognition matches `source_key`, the source
-- term's stems (terms::stem), so inflected forms in a text find the entry. A person's edits
-- keep the earlier state in term_history, as unit_history does for units.

CREATE TABLE terms (
    id          INTEGER PRIMARY KEY,
    source_lang TEXT NOT NULL,
    target_lang TEXT NOT NULL,
    source      TEXT NOT NULL,
    target      TEXT NOT NULL,
    source_key  TEXT NOT NULL,
    note        TEXT,
    pos         TEXT,                       -- part of speech, as TBX names it
    status      TEXT NOT NULL DEFAULT 'preferred' CHECK (status IN ('preferred', 'forbidden')),
    origin      TEXT NOT NULL CHECK (origin IN ('human', 'import', 'auto')),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
-- One entry per pair, source and target: importing it again updates its note, POS and status.
CREATE UNIQUE INDEX terms_entry ON terms (source_lang, target_lang, source, target);
CREATE INDEX terms_key ON terms (source_lang, target_lang, source_key);

CREATE TABLE term_history (
    id         INTEGER PRIMARY KEY,
    term_id    INTEGER NOT NULL REFERENCES terms (id) ON DELETE CASCADE,
    source     TEXT NOT NULL,
    target     TEXT NOT NULL,
    note       TEXT,
    pos        TEXT,
    status     TEXT NOT NULL,
    origin     TEXT NOT NULL,
    changed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX term_history_by_term ON term_history (term_id);
