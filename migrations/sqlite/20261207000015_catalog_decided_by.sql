-- Who decided a deploy's approval gate, kept on the action: its detail moves on with the rollout
-- ("Deployment applied…"), and the history still says who let it through.
ALTER TABLE catalog_actions ADD COLUMN decided_by TEXT;
