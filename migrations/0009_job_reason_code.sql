-- Why a follow-up step was cancelled or skipped, as a code (`JobReason`):
-- `reason` keeps the words for people; metrics and evals match on the code.
ALTER TABLE jobs ADD COLUMN reason_code TEXT;
