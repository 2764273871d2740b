-- WhatsApp said the 24 h window is closed (error 131047) after the lead's
-- last message: until the lead writes again, follow-ups take the template
-- path whatever Setter's own clock says.
ALTER TABLE leads ADD COLUMN window_closed_at INTEGER;
