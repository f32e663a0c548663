-- A deploy names its image (reference and version) when asked: a deploy that waits for
-- approval applies exactly what was asked, once approved.
ALTER TABLE catalog_actions ADD COLUMN image TEXT;
