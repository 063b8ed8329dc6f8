//! cloudtwin's core domain: accounts, instances, jobs and the lifecycle state machine.
//! Pure: no HTTP, no SQL, no clocks or randomness of its own (both are injected).

pub mod account;
pub mod billing;
pub mod body;
pub mod clock;
pub mod control;
pub mod document;
pub mod faults;
pub mod ids;
pub mod instance;
pub mod job;
pub mod lifecycle;
pub mod prehashed;
pub mod secret;

pub use account::{AccessKey, Account, Caller, KeyResolver, LookupError, NonceLedger, ResolvedKey};
pub use body::Body;
pub use clock::{Clock, ManualClock, SystemClock};
pub use control::{JobPlan, KnownOperations, Mode, Rule, StateControl};
pub use document::Document;
pub use faults::{
    Answer, CallHooks, FaultDecision, FaultError, FaultRule, FaultSpec, Faults, NoHooks,
};
pub use ids::{lower_hex, IdSource, RandomIds};
pub use instance::{Instance, Product, Tag};
pub use job::{FailedOutcome, Job, JobError, JobOutcome, JobState};
pub use lifecycle::{Lifecycle, TransitionKind};
pub use secret::{MasterKey, SecretError};
