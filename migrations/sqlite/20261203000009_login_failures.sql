-- Sign-in backoff (app/src/identity/throttle.rs): failed password sign-ins counted per account
-- and per client address in the database, so every replica sees the same count and the lock
-- holds whichever replica the next attempt reaches. Times are Unix milliseconds.
CREATE TABLE login_failures (
    key             TEXT PRIMARY KEY,
    failures        INTEGER NOT NULL,
    last_failed_ms  INTEGER NOT NULL,
    locked_until_ms INTEGER
);
CREATE INDEX login_failures_last ON login_failures (last_failed_ms);
