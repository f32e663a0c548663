-- Whose email Heimdall can vouch for: set by an admin (creating or editing the user). A
-- provider's first sign-in links to an existing account by its email only when this is true;
-- an email a user set themselves never links anyone (docs/identity.md, "Linking").
ALTER TABLE users ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT FALSE;

-- A provider sign-in started from the account page to link the provider to the signed-in user
-- (who proves they hold the account by being signed in to it): that user's id.
ALTER TABLE oauth_states ADD COLUMN link_user_id INTEGER;
