-- What really happened after the bot: outcomes reported by the closer (or a
-- payment confirmation), several per lead over time (booked → showed → won).
-- The calibration report compares them with what the rubric predicted.
CREATE TABLE outcomes (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    lead_id  TEXT NOT NULL REFERENCES leads(id),
    outcome  TEXT NOT NULL CHECK (outcome IN ('booked', 'showed', 'won', 'lost', 'paid')),
    -- The deal's value, in `currency` (the offer's when it was recorded).
    value    REAL,
    currency TEXT,
    note     TEXT,
    source   TEXT NOT NULL CHECK (source IN ('cli', 'api')),
    at       INTEGER NOT NULL
);
CREATE INDEX outcomes_by_lead ON outcomes (lead_id, id);

-- Close in the DM: when the bot first sent this lead the payment link.
ALTER TABLE leads ADD COLUMN payment_link_sent_at INTEGER;

-- The intent signals that counted in each score (a JSON array of names),
-- including those read from slots (timing, budget, authority), which leave
-- no evidence row. NULL on rows scored before this column existed.
ALTER TABLE scores ADD COLUMN signals TEXT;
