-- The service catalog (app/src/catalog/): services registered by tenant, and the actions run on
-- them (provision, deprovision, deploy) with their history. A name is unique within a tenant.
CREATE TABLE catalog_services (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id             INTEGER NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    name                  TEXT NOT NULL,
    repo_url              TEXT NOT NULL,
    owner_team            TEXT NOT NULL,
    runtime               TEXT NOT NULL,
    tier                  TEXT NOT NULL,
    environments          TEXT NOT NULL DEFAULT '[]',
    observability_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    description           TEXT NOT NULL DEFAULT '',
    links                 TEXT NOT NULL DEFAULT '[]',
    tags                  TEXT NOT NULL DEFAULT '[]',
    provision_status      TEXT NOT NULL DEFAULT 'not_requested',
    provision_detail      TEXT NOT NULL DEFAULT '',
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL,
    CONSTRAINT catalog_services_tenant_name UNIQUE (tenant_id, name)
);

-- One row per action asked for; its status follows the executor (or its callbacks).
CREATE TABLE catalog_actions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    service_id    INTEGER NOT NULL REFERENCES catalog_services (id) ON DELETE CASCADE,
    action        TEXT NOT NULL CHECK (action IN ('provision', 'deprovision', 'deploy')),
    environment   TEXT,
    status        TEXT NOT NULL,
    detail        TEXT NOT NULL DEFAULT '',
    execution_ref TEXT,
    requested_by  TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX catalog_actions_service ON catalog_actions (service_id, id);
