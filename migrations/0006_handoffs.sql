-- Handoffs to a human closer: one per lead (until an operator resets it),
-- with the packet frozen as it was, and one durable delivery per target.
CREATE TABLE handoffs (
    id         TEXT PRIMARY KEY,            -- also the receivers' Idempotency-Key
    lead_id    TEXT NOT NULL REFERENCES leads(id),
    trigger    TEXT NOT NULL,               -- hot, sql, asked_for_human, operator
    reason     TEXT NOT NULL,
    packet     TEXT NOT NULL,               -- JSON (docs/handoff.schema.json)
    markdown   TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    reset_at   INTEGER
);
-- Never the same lead twice, unless the operator resets it.
CREATE UNIQUE INDEX handoffs_once ON handoffs (lead_id) WHERE reset_at IS NULL;

CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    handoff_id      TEXT NOT NULL REFERENCES handoffs(id),
    target          TEXT NOT NULL CHECK (target IN ('webhook', 'file')),
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'delivered', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    delivered_at    INTEGER,
    UNIQUE (handoff_id, target)
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
