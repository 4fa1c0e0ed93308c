-- 0006: the arithmetic a model translation was made in (int8 or fp32), beside the model id.
-- NULL for units no local seq2seq model made (people, imports, GGUF and server models). The
-- memory does not look at it when it matches: an int8 and an fp32 translation of the same
-- model are translations of the same model.
ALTER TABLE units ADD COLUMN precision TEXT CHECK (precision IN ('int8', 'fp32'));
