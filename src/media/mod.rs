//! Everything read from media files, in-process through libav: stream facts ([`probe`]),
//! clips as pictures ([`clip`]) and as sound ([`clip_audio`]), decoded audio files and their
//! levels ([`sound`]), pictures ([`image`]), the one YUV→RGB conversion ([`yuv`]), and
//! narration spoken by espeak-ng ([`tts`]).

pub mod clip;
pub mod clip_audio;
pub mod error;
pub mod image;
pub mod load;
pub mod probe;
pub mod sound;
pub mod tts;
pub mod yuv;

pub use probe::init;
