//! cloudtwin's core domain: accounts, instances, jobs and the lifecycle state machine.
//! Pure: no HTTP, no SQL, no clocks or randomness of its own (both are injected).

pub mod account;
pub mod billing;
pub mod clock;
pub mod ids;
pub mod instance;
pub mod job;
pub mod lifecycle;
pub mod secret;

pub use account::{AccessKey, Account, Caller, KeyResolver, ResolvedKey};
pub use clock::{Clock, ManualClock, SystemClock};
pub use ids::{IdSource, RandomIds};
pub use instance::{Instance, Product, Tag};
pub use job::{Job, JobOutcome, JobState};
pub use lifecycle::{Lifecycle, TransitionKind};
pub use secret::{MasterKey, SecretError};
