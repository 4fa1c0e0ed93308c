-- 0004: concordance search (`memory search --concordance`, the review page) by an index of the
-- words of sources and targets, so finding a word in a million units is no table scan. The
-- index only narrows the candidates; the exact case-insensitive substring test still decides.
-- Contentless (the text is in `units` already) and without positions (queries are words and
-- a prefix, never phrases). Kept in step by triggers on every write; it costs imports about
-- 60 µs a unit (measured: README, "The review page").
CREATE VIRTUAL TABLE units_words USING fts5 (
    source,
    target,
    content = '',
    contentless_delete = 1,
    detail = none,
    tokenize = 'unicode61'
);
INSERT INTO units_words (rowid, source, target) SELECT id, source, target FROM units;

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
