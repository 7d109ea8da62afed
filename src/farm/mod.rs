//! One render spread over many machines (a *render farm*): a coordinator plans, workers
//! render the plan's units, the coordinator joins them.
//!
//! - Units: the audio (mixed, mastered and encoded once for the whole timeline) and the
//!   video's ranges ([`crate::plan::Plan::ranges`]: a segment per scene, long scenes cut into
//!   chunks of `chunk_s`), each named by what it shows (the scene and audio caches' keys),
//!   so that a unit rendered twice writes the same object and the store is a cache shared
//!   by every machine. The ranges depend on the plan, never on the number of workers.
//! - The broker: Redis Streams with a consumer group ([`broker`]), at-least-once delivery
//!   with a lease per unit renewed by heartbeats, taken over by another worker when its
//!   worker dies, deliveries capped, a cancel flag, an event stream per render.
//! - The store: a shared folder or S3-compatible storage ([`store`]), write-once.
//!
//! `reelsmith worker` runs [`worker::run`]; `reelsmith render --broker` runs
//! [`coordinator::render`].

pub mod broker;
pub mod coordinator;
mod error;
pub mod store;
pub mod unit;
pub mod worker;

pub use coordinator::{render, render_plan, Farm};

/// The chunk length a farm render uses unless told otherwise (`--chunk`), seconds: long
/// enough that x264's start-up and the seams cost little, short enough that a 3-minute
/// scene spreads over 18 workers.
pub const CHUNK_S: f64 = 10.0;
pub use error::FarmError;
pub use store::Store;
pub use worker::{WorkerEvent, WorkerOptions};
