//! What a schedule does when a fire comes while its last run has not ended: the overlap policies.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a schedule does when it fires while a run it started has not ended (Temporal's overlap policies). A
/// trigger-now or a backfill honours the schedule's policy unless the call names another.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OverlapPolicy {
    /// Do not start; the fire is skipped and counted (the default).
    #[default]
    Skip,
    /// Start once the running run ends; at most one fire waits, later ones are skipped.
    BufferOne,
    /// Start each fire in turn as the runs before it end.
    BufferAll,
    /// Cancel the running run, then start.
    CancelOther,
    /// Start regardless: runs may overlap.
    AllowAll,
}

/// What a fire does under an [`OverlapPolicy`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FireAction {
    /// Start a run now.
    Start,
    /// Start nothing; count the fire as skipped (reason `overlap`).
    Skip,
    /// Keep the fire waiting until the running run ends.
    Buffer,
    /// Cancel the running run, then start a run now.
    CancelThenStart,
}

impl OverlapPolicy {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            OverlapPolicy::Skip => "skip",
            OverlapPolicy::BufferOne => "buffer_one",
            OverlapPolicy::BufferAll => "buffer_all",
            OverlapPolicy::CancelOther => "cancel_other",
            OverlapPolicy::AllowAll => "allow_all",
        }
    }

    /// What a fire does when the schedule has a run that has not ended (`running`) and `buffered` fires waiting.
    /// The one rule every scheduler (and trigger-now, and backfill) applies.
    pub fn on_fire(self, running: bool, buffered: usize) -> FireAction {
        let busy = running || buffered > 0;
        match self {
            OverlapPolicy::AllowAll => FireAction::Start,
            _ if !busy => FireAction::Start,
            OverlapPolicy::Skip => FireAction::Skip,
            OverlapPolicy::BufferOne if buffered == 0 => FireAction::Buffer,
            OverlapPolicy::BufferOne => FireAction::Skip,
            OverlapPolicy::BufferAll => FireAction::Buffer,
            OverlapPolicy::CancelOther if running => FireAction::CancelThenStart,
            // Nothing runs but fires wait (a previous policy buffered them): this one starts after them.
            OverlapPolicy::CancelOther => FireAction::Buffer,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_policies_decide_each_fire() {
        use FireAction::{Buffer, CancelThenStart, Skip, Start};
        use OverlapPolicy::{AllowAll, BufferAll, BufferOne, CancelOther};
        // (policy, running, buffered) → action
        let check = |policy: OverlapPolicy, running: bool, buffered: usize, expected: FireAction| {
            assert_eq!(policy.on_fire(running, buffered), expected, "{policy:?} running={running} buffered={buffered}");
        };
        for policy in [OverlapPolicy::Skip, BufferOne, BufferAll, CancelOther, AllowAll] {
            check(policy, false, 0, Start);
            let wire = serde_json::to_value(policy).unwrap();
            assert_eq!(wire, serde_json::json!(policy.as_str()));
        }
        check(OverlapPolicy::Skip, true, 0, Skip);
        check(BufferOne, true, 0, Buffer);
        check(BufferOne, true, 1, Skip);
        check(BufferOne, false, 1, Skip);
        check(BufferAll, true, 0, Buffer);
        check(BufferAll, true, 7, Buffer);
        check(CancelOther, true, 0, CancelThenStart);
        check(CancelOther, false, 2, Buffer);
        check(AllowAll, true, 3, Start);
        assert_eq!(OverlapPolicy::default(), OverlapPolicy::Skip);
    }
}
