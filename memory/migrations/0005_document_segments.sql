-- 0005: what each translated document was made of, segment by segment, as `translate` made
-- it: the unit used (reused from the memory or stored now; none when the model failed), how
-- (band: 101, 100, fuzzy, model, failed), the match score. The review page shows documents
-- from it; a new translation of a document replaces its rows.
CREATE TABLE document_segments (
    document    TEXT NOT NULL,
    position    INTEGER NOT NULL,
    source_lang TEXT NOT NULL,
    target_lang TEXT NOT NULL,
    source      TEXT NOT NULL,
    unit_id     INTEGER REFERENCES units (id) ON DELETE SET NULL,
    band        TEXT NOT NULL CHECK (band IN ('101', '100', 'fuzzy', 'model', 'failed')),
    score       INTEGER,
    problem     TEXT,
    recorded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    PRIMARY KEY (document, position)
);
CREATE INDEX document_segments_by_unit ON document_segments (unit_id);
