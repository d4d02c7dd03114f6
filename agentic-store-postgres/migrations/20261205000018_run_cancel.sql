-- Cancelling runs: a queued or gated run ends `cancelled` at once (a pending approval request with it, as
-- `cancelled`); a running one is marked (`cancel_requested_at`) for its worker to stop at its next step.
ALTER TABLE runs DROP CONSTRAINT runs_status_check;
ALTER TABLE runs ADD CONSTRAINT runs_status_check
    CHECK (status IN ('queued', 'awaiting_approval', 'running', 'completed', 'failed', 'denied', 'cancelled'));
ALTER TABLE runs ADD COLUMN cancel_requested_at timestamptz;

ALTER TABLE approvals DROP CONSTRAINT approvals_status_check;
ALTER TABLE approvals ADD CONSTRAINT approvals_status_check
    CHECK (status IN ('pending', 'approved', 'denied', 'expired', 'cancelled'));
