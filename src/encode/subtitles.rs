//! Captions written out: as WebVTT (a file beside the video) or as MPEG-4 timed text samples
//! (`mov_text`, a subtitle track in the MP4).

use crate::plan::captions::Cue;

/// Captions to store in the video as a subtitle track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Track {
    /// The captions, in order, not overlapping.
    pub cues: Vec<Cue>,
    /// ISO 639-2 language code.
    pub language: String,
    /// The video's length, ms: the track is filled with empty samples to there.
    pub end_ms: u64,
}

/// The captions as a WebVTT file (cue numbers from 1; `&`, `<` and `>` escaped).
pub fn to_vtt(cues: &[Cue]) -> String {
    let mut out = String::from("WEBVTT\n");
    for (i, c) in cues.iter().enumerate() {
        out.push_str(&format!(
            "\n{}\n{} --> {}\n{}\n",
            i + 1,
            vtt_time(c.start_ms),
            vtt_time(c.end_ms),
            c.text
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        ));
    }
    out
}

fn vtt_time(ms: u64) -> String {
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// One MPEG-4 timed text sample (3GPP TS 26.245): the text's length in bytes (16-bit big
/// endian) and its UTF-8 bytes, cut at a character boundary to fit. An empty text is the
/// "nothing on screen" sample that fills the gaps between captions.
pub fn mov_text_sample(text: &str) -> Vec<u8> {
    let mut end = text.len().min(usize::from(u16::MAX));
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = Vec::with_capacity(2 + end);
    out.extend_from_slice(&(end as u16).to_be_bytes());
    out.extend_from_slice(&text.as_bytes()[..end]);
    out
}

/// The timed text sample description (the `tx3g` box's fields after the sample entry
/// header), as FFmpeg's own `mov_text` encoder writes it by default: centred at the bottom,
/// no background, white sans-serif text, one font.
pub fn mov_text_extradata() -> Vec<u8> {
    const FONT: &[u8] = b"Sans-Serif";
    let mut d = Vec::with_capacity(64);
    d.extend_from_slice(&0u32.to_be_bytes()); // display flags
    d.push(0x01); // horizontal justification: centre
    d.push(0xFF); // vertical justification: bottom
    d.extend_from_slice(&[0, 0, 0, 0]); // background colour RGBA: none
    d.extend_from_slice(&[0; 8]); // default text box: top, left, bottom, right (the whole frame)
                                  // Default style: characters 0..0, font 1, no face style, 18 pt, white, opaque.
    d.extend_from_slice(&[0, 0, 0, 0, 0, 1, 0, 18, 0xFF, 0xFF, 0xFF, 0xFF]);
    // Font table: one entry, font 1.
    let ftab_len = 4 + 4 + 2 + 2 + 1 + FONT.len();
    d.extend_from_slice(&(ftab_len as u32).to_be_bytes());
    d.extend_from_slice(b"ftab");
    d.extend_from_slice(&1u16.to_be_bytes());
    d.extend_from_slice(&1u16.to_be_bytes());
    d.push(FONT.len() as u8);
    d.extend_from_slice(FONT);
    d
}

/// The samples of a whole subtitle track from 0 to `end_ms`: each caption, and empty samples
/// where none shows, so that the track covers the video. The empty tail is cut into samples
/// of at most 2 s: a muxer interleaving by time holds the other streams' packets until this
/// track's next sample is due, so the track must not stop long before the video does.
pub fn track_samples(cues: &[Cue], end_ms: u64) -> Vec<(u64, u64, Vec<u8>)> {
    const TAIL_STEP_MS: u64 = 2000;
    let mut out = Vec::new();
    let mut at = 0u64;
    for c in cues {
        let start = c.start_ms.max(at);
        let end = c.end_ms.min(end_ms);
        if end <= start {
            continue;
        }
        if start > at {
            out.push((at, start - at, mov_text_sample("")));
        }
        out.push((start, end - start, mov_text_sample(&c.text)));
        at = end;
    }
    while at < end_ms {
        let d = (end_ms - at).min(TAIL_STEP_MS);
        out.push((at, d, mov_text_sample("")));
        at += d;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vtt_has_header_times_and_escapes() {
        let cues = vec![
            Cue {
                start_ms: 1500,
                end_ms: 3_723_004,
                text: "Lift <slowly> & safely\nsecond line".into(),
            },
            Cue {
                start_ms: 3_723_004,
                end_ms: 3_723_999,
                text: "Done.".into(),
            },
        ];
        assert_eq!(
            to_vtt(&cues),
            "WEBVTT\n\n1\n00:00:01.500 --> 01:02:03.004\nLift &lt;slowly&gt; &amp; safely\n\
             second line\n\n2\n01:02:03.004 --> 01:02:03.999\nDone.\n"
        );
    }

    #[test]
    fn mov_text_samples_fill_the_track_and_the_tail_in_steps() {
        assert_eq!(mov_text_sample(""), [0, 0]);
        assert_eq!(mov_text_sample("Hé"), [0, 3, b'H', 0xC3, 0xA9]);
        let cues = vec![Cue {
            start_ms: 1000,
            end_ms: 2500,
            text: "One".into(),
        }];
        let s = track_samples(&cues, 7000);
        let times: Vec<(u64, u64)> = s.iter().map(|(t, d, _)| (*t, *d)).collect();
        assert_eq!(
            times,
            [
                (0, 1000),
                (1000, 1500),
                (2500, 2000),
                (4500, 2000),
                (6500, 500)
            ]
        );
        assert_eq!(s[1].2, mov_text_sample("One"));
        let ex = mov_text_extradata();
        assert_eq!(ex.len(), 30 + 23);
        assert_eq!(&ex[34..38], b"ftab");
    }
}
