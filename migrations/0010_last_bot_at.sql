-- When the bot last wrote to the lead (a reply's commit, a follow-up's send):
-- a bot reply's `messages.at` is the lead's message time (transcript order),
-- so the minimum gap between bot messages needs its own clock.
ALTER TABLE leads ADD COLUMN last_bot_at INTEGER;
