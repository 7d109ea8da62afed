//! Sound: the tracks mixed into one stereo timeline ([`mix`]) and mastered to a loudness
//! target under a true-peak ceiling ([`master`]).

pub mod master;
pub mod mix;
