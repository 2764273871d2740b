-- A message that is not plain text (a WhatsApp template, sent outside the
-- 24 h window): the send API body's type-specific part, as JSON. NULL for
-- text, whose words are the message's text.
ALTER TABLE outbox ADD COLUMN payload TEXT;
