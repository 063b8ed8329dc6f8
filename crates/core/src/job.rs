//! A durable job: one transition of one instance, written in the same transaction as
//! the change that caused it, and advanced by the lifecycle engine.

use serde::{Deserialize, Serialize};

use crate::document::Document;

use crate::instance::Product;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum JobState {
    /// Waiting for its due time or for a worker.
    Pending,
    /// Live, but held by a `manual` state-control rule until someone steps it.
    Parked,
    /// Leased by a worker.
    Running,
    Succeeded,
    Failed,
    /// Ended without running, because its reason went away (a term that renews itself
    /// or was unsubscribed no longer expires).
    Cancelled,
}

impl JobState {
    pub const ALL: [JobState; 6] = [
        JobState::Pending,
        JobState::Parked,
        JobState::Running,
        JobState::Succeeded,
        JobState::Failed,
        JobState::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Parked => "parked",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => JobState::Pending,
            "parked" => JobState::Parked,
            "running" => JobState::Running,
            "succeeded" => JobState::Succeeded,
            "failed" => JobState::Failed,
            "cancelled" => JobState::Cancelled,
            _ => return None,
        })
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobState::Succeeded | JobState::Failed | JobState::Cancelled
        )
    }

    /// A live job stands behind its instance's transitional status.
    pub fn is_live(self) -> bool {
        !self.is_terminal()
    }

    /// The only moves a job may make. A running job may go back to pending when its
    /// worker gives it up (retry), and a running job whose lease expired is re-claimed.
    /// A parked job becomes pending only when stepped; workers never claim it.
    pub fn can_become(self, next: JobState) -> bool {
        use JobState::*;
        matches!(
            (self, next),
            (Pending, Running)
                | (Parked, Pending)
                | (Running, Running)
                | (Running, Pending)
                | (Running, Succeeded)
                | (Running, Failed)
                | (Pending, Cancelled)
                | (Parked, Cancelled)
                | (Running, Cancelled)
        )
    }
}

/// What the instance becomes when the job succeeds, and when it fails.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobOutcome {
    pub status: String,
    /// The product document after the change; `None` keeps the current one.
    pub doc: Option<Document>,
    /// The instance is released: it disappears from reads.
    pub remove: bool,
    /// What the instance shows when the job fails for good. `None` only on jobs stored
    /// before failure outcomes existed; their instance keeps its status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<FailedOutcome>,
    /// Why the job failed. Set at creation by a `fail` state-control rule, it is the
    /// failure the job ends in when it runs. Kept here, in the job's stored outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<JobError>,
}

impl JobOutcome {
    /// The instance becomes `status` (and `doc`, when given) on success, `on_failure` on failure.
    pub fn new(
        status: impl Into<String>,
        doc: Option<Document>,
        on_failure: FailedOutcome,
    ) -> Self {
        Self {
            status: status.into(),
            doc,
            remove: false,
            on_failure: Some(on_failure),
            error: None,
        }
    }

    /// The same outcome, releasing the instance on success.
    pub fn releasing(self) -> Self {
        Self {
            remove: true,
            ..self
        }
    }
}

/// The status a product shows when an operation fails, and the document it goes back to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailedOutcome {
    pub status: String,
    /// The document to restore (the one before a change); `None` keeps the current one.
    pub doc: Option<Document>,
}

impl FailedOutcome {
    pub fn new(status: impl Into<String>, doc: Option<Document>) -> Self {
        Self {
            status: status.into(),
            doc,
        }
    }
}

/// A job's failure, in the product's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobError {
    pub code: String,
    pub message: String,
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
        match self.state {
            JobState::Succeeded => return 100,
            JobState::Parked => return 0,
            _ => {}
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
        for from in [Succeeded, Failed, Cancelled] {
            assert!(!from.is_live());
            for to in JobState::ALL {
                assert!(!from.can_become(to), "{from:?} -> {to:?}");
            }
        }
        assert!(Pending.can_become(Running));
        assert!(!Pending.can_become(Succeeded));
    }

    #[test]
    fn a_parked_job_is_live_and_moves_only_when_stepped() {
        use JobState::*;
        assert!(Parked.is_live());
        assert!(Parked.can_become(Pending));
        for to in [Running, Succeeded, Failed] {
            assert!(!Parked.can_become(to), "Parked -> {to:?}");
        }
        assert!(!Pending.can_become(Parked));
    }

    #[test]
    fn outcomes_stored_before_failure_outcomes_still_load() {
        let old: JobOutcome =
            serde_json::from_str(r#"{"status":"running","doc":null,"remove":false}"#).unwrap();
        assert_eq!(old.on_failure, None);
        assert_eq!(old.error, None);
        let new = JobOutcome::new("running", None, FailedOutcome::new("creating_failed", None));
        let back: JobOutcome = serde_json::from_str(&serde_json::to_string(&new).unwrap()).unwrap();
        assert_eq!(back, new);
    }

    #[test]
    fn state_names_round_trip() {
        for s in JobState::ALL {
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
            outcome: JobOutcome::new("running", None, FailedOutcome::new("creating_failed", None)),
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
        job.state = JobState::Parked;
        assert_eq!(job.progress(1500), 0);
        job.state = JobState::Succeeded;
        assert_eq!(job.progress(1500), 100);
    }
}
