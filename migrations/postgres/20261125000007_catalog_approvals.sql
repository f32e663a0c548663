-- A deploy to a protected environment waits for a pipeline's approval gate: the action names
-- its pipeline, and the catalog settles it when the gate is decided.
ALTER TABLE catalog_actions ADD COLUMN pipeline_id TEXT;
CREATE INDEX catalog_actions_pipeline ON catalog_actions (pipeline_id);
