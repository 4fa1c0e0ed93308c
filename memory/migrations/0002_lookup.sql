-- 0002: what lookup and import need.
--   ident     hash of language pair, source, target and context: a duplicate merges on it
--   key_hash  hash of source_key: exact lookup without indexing the key text twice
--   ntok      word tokens in source_key: fuzzy candidates outside the length window are skipped
--   *_tags    JSON {placeholder: original inline XML} for TMX inline codes (<bpt>, <ph>, …)
-- Rows written before this migration are filled in by memory::Memory::reindex.

ALTER TABLE units ADD COLUMN ident INTEGER;
ALTER TABLE units ADD COLUMN key_hash INTEGER;
ALTER TABLE units ADD COLUMN ntok INTEGER;
ALTER TABLE units ADD COLUMN source_tags TEXT;
ALTER TABLE units ADD COLUMN target_tags TEXT;

DROP INDEX units_by_key;
CREATE UNIQUE INDEX units_ident ON units (ident);
CREATE INDEX units_key ON units (key_hash);
CREATE INDEX units_place ON units (document, position) WHERE document IS NOT NULL;

-- Fuzzy candidates: the word tokens of each key, indexed but not stored twice (contentless).
-- The text is already tokenized and lower-cased by memory::key, so the 'ascii' tokenizer
-- (split on ASCII spaces, keep other bytes) sees exactly babeldesk's tokens.
CREATE VIRTUAL TABLE units_fts USING fts5 (
    tokens,
    content = '',
    contentless_delete = 1,
    tokenize = 'ascii'
);
-- Units per token: lookup asks the index for the rarest tokens first. (fts5vocab can say
-- the same, but at ~0.2 ms a token; this is a b-tree probe.)
CREATE TABLE token_df (
    term TEXT PRIMARY KEY,
    df   INTEGER NOT NULL
) WITHOUT ROWID;
