-- The terms of the directory's search index, so the last word of a query
-- (a prefix) can be expanded into the few words it begins: FTS5 evaluates
-- "meteo"* by merging every matching term's postings up front (~10 ms for a
-- common word in a million channels), but ("meteo" OR "meteorologie")
-- streams in rank order and stops after a page.
CREATE VIRTUAL TABLE directory_vocab USING fts5vocab('directory_fts', 'row');
