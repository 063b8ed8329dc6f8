//! The pure parts of the load generator: requests built and signed exactly as the SDKs build
//! them (fresh date and nonce every time), the ids read back from answers, and the latency
//! summary. The binaries (`cloudtwin-loadgen`, `noop-server`) add the I/O.

pub mod request;
pub mod stats;

pub use request::{Api, Op, Request, Signer};
pub use stats::{Summary, Tally};
