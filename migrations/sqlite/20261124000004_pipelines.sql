-- Pipelines with human-in-the-loop gates (app/src/pipelines/). A gate is decided once: its
-- decision is written by an UPDATE that only matches while `decision IS NULL`, inside the same
-- transaction as the pipeline's status change and its events, so two people deciding at once
-- resolve to exactly one decision.
CREATE TABLE pipelines (
    id              TEXT PRIMARY KEY,
    slug            TEXT NOT NULL,
    intent          TEXT NOT NULL DEFAULT '',
    tenant_id       INTEGER REFERENCES tenants (id) ON DELETE RESTRICT,
    status          TEXT NOT NULL CHECK (status IN ('queued', 'running', 'needs_approval', 'paused',
                                                    'completed', 'failed', 'canceled')),
    stage           TEXT NOT NULL,
    stages          TEXT NOT NULL,
    params          TEXT NOT NULL DEFAULT '{}',
    requested_by_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    requested_by    TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX pipelines_status ON pipelines (status, created_at);
CREATE INDEX pipelines_tenant ON pipelines (tenant_id, created_at);

CREATE TABLE pipeline_gates (
    pipeline_id          TEXT NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    stage                TEXT NOT NULL,
    required             BOOLEAN NOT NULL DEFAULT TRUE,
    auto_approve         BOOLEAN NOT NULL DEFAULT FALSE,
    auto_approve_after_s INTEGER,
    approvals_needed     INTEGER NOT NULL DEFAULT 1 CHECK (approvals_needed >= 1),
    allowed_roles        TEXT NOT NULL DEFAULT '["developer","admin"]',
    allow_self_approval  BOOLEAN NOT NULL DEFAULT FALSE,
    timeout_action       TEXT NOT NULL DEFAULT 'approve' CHECK (timeout_action IN ('approve', 'reject', 'expire')),
    opened_at            TEXT,
    decision             TEXT CHECK (decision IN ('approved', 'rejected', 'expired')),
    decided_by_id        INTEGER REFERENCES users (id) ON DELETE SET NULL,
    decided_by           TEXT,
    decided_at           TEXT,
    notes                TEXT,
    patch                TEXT,
    automatic            BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (pipeline_id, stage)
);

-- Gates that want several people: one row per person who approved, once each.
CREATE TABLE gate_approvals (
    pipeline_id TEXT NOT NULL,
    stage       TEXT NOT NULL,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    username    TEXT NOT NULL,
    approved_at TEXT NOT NULL,
    PRIMARY KEY (pipeline_id, stage, user_id),
    FOREIGN KEY (pipeline_id, stage) REFERENCES pipeline_gates (pipeline_id, stage) ON DELETE CASCADE
);

-- Append-only, ordered by id: the event log, the SSE streams' replay and the audit of decisions.
CREATE TABLE pipeline_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    pipeline_id TEXT NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    stage       TEXT,
    status      TEXT,
    message     TEXT NOT NULL DEFAULT '',
    payload     TEXT NOT NULL DEFAULT '{}',
    created_at  TEXT NOT NULL
);
CREATE INDEX pipeline_events_pipeline ON pipeline_events (pipeline_id, id);
