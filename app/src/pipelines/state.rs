//! The pipeline state machine, explicit and pure: every status, every transition, and the one
//! function that says where a transition leads from a status — or why it may not. The store
//! applies a transition with a guard on the status it was computed from, so two callers racing
//! cannot both move a pipeline.
//!
//! ```text
//!  queued ─start─▶ running ─await_gate─▶ needs_approval ─approve─▶ running
//!                   └─advance─▶ running (the next stage, ungated)
//!                   │  ▲                       │  └─expire─▶ failed
//!                   │  └────────resume──── paused ◀─reject─┘
//!                   │                       ▲  │ (its gate reopened when the rejection's patch
//!                   │                       │  │  did not apply: approve ─▶ running, reject ─▶ paused)
//!                   └─halt (the next gate was rejected in advance)
//!                   ├─complete─▶ completed
//!                   └─fail─────▶ failed
//!  any status that has not ended ─cancel─▶ canceled
//! ```

use serde::{Deserialize, Serialize};

/// Where a pipeline stands (the seed's `JobStatus`, same strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PipelineStatus {
    Queued,
    Running,
    NeedsApproval,
    Paused,
    Completed,
    Failed,
    Canceled,
}

impl PipelineStatus {
    pub const ALL: [Self; 7] = [
        Self::Queued,
        Self::Running,
        Self::NeedsApproval,
        Self::Paused,
        Self::Completed,
        Self::Failed,
        Self::Canceled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::NeedsApproval => "needs_approval",
            Self::Paused => "paused",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == s)
    }

    /// Completed, failed and canceled pipelines never move again.
    pub fn has_ended(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Canceled)
    }
}

/// Something that happens to a pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    /// A worker claims the first stage.
    Start,
    /// A worker finished a stage and the next one, ungated, begins.
    Advance,
    /// A worker finished a stage whose successor has a gate: people must decide.
    AwaitGate,
    /// A worker finished a stage whose successor's gate was rejected in advance: it waits
    /// there, paused, for a fix and a resume.
    Halt,
    /// The gate's decision (or its timer) says go on.
    Approve,
    /// The gate's decision (or its timer) says no: the pipeline waits for a fix and a resume.
    Reject,
    /// The gate's timer ran out with `timeout_action = expire`.
    Expire,
    /// After a rejection, with the rejections' patches applied.
    Resume,
    /// A worker finished the last stage.
    Complete,
    /// A worker reported a failure.
    Fail,
    Cancel,
}

impl Transition {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Advance => "advance",
            Self::AwaitGate => "await_gate",
            Self::Halt => "halt",
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::Expire => "expire",
            Self::Resume => "resume",
            Self::Complete => "complete",
            Self::Fail => "fail",
            Self::Cancel => "cancel",
        }
    }
}

/// A transition the state machine refuses: the HTTP layer answers 409 with these words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot {} a pipeline that is {}: {reason}", transition.as_str(), from.as_str())]
pub struct IllegalTransition {
    pub from: PipelineStatus,
    pub transition: Transition,
    pub reason: &'static str,
}

