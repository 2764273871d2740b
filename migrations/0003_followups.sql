-- Follow-ups: one row per ladder step, scheduled when the bot replies and
-- cancelled by any lead message (the ladder restarts after the next reply).
-- `epoch` is the turn that scheduled the ladder; the idempotency key
-- (lead + epoch + step) makes scheduling the same ladder twice a no-op.
CREATE TABLE jobs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    lead_id         TEXT NOT NULL REFERENCES leads(id),
    epoch           INTEGER NOT NULL,
    step            INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    due_at          INTEGER NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'claimed', 'sent', 'cancelled', 'skipped')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    -- While `claimed`: when the claim lapses (its worker died) and the job is due again.
    lease_until     INTEGER,
    last_error      TEXT,
    -- Why a step was cancelled or skipped, in words.
    reason          TEXT,
    message_id      INTEGER REFERENCES messages(id),
    idempotency_key TEXT NOT NULL UNIQUE,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
-- A tick reads only what is due: its cost does not grow with future jobs.
CREATE INDEX jobs_due ON jobs (state, due_at);
CREATE INDEX jobs_by_lead ON jobs (lead_id, state);
