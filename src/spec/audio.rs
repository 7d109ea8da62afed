//! Audio: the tracks mixed under the video, their fades, ducking and loudness target.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;

/// Audio mixed under the video.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Audio {
    /// Tracks, summed. The mix is 48 kHz stereo; mono sources play on both channels.
    #[serde(default)]
    pub tracks: Vec<AudioTrack>,
    /// Normalise the final mix to `target_lufs` (EBU R128 integrated loudness). Default: true.
    #[serde(default = "yes")]
    pub normalize: bool,
    /// Target integrated loudness, LUFS, -40..=-5. Default: -16 (web and mobile; broadcast
    /// uses -23).
    #[serde(default = "default_target_lufs")]
    pub target_lufs: f64,
    /// True-peak ceiling, dBTP, -9..=0: a look-ahead limiter keeps the audio under it (with
    /// 2 dB of room for inter-sample peaks and the AAC encoder), whether or not it is normalised. Default: -1.
    #[serde(default = "default_true_peak")]
    pub true_peak_db: f64,
}

/// Shape of an audio fade.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FadeCurve {
    /// Gain proportional to time.
    #[default]
    Linear,
    /// Equal power (sine): sounds even when fading one sound into another.
    EqualPower,
    /// Linear in decibels over 60 dB: sounds like a steady fade to the ear.
    Exponential,
}

impl FadeCurve {
    /// Gains (incoming, outgoing) at fraction `w` of a crossfade.
    pub fn crossfade(self, w: f32) -> (f32, f32) {
        (self.gain(w), self.gain(1.0 - w))
    }

    /// Gain at fraction `x` (0..=1) of the fade.
    pub fn gain(self, x: f32) -> f32 {
        let x = x.clamp(0.0, 1.0);
        match self {
            FadeCurve::Linear => x,
            FadeCurve::EqualPower => (x * std::f32::consts::FRAC_PI_2).sin(),
            FadeCurve::Exponential if x == 0.0 => 0.0,
            FadeCurve::Exponential => 10f32.powf(3.0 * (x - 1.0)),
        }
    }
}

/// What an audio track is, for the mix: narration drives the ducking of tracks that ask for it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AudioRole {
    /// Background music (the default for `audio.tracks`).
    #[default]
    Music,
    /// Voice: while any narration plays, tracks with `duck` are lowered.
    Narration,
    /// Sound effects.
    Effect,
}

/// Lowering a track while narration plays, driven by the narration timeline (scene
/// narrations and tracks with `"role": "narration"`), not guessed from levels.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Duck {
    /// How far the track drops, in dB, 0..=60. Default: 12.
    #[serde(default = "default_duck_db")]
    pub by_db: f64,
    /// Seconds over which it drops; the drop ends as the narration starts. Default: 0.3.
    #[serde(default = "default_attack")]
    pub attack: f64,
    /// Seconds over which it recovers after the narration ends. Default: 0.6.
    #[serde(default = "default_release")]
    pub release: f64,
    /// What drives it: `narration` (the narration timeline) or `level` (the measured level
    /// of the other tracks that are neither music nor ducked: for voices that are not marked
    /// as narration). Default: `narration`.
    #[serde(default)]
    pub source: DuckSource,
    /// With `"source": "level"`: the level (dBFS RMS over 10 ms) above which the other tracks
    /// count as speaking, -80..=0. Default: -40.
    #[serde(default = "default_threshold")]
    pub threshold_db: f64,
}

/// What drives ducking.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DuckSource {
    /// The declared narration timeline (scene narrations, narration tracks).
    #[default]
    Narration,
    /// The measured level of the other non-music, non-ducked tracks (a sidechain).
    Level,
}

/// One audio source placed on the timeline. In `audio.tracks` times are from the start of
/// the video; as a scene's `narration` they are from the start of that scene, so moving a
/// scene moves its voice.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AudioTrack {
    /// Audio file: WAV, MP3, AAC/M4A, FLAC, Ogg Vorbis/Opus or anything else libav decodes,
    /// any rate (resampled to 48 kHz) and channel count (mono plays in the centre; more than
    /// two channels are downmixed to stereo). Give either `src` or `text`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-reelsmith-file" = "audio_track.src"))]
    pub src: Option<String>,
    /// Words to speak instead of a file (at most 5000 characters): synthesised locally with
    /// espeak-ng and cached by content under `<media root>/assets/audio/tts/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Narrations only: the words spoken, for the closed captions (see `output.captions`).
    /// A narration from a file is captioned only with this; a text narration is captioned
    /// with its `text` unless this gives other words (or `""` for none). At most 5000
    /// characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// With `text`: the espeak-ng voice, e.g. `en-us`, `en-gb`, `de`, `en-us+f3`.
    /// Default: `en-us`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<String>,
    /// With `text`: speaking rate in words per minute, 80..=450. Default: 160.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<u32>,
    /// With `text`: pitch, 0..=99. Default: 50.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pitch: Option<u32>,
    /// When the track starts, in seconds (from the start of the video, or of the scene for a
    /// scene's narration). Default: 0.
    #[serde(default)]
    pub start: f64,
    /// Seconds to skip at the beginning of the file. Default: 0.
    #[serde(default)]
    pub trim: f64,
    /// What the track is. Default: `music` in `audio.tracks`; a scene's `narration` is always
    /// narration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<AudioRole>,
    /// Lower this track while narration plays. Default: not ducked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duck: Option<Duck>,
    /// Stereo position, -1 (left) ..= 1 (right), constant-power. Default: 0.
    #[serde(default)]
    pub pan: f64,
    /// How long it plays, in seconds. Default: the file's length, or with `loop` until the end
    /// of the video. Everything is cut at the end of the video.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// Gain in dB, -60..=+24. Default: 0.
    #[serde(default)]
    pub volume_db: f64,
    /// Fade-in length in seconds. Default: 0.
    #[serde(default)]
    pub fade_in: f64,
    /// Fade-out length in seconds, ending where the track ends. Default: 0.
    #[serde(default)]
    pub fade_out: f64,
    /// Repeat the file to fill `duration` (or the rest of the video). Default: false.
    #[serde(default, rename = "loop")]
    pub looped: bool,
    /// With `loop`: seconds over which the end of the file crossfades (equal power) into
    /// its start at each repeat, for files that do not loop seamlessly, 0..=10 (at most half
    /// the file). Default: 0.
    #[serde(default)]
    pub loop_crossfade: f64,
    /// Shape of `fade_in` and `fade_out`. Default: `linear`.
    #[serde(default)]
    pub fade_curve: FadeCurve,
}

fn default_threshold() -> f64 {
    -40.0
}

fn default_duck_db() -> f64 {
    12.0
}
fn default_attack() -> f64 {
    0.3
}
fn default_release() -> f64 {
    0.6
}
