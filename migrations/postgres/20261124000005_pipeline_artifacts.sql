-- What a pipeline's stages produced, as workers report it: a name and where it is, not the bytes.
CREATE TABLE pipeline_artifacts (
    id          BIGSERIAL PRIMARY KEY,
    pipeline_id TEXT NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    stage       TEXT NOT NULL,
    name        TEXT NOT NULL,
    uri         TEXT NOT NULL,
    size_bytes  BIGINT,
    sha256      TEXT,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX pipeline_artifacts_pipeline ON pipeline_artifacts (pipeline_id, id);
