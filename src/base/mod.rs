//! Foundations that know nothing of videos: the environment's failures (a full disk, a
//! read-only folder), giving memory back, pixel buffers, and folders kept under a size.

pub mod env;
pub mod hash;
pub mod lru;
pub mod memory;
pub mod raster;
