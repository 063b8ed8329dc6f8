//! A durable job: one transition of one instance, written in the same transaction as
//! the change that caused it, and advanced by the lifecycle engine.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::instance::Product;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum JobState {
    /// Waiting for its due time or for a worker.
    Pending,
    /// Leased by a worker.
    Running,
    Succeeded,
    Failed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => JobState::Pending,
            "running" => JobState::Running,
            "succeeded" => JobState::Succeeded,
            "failed" => JobState::Failed,
            _ => return None,
        })
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, JobState::Succeeded | JobState::Failed)
    }

    /// The only moves a job may make. A running job may go back to pending when its
    /// worker gives it up (retry), and a running job whose lease expired is re-claimed.
    pub fn can_become(self, next: JobState) -> bool {
        use JobState::*;
        matches!(
            (self, next),
            (Pending, Running)
                | (Running, Running)
                | (Running, Pending)
                | (Running, Succeeded)
                | (Running, Failed)
        )
    }
}

/// What the instance becomes when the job succeeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobOutcome {
    pub status: String,
    /// The product document after the change; `None` keeps the current one.
    pub doc: Option<Value>,
    /// The instance is released: it disappears from reads.
    pub remove: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: String,
    pub account_id: String,
    pub product: Product,
    pub instance_id: String,
    /// The operation that caused it, as the product names it (`CreateInstance`, `ModifyCu`, ...).
    pub operation: String,
    pub state: JobState,
    pub outcome: JobOutcome,
    pub created_ms: i64,
    /// When the transition completes.
    pub due_ms: i64,
    pub finished_ms: Option<i64>,
    /// How many times a worker claimed the job; more than one means a retry or a
    /// takeover after a lease expired, never two workers at once.
    pub attempts: i32,
    /// The worker holding the lease; on a finished job, the worker that finished it.
    pub lease_owner: Option<String>,
    pub lease_until_ms: i64,
}

impl Job {
    /// Percentage done, by elapsed time, for progress displays.
    pub fn progress(&self, now_ms: i64) -> i64 {
        if self.state == JobState::Succeeded {
            return 100;
        }
        let span = (self.due_ms - self.created_ms).max(1);
        ((now_ms - self.created_ms).clamp(0, span) * 99 / span).min(99)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_states_never_move() {
        use JobState::*;
        for from in [Succeeded, Failed] {
            for to in [Pending, Running, Succeeded, Failed] {
                assert!(!from.can_become(to), "{from:?} -> {to:?}");
            }
        }
        assert!(Pending.can_become(Running));
        assert!(!Pending.can_become(Succeeded));
    }

    #[test]
    fn state_names_round_trip() {
        use JobState::*;
        for s in [Pending, Running, Succeeded, Failed] {
            assert_eq!(JobState::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn progress_is_capped_until_done() {
        let mut job = Job {
            id: "j".into(),
            account_id: "a".into(),
            product: Product::StarRocks,
            instance_id: "c".into(),
            operation: "CreateInstance".into(),
            state: JobState::Pending,
            outcome: JobOutcome {
                status: "running".into(),
                doc: None,
                remove: false,
            },
            created_ms: 1000,
            due_ms: 2000,
            finished_ms: None,
            attempts: 0,
            lease_owner: None,
            lease_until_ms: 0,
        };
        assert_eq!(job.progress(1000), 0);
        assert_eq!(job.progress(1500), 49);
        assert_eq!(job.progress(5000), 99);
        job.state = JobState::Succeeded;
        assert_eq!(job.progress(1500), 100);
    }
}
