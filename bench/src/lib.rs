//! The pure parts of the load generator: requests built and signed exactly as the SDKs build
//! them (fresh date and nonce every time), the ids read back from answers, and the latency
//! summary; and the HTTP/1.1 connection the load generator drives them over. The binaries
//! (`cloudtwin-loadgen`, `noop-server`) add the runs.

pub mod http1;
pub mod request;
pub mod stats;

pub use request::{Api, Op, Request, Signer};
pub use stats::{Summary, Tally};
