-- The `setter serve` pipeline: accept → queue per lead → turn → outbox → send → status.
--
-- A lead message is *pending* until a turn answers it: a turn records the
-- newest inbound message it read (`turns.inbound_id`), so "pending" is every
-- inbound message above the lead's highest `inbound_id`. Nothing else marks a
-- message answered, so a crash or a failed model call leaves it pending and
-- the next turn (or the restart) answers it.

-- Which of the business's accounts the lead wrote to (WhatsApp phone_number_id,
-- Page id, Instagram account id): replies go out from the same one.
ALTER TABLE leads ADD COLUMN account_id TEXT;
-- Human takeover: the bot sends nothing while `paused_until` is in the future.
ALTER TABLE leads ADD COLUMN paused_until INTEGER;
ALTER TABLE leads ADD COLUMN paused_reason TEXT;
-- The lead's newest message time: messaging windows are counted from it.
ALTER TABLE leads ADD COLUMN last_inbound_at INTEGER;

-- What a stored message is: text, image, audio, location, reaction, … and,
-- for outgoing messages, who wrote it (bot or a human from the business inbox).
ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'text';
ALTER TABLE messages ADD COLUMN author TEXT NOT NULL DEFAULT 'lead'
    CHECK (author IN ('lead', 'bot', 'human'));
UPDATE messages SET author = 'bot' WHERE direction = 'out';
CREATE INDEX messages_pending ON messages (lead_id, direction, id);

-- A turn taken while a human has the conversation scores the lead's messages
-- but sends nothing: its reply is NULL. SQLite cannot relax NOT NULL in place.
CREATE TABLE turns_new (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    lead_id           TEXT NOT NULL REFERENCES leads(id),
    turn              INTEGER NOT NULL,
    inbound_id        INTEGER NOT NULL REFERENCES messages(id),
    reply_id          INTEGER REFERENCES messages(id),
    asked_slot        TEXT,
    action            TEXT NOT NULL,
    guard             TEXT,
    prompt_tokens     INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    cost_usd          REAL NOT NULL,
    latency_ms        INTEGER NOT NULL,
    at                INTEGER NOT NULL,
    UNIQUE (lead_id, turn)
);
INSERT INTO turns_new SELECT id, lead_id, turn, inbound_id, reply_id, asked_slot, action, guard,
    prompt_tokens, completion_tokens, cost_usd, latency_ms, at FROM turns;
DROP TABLE turns;
ALTER TABLE turns_new RENAME TO turns;
CREATE INDEX turns_answered ON turns (lead_id, inbound_id);

-- Messages waiting to leave, written in the same transaction as the turn that
-- produced them. `idempotency_key` makes a retried commit a no-op; `state`
-- moves pending → sending → sent → delivered → read, or to failed/cancelled.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    lead_id         TEXT NOT NULL REFERENCES leads(id),
    message_id      INTEGER NOT NULL REFERENCES messages(id),
    channel         TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    state           TEXT NOT NULL CHECK (state IN
                      ('pending', 'sending', 'sent', 'delivered', 'read', 'failed', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    -- The platform's id for the sent message (wamid…, mid…): statuses refer to it.
    platform_id     TEXT,
    error_code      INTEGER,
    error_text      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_by_lead ON outbox (lead_id, id);
CREATE INDEX outbox_by_platform_id ON outbox (platform_id);

-- Every webhook body as received, before parsing: nothing accepted is lost,
-- and an unknown shape can be replayed once the parser learns it.
CREATE TABLE webhooks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    object      TEXT,
    body        BLOB NOT NULL,
    received_at INTEGER NOT NULL,
    -- What the parser could not place (unknown shapes), for the logs.
    unparsed    TEXT
);

-- Delivery reports, once per (message, status); applied monotonically.
CREATE TABLE statuses (
    platform_id TEXT NOT NULL,
    status      TEXT NOT NULL,
    at          INTEGER NOT NULL,
    error_code  INTEGER,
    error_text  TEXT,
    webhook_id  INTEGER REFERENCES webhooks(id),
    PRIMARY KEY (platform_id, status)
);
