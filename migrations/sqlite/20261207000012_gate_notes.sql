-- Whether rejecting this gate needs notes. The seed's console sends a rejection with empty
-- notes, so by default it does not (docs/pipelines.md, "Differences from the seed").
ALTER TABLE pipeline_gates ADD COLUMN notes_required BOOLEAN NOT NULL DEFAULT FALSE;