/// Where `transition` leads from `from`, or why it may not happen.
pub fn next(from: PipelineStatus, transition: Transition) -> Result<PipelineStatus, IllegalTransition> {
    use PipelineStatus as S;
    use Transition as T;
    let refuse = |reason| IllegalTransition {
        from,
        transition,
        reason,
    };
    if from.has_ended() {
        return Err(refuse("it has ended"));
    }
    match (from, transition) {
        (S::Queued, T::Start) => Ok(S::Running),
        (S::Running, T::Advance) => Ok(S::Running),
        // A gate on the first stage opens as soon as a worker claims the pipeline.
        (S::Queued | S::Running, T::AwaitGate) => Ok(S::NeedsApproval),
        (S::Queued | S::Running, T::Halt) => Ok(S::Paused),
        (S::NeedsApproval, T::Approve) => Ok(S::Running),
        (S::NeedsApproval, T::Reject) => Ok(S::Paused),
        // A paused pipeline whose gate was reopened (its rejection's patch did not apply): the
        // service allows these only while that gate is undecided.
        (S::Paused, T::Approve) => Ok(S::Running),
        (S::Paused, T::Reject) => Ok(S::Paused),
        (S::NeedsApproval, T::Expire) => Ok(S::Failed),
        (S::Paused, T::Resume) => Ok(S::Running),
        (S::Running, T::Complete) => Ok(S::Completed),
        (S::Running, T::Fail) => Ok(S::Failed),
        (_, T::Cancel) => Ok(S::Canceled),
        (_, T::Approve | T::Reject | T::Expire) => Err(refuse("it is not waiting for a decision")),
        (_, T::Resume) => Err(refuse("only a paused pipeline resumes")),
        (_, T::Start) => Err(refuse("it has started already")),
        (_, T::Advance | T::AwaitGate | T::Halt | T::Complete | T::Fail) => {
            Err(refuse("no stage is running"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PipelineStatus as S;
    use Transition as T;

    const TRANSITIONS: [Transition; 11] = [
        T::Start,
        T::Advance,
        T::AwaitGate,
        T::Halt,
        T::Approve,
        T::Reject,
        T::Expire,
        T::Resume,
        T::Complete,
        T::Fail,
        T::Cancel,
    ];

    /// The whole table: every status × every transition, the legal ones listed, every other
    /// one refused with a reason.
    #[test]
    fn every_status_and_transition_is_decided() {
        let legal = [
            (S::Queued, T::Start, S::Running),
            (S::Running, T::Advance, S::Running),
            (S::Running, T::AwaitGate, S::NeedsApproval),
            (S::Queued, T::AwaitGate, S::NeedsApproval),
            (S::Queued, T::Halt, S::Paused),
            (S::Running, T::Halt, S::Paused),
            (S::Paused, T::Approve, S::Running),
            (S::Paused, T::Reject, S::Paused),
            (S::NeedsApproval, T::Approve, S::Running),
            (S::NeedsApproval, T::Reject, S::Paused),
            (S::NeedsApproval, T::Expire, S::Failed),
            (S::Paused, T::Resume, S::Running),
            (S::Running, T::Complete, S::Completed),
            (S::Running, T::Fail, S::Failed),
            (S::Queued, T::Cancel, S::Canceled),
            (S::Running, T::Cancel, S::Canceled),
            (S::NeedsApproval, T::Cancel, S::Canceled),
            (S::Paused, T::Cancel, S::Canceled),
        ];
        for from in PipelineStatus::ALL {
            for t in TRANSITIONS {
                let expected = legal
                    .iter()
                    .find(|(f, tr, _)| *f == from && *tr == t)
                    .map(|l| l.2);
                match (next(from, t), expected) {
                    (Ok(to), Some(want)) => assert_eq!(to, want, "{from:?} {t:?}"),
                    (Err(e), None) => {
                        assert!(!e.reason.is_empty());
                        assert_eq!((e.from, e.transition), (from, t));
                    }
                    (got, want) => panic!("{from:?} {t:?}: got {got:?}, expected {want:?}"),
                }
            }
        }
    }

    #[test]
    fn an_ended_pipeline_never_moves_and_says_so() {
        for ended in [S::Completed, S::Failed, S::Canceled] {
            for t in TRANSITIONS {
                let e = next(ended, t).expect_err("ended");
                assert_eq!(e.reason, "it has ended");
            }
        }
        assert_eq!(
            next(S::Completed, T::Cancel).expect_err("ended").to_string(),
            "cannot cancel a pipeline that is completed: it has ended"
        );
    }

    #[test]
    fn the_reject_resume_loop_returns_to_running() {
        let mut s = S::Queued;
        for t in [
            T::Start,
            T::AwaitGate,
            T::Reject,
            T::Resume,
            T::AwaitGate,
            T::Approve,
            T::Complete,
        ] {
            s = next(s, t).expect("legal");
        }
        assert_eq!(s, S::Completed);
        assert_eq!(
            next(S::Running, T::Approve).expect_err("no gate").to_string(),
            "cannot approve a pipeline that is running: it is not waiting for a decision"
        );
    }

    #[test]
    fn statuses_keep_the_seeds_strings() {
        let strings: Vec<&str> = PipelineStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            strings,
            [
                "queued",
                "running",
                "needs_approval",
                "paused",
                "completed",
                "failed",
                "canceled"
            ]
        );
        for s in PipelineStatus::ALL {
            assert_eq!(PipelineStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).expect("json"), s.as_str());
        }
        assert_eq!(PipelineStatus::parse("done"), None);
    }
}
