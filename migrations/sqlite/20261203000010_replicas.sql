-- What several replicas share (app/src/db/replicas.rs). Times are Unix milliseconds.
--
-- Leases: periodic work that one replica should do at a time (event retention) is claimed
-- here; a holder that stops renewing loses it when it expires, and another replica takes over.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_ms INTEGER NOT NULL
);

-- Rate limits that must hold across replicas (pipeline creation per caller): one row per key
-- with its theoretical arrival time (GCRA), moved forward by one atomic update per use.
CREATE TABLE rate_limits (
    key    TEXT PRIMARY KEY,
    tat_ms INTEGER NOT NULL
);
CREATE INDEX rate_limits_tat ON rate_limits (tat_ms);
