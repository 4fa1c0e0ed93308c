-- 0004: the review page opens a document's units in order (`serve`).
CREATE INDEX units_by_document ON units (document, position);
