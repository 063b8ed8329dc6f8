//! Provisioners do the real work of a transition. `Simulated` does none: the job's
//! due time is the whole of it. A Kubernetes provisioner will come beside it.

use async_trait::async_trait;
use cloudtwin_core::{Instance, Job};

#[async_trait]
pub trait Provisioner: Send + Sync + 'static {
    /// Carries out the job's transition; an error is retried with backoff.
    async fn advance(&self, job: &Job, instance: &Instance) -> Result<(), String>;

    /// Whether a job due at once must still go through a worker. When not, a new
    /// instance's instant job is settled in the commit that creates it.
    fn needs_worker(&self) -> bool {
        true
    }
}

/// Timed transitions and nothing else.
#[derive(Debug, Default, Clone, Copy)]
pub struct Simulated;

#[async_trait]
impl Provisioner for Simulated {
    async fn advance(&self, _job: &Job, _instance: &Instance) -> Result<(), String> {
        Ok(())
    }

    /// Nothing to carry out: the due time is the whole transition.
    fn needs_worker(&self) -> bool {
        false
    }
}
