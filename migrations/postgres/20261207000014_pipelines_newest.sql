-- The list's order (newest first, ties by id): the newest hundred are read from the index
-- instead of sorting every pipeline.
CREATE INDEX pipelines_newest ON pipelines (created_at DESC, id);
