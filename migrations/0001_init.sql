-- Setter's core schema. Timestamps are Unix milliseconds (INTEGER) so the same
-- columns map to BIGINT on PostgreSQL. Later features (outbox, jobs, handoffs)
-- arrive as further numbered migrations; callers never see SQL (see src/store).

CREATE TABLE leads (
    id            TEXT PRIMARY KEY,
    channel       TEXT NOT NULL,
    external_id   TEXT NOT NULL,
    name          TEXT,
    source        TEXT,
    first_message TEXT,
    stage         TEXT NOT NULL DEFAULT 'new',
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (channel, external_id)
);

CREATE TABLE messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    lead_id     TEXT NOT NULL REFERENCES leads(id),
    direction   TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    text        TEXT NOT NULL,
    -- The platform's message id (wamid…, mid…): a redelivery is refused here.
    external_id TEXT UNIQUE,
    at          INTEGER NOT NULL
);
CREATE INDEX messages_by_lead ON messages (lead_id, id);

-- Current value of each framework slot, with the message it came from.
CREATE TABLE slots (
    lead_id             TEXT NOT NULL REFERENCES leads(id),
    slot                TEXT NOT NULL,
    value               TEXT NOT NULL, -- JSON
    evidence_message_id INTEGER REFERENCES messages(id),
    updated_at          INTEGER NOT NULL,
    PRIMARY KEY (lead_id, slot)
);

-- Append-only observations behind the score: ICP traits (matched or not),
-- disqualifiers, intent signals. Each names the message and quote it rests on.
CREATE TABLE evidence (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    lead_id     TEXT NOT NULL REFERENCES leads(id),
    kind        TEXT NOT NULL CHECK (kind IN ('trait', 'disqualifier', 'signal')),
    key         TEXT NOT NULL,
    matched     INTEGER NOT NULL,
    quote       TEXT NOT NULL,
    message_id  INTEGER NOT NULL REFERENCES messages(id),
    at          INTEGER NOT NULL
);
CREATE INDEX evidence_by_lead ON evidence (lead_id, id);

-- Score history: one row per re-score, with the reason in words.
CREATE TABLE scores (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    lead_id     TEXT NOT NULL REFERENCES leads(id),
    message_id  INTEGER REFERENCES messages(id),
    fit         TEXT NOT NULL,
    intent      TEXT NOT NULL,
    tier        TEXT NOT NULL,
    score       INTEGER NOT NULL,
    stage       TEXT NOT NULL,
    next_action TEXT NOT NULL,
    reason      TEXT NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX scores_by_lead ON scores (lead_id, id);

CREATE TABLE stage_changes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    lead_id    TEXT NOT NULL REFERENCES leads(id),
    from_stage TEXT NOT NULL,
    to_stage   TEXT NOT NULL,
    reason     TEXT NOT NULL,
    at         INTEGER NOT NULL
);

-- One row per bot turn: what it asked, what it cost, how long it took.
CREATE TABLE turns (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    lead_id           TEXT NOT NULL REFERENCES leads(id),
    turn              INTEGER NOT NULL,
    inbound_id        INTEGER NOT NULL REFERENCES messages(id),
    reply_id          INTEGER NOT NULL REFERENCES messages(id),
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
