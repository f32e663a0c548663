-- The name a service was registered with when it is not itself a DNS label ("Payments API"):
-- kept for people and the seed's clients, while `name` holds the slug Kubernetes objects use
-- ("payments-api"). Empty when the name was a slug already.
ALTER TABLE catalog_services ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
