-- PostgreSQL 0002, as SQLite's 0006: the arithmetic a model translation was made in (int8 or
-- fp32), beside the model id; NULL for units no local seq2seq model made.
ALTER TABLE units ADD COLUMN precision TEXT CHECK (precision IN ('int8', 'fp32'));
