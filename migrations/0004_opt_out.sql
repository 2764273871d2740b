-- A lead who asked to stop hearing from the business ("stop", "unsubscribe",
-- "no me escribas más", …): acknowledged once, then never messaged again.
ALTER TABLE leads ADD COLUMN opted_out_at INTEGER;
