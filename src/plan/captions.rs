//! Closed captions from the narration: the words cut into captions of at most two lines,
//! timed over the narration by their length, and written as WebVTT (beside the video) or as
//! MPEG-4 timed text samples (`mov_text`, a subtitle track in the MP4).
//!
//! The timing is an estimate: speech takes time roughly in proportion to its characters, so a
//! caption stays on screen for its share of the narration's characters (a sentence end counts
//! a few more, for the pause after it). Captions are cut at sentence ends, so a caption never
//! runs on into the next sentence, where the estimate would drift most.

/// One caption: on screen from `start_ms` to `end_ms` (milliseconds from the start of the
/// video), its lines joined by `\n`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cue {
    /// When it appears, ms.
    pub start_ms: u64,
    /// When it goes, ms (after `start_ms`).
    pub end_ms: u64,
    /// The lines, joined by `\n`.
    pub text: String,
}

/// Lines a caption holds at most.
pub const MAX_LINES: usize = 2;

/// Extra weight of a caption that ends a sentence, in characters: the pause after it
/// (espeak-ng at 160 words per minute speaks ~15 characters a second and pauses ~0.3 s).
const SENTENCE_PAUSE_CHARS: u64 = 5;

/// When a voice speaks: found from its loudness, to time the captions by the voice itself
/// where it can be heard (see [`cues`]). Milliseconds on the video's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Speech {
    /// Where the voice starts.
    pub onset_ms: u64,
    /// Silences inside the speech of at least [`PAUSE_MS`] (start, end): between sentences.
    pub pauses: Vec<(u64, u64)>,
}

/// Shortest silence taken for a pause between sentences, ms (words inside a sentence are
/// separated by less; espeak-ng pauses ~300 ms at a full stop).
pub const PAUSE_MS: u64 = 150;

/// A sentence boundary moves to a pause at most this far from where the characters put it.
const SNAP_MS: u64 = 700;

impl Speech {
    /// Reads `env` (level in dBFS of each 10 ms of the voice, from its first sample on the
    /// timeline at `start_ms`): speech is any 10 ms within 35 dB of the loudest (and above
    /// -60 dBFS); a pause is a quieter run of at least [`PAUSE_MS`] between speech. `None`
    /// when nothing is spoken.
    pub fn from_envelope(env: &[f32], start_ms: u64) -> Option<Speech> {
        const STEP: u64 = 10;
        let peak = env.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let floor = (peak - 35.0).max(-60.0);
        let loud: Vec<bool> = env.iter().map(|&d| d > floor).collect();
        let first = loud.iter().position(|&l| l)?;
        let last = loud.iter().rposition(|&l| l)?;
        let mut pauses = Vec::new();
        let mut i = first;
        while i <= last {
            if loud[i] {
                i += 1;
                continue;
            }
            let j = (i..=last).find(|&j| loud[j]).unwrap_or(last);
            if (j - i) as u64 * STEP >= PAUSE_MS {
                pauses.push((start_ms + i as u64 * STEP, start_ms + j as u64 * STEP));
            }
            i = j;
        }
        Some(Speech {
            onset_ms: start_ms + first as u64 * STEP,
            pauses,
        })
    }
}

/// Cuts `words` into captions of at most [`MAX_LINES`] lines of at most `max_chars`
/// characters (a longer word gets a line of its own) and spreads them over
/// `start_ms..end_ms`, each for its share of the characters. With `speech` (the voice's own
/// timing), the first caption appears when the voice starts and each new sentence's when the
/// voice resumes after the pause nearest to where the characters put it (within 0.7 s);
/// inside a sentence the characters decide. Captions follow each other without gaps; none is
/// empty. Nothing when there are no words or no time.
pub fn cues(
    words: &str,
    start_ms: u64,
    end_ms: u64,
    max_chars: usize,
    speech: Option<&Speech>,
) -> Vec<Cue> {
    let start_ms = match speech {
        Some(s) if s.onset_ms > start_ms && s.onset_ms < end_ms => s.onset_ms,
        _ => start_ms,
    };
    if end_ms <= start_ms {
        return Vec::new();
    }
    let max_chars = max_chars.max(1);
    // Sentences, each a list of captions (their lines).
    let mut sentences: Vec<Vec<Vec<String>>> = Vec::new();
    let mut blocks: Vec<Vec<String>> = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    let mut tokens = tokens(words, max_chars).into_iter().peekable();
    while let Some((word, spaced)) = tokens.next() {
        let gap = usize::from(spaced && !line.is_empty());
        let fits =
            line.is_empty() || line.chars().count() + gap + word.chars().count() <= max_chars;
        if !fits {
            lines.push(std::mem::take(&mut line));
            if lines.len() == MAX_LINES {
                blocks.push(std::mem::take(&mut lines));
            }
        }
        if spaced && !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
        if ends_sentence(word) && tokens.peek().is_some() {
            lines.push(std::mem::take(&mut line));
            blocks.push(std::mem::take(&mut lines));
            sentences.push(std::mem::take(&mut blocks));
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    if !lines.is_empty() {
        blocks.push(lines);
    }
    if !blocks.is_empty() {
        sentences.push(blocks);
    }
    for blocks in &mut sentences {
        for lines in blocks.iter_mut() {
            balance(lines, max_chars);
        }
    }
    let chars = |lines: &Vec<String>| -> u64 {
        (lines.iter().map(|l| l.chars().count()).sum::<usize>() + lines.len().saturating_sub(1))
            as u64
    };
    let weights: Vec<u64> = sentences
        .iter()
        .map(|s| s.iter().map(chars).sum::<u64>() + SENTENCE_PAUSE_CHARS)
        .collect();
    // Where each sentence ends: by characters, then moved to the voice's pauses.
    let mut ends = spread(start_ms, end_ms, &weights);
    if let Some(speech) = speech {
        let mut floor = start_ms;
        let mut pauses = speech.pauses.iter().peekable();
        let last = ends.len().saturating_sub(1);
        for end in ends.iter_mut().take(last) {
            while pauses.next_if(|p| p.1 <= floor).is_some() {}
            let near = pauses
                .clone()
                .take_while(|p| p.0 <= end.saturating_add(SNAP_MS))
                .filter(|p| p.1 + SNAP_MS >= *end && p.1 > floor && p.1 < end_ms)
                .min_by_key(|p| p.1.abs_diff(*end));
            if let Some(&(_, resume)) = near {
                *end = resume;
                while pauses.next_if(|p| p.1 <= resume).is_some() {}
            }
            *end = (*end).max(floor);
            floor = *end;
        }
    }
    let mut out = Vec::new();
    let mut at = start_ms;
    for (blocks, end) in sentences.into_iter().zip(ends) {
        let w: Vec<u64> = blocks.iter().map(chars).collect();
        for (lines, e) in blocks.into_iter().zip(spread(at, end, &w)) {
            if e > at {
                out.push(Cue {
                    start_ms: at,
                    end_ms: e,
                    text: lines.join("\n"),
                });
                at = e;
            }
        }
    }
    out
}

/// The pieces lines are made of, each with whether a space comes before it: the words, and
/// inside a word (text written without spaces, as Chinese or Japanese is) a break after each
/// sentence end and pieces of at most `max_chars` characters, so that such text is cut into
/// sentences and lines too.
fn tokens(words: &str, max_chars: usize) -> Vec<(&str, bool)> {
    let mut out = Vec::new();
    for word in words.split_whitespace() {
        let mut spaced = true;
        let mut rest = word;
        while !rest.is_empty() {
            let mut cut = rest.len();
            for (n, (i, c)) in rest.char_indices().enumerate() {
                if n == max_chars {
                    cut = i;
                    break;
                }
                if sentence_end(c) && !c.is_ascii() {
                    cut = i + c.len_utf8();
                    break;
                }
            }
            out.push((&rest[..cut], spaced));
            rest = &rest[cut..];
            spaced = false;
        }
    }
    out
}

/// Two lines re-cut to be as even as they can (the longer one as short as possible, the
/// lower one the longer on a tie): a caption reads more easily as two similar lines than as a
/// full line over a lone word. Lines stay within `max_chars` unless a word is longer.
fn balance(lines: &mut Vec<String>, max_chars: usize) {
    if lines.len() != 2 {
        return;
    }
    let words: Vec<&str> = lines.iter().flat_map(|l| l.split(' ')).collect();
    let len = |w: &[&str]| w.iter().map(|x| x.chars().count()).sum::<usize>() + w.len() - 1;
    let best = (1..words.len())
        .map(|k| (len(&words[..k]), len(&words[k..]), k))
        .filter(|&(a, b, _)| a <= max_chars && b <= max_chars)
        .min_by_key(|&(a, b, _)| (a.max(b), a > b));
    if let Some((_, _, k)) = best {
        *lines = vec![words[..k].join(" "), words[k..].join(" ")];
    }
}

/// The ends of consecutive spans of `start..end`, each for its share of `weights`.
fn spread(start: u64, end: u64, weights: &[u64]) -> Vec<u64> {
    let total = weights.iter().sum::<u64>().max(1);
    let span = u128::from(end.saturating_sub(start));
    let mut acc = 0u64;
    weights
        .iter()
        .map(|w| {
            acc += w;
            start + (span * u128::from(acc) / u128::from(total)) as u64
        })
        .collect()
}

/// `cues` sorted by start, each cut where the next begins (narrations may overlap over a
/// transition); captions left without time are dropped.
pub fn in_order(mut cues: Vec<Cue>) -> Vec<Cue> {
    cues.sort_by_key(|c| c.start_ms);
    let next: Vec<Option<u64>> = (0..cues.len())
        .map(|i| cues.get(i + 1).map(|c| c.start_ms))
        .collect();
    cues.into_iter()
        .zip(next)
        .filter_map(|(mut c, next)| {
            if let Some(n) = next {
                c.end_ms = c.end_ms.min(n);
            }
            (c.end_ms > c.start_ms).then_some(c)
        })
        .collect()
}

fn ends_sentence(word: &str) -> bool {
    let w = word.trim_end_matches(['"', '\'', ')', '\u{201d}', '\u{2019}']);
    w.chars().next_back().is_some_and(sentence_end)
}

/// A character that ends a sentence: . ! ? … and their full-width forms 。！？
fn sentence_end(c: char) -> bool {
    matches!(
        c,
        '.' | '!' | '?' | '\u{2026}' | '\u{3002}' | '\u{ff01}' | '\u{ff1f}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "Before you lift anything, check its weight and shape. Ask for help \
        with anything over twenty-five kilograms! Clear the route first.";

    #[test]
    fn captions_keep_every_word_in_order_within_two_lines_of_the_limit() {
        let cues = cues(TEXT, 1000, 9000, 32, None);
        let joined: Vec<&str> = cues
            .iter()
            .flat_map(|c| c.text.split_whitespace())
            .collect();
        let words: Vec<&str> = TEXT.split_whitespace().collect();
        assert_eq!(joined, words);
        for c in &cues {
            let lines: Vec<&str> = c.text.split('\n').collect();
            assert!(lines.len() <= MAX_LINES, "{c:?}");
            assert!(lines.iter().all(|l| l.chars().count() <= 32), "{c:?}");
        }
        // Cut at sentence ends: no caption holds the end of one sentence and the start of
        // the next.
        for c in &cues {
            let w: Vec<&str> = c.text.split_whitespace().collect();
            assert!(w[..w.len() - 1].iter().all(|x| !ends_sentence(x)), "{c:?}");
        }
    }

    #[test]
    fn captions_cover_the_narration_without_gaps_longer_ones_longer() {
        let cues = cues(TEXT, 1000, 9000, 42, None);
        assert_eq!(cues.first().map(|c| c.start_ms), Some(1000));
        assert_eq!(cues.last().map(|c| c.end_ms), Some(9000));
        for pair in cues.windows(2) {
            assert_eq!(pair[0].end_ms, pair[1].start_ms);
        }
        let short = cues.iter().min_by_key(|c| c.text.len()).unwrap();
        let long = cues.iter().max_by_key(|c| c.text.len()).unwrap();
        assert!(long.end_ms - long.start_ms > short.end_ms - short.start_ms);
        assert!(super::cues("   ", 0, 1000, 42, None).is_empty());
        assert!(super::cues("words", 500, 500, 42, None).is_empty());
        // Two lines are cut evenly, not a full line over a lone word.
        let c = super::cues(
            "This module covers safe lifting and manual handling.",
            0,
            1000,
            42,
            None,
        );
        assert_eq!(
            c[0].text,
            "This module covers safe\nlifting and manual handling."
        );
        // A word longer than a line is cut into lines.
        let c = super::cues("a supercalifragilisticexpialidocious b", 0, 1000, 20, None);
        let lines: Vec<&str> = c.iter().flat_map(|c| c.text.split('\n')).collect();
        assert_eq!(lines, ["a", "supercalifragilistic", "expialidocious b"]);
        // Text without spaces is cut at its sentence ends and into lines, no spaces added.
        let zh = "请先评估负载。检查它的重量、尺寸和形状，注意锋利的边缘或松动的物品，如果不确定就先轻轻试一下。";
        let c = super::cues(zh, 0, 4000, 20, None);
        assert_eq!(c[0].text, "请先评估负载。");
        assert!(
            c.iter()
                .all(|c| c.text.lines().all(|l| l.chars().count() <= 20)),
            "{c:?}"
        );
        let joined: String = c.iter().map(|c| c.text.replace('\n', "")).collect();
        assert_eq!(joined, zh);
    }

    #[test]
    fn the_voice_times_sentences_where_it_pauses_and_captions_start_when_it_speaks() {
        let mut env = vec![-90.0f32; 10];
        env.extend([-20.0; 50]);
        env.extend([-80.0; 20]); // 200 ms: a pause
        env.extend([-20.0; 30]);
        env.extend([-75.0; 5]); // 50 ms: between words, not a pause
        env.extend([-20.0; 30]);
        env.extend([-90.0; 5]);
        let speech = Speech::from_envelope(&env, 1000).unwrap();
        assert_eq!(speech.onset_ms, 1100);
        assert_eq!(speech.pauses, [(1600, 1800)]);
        assert_eq!(
            Speech::from_envelope(&[-99.0; 20], 0),
            None,
            "silence: nothing spoken"
        );
        // Two sentences over 1000..3000: by characters they would change at 1960; the voice
        // resumes at 1800, so the second caption appears then. The first appears at 1100.
        let two = "One two three four. Five six seven eight.";
        let by_chars = cues(two, 1000, 3000, 42, None);
        assert_eq!(by_chars[1].start_ms, 1960);
        let timed = cues(two, 1000, 3000, 42, Some(&speech));
        let times: Vec<(u64, u64)> = timed.iter().map(|c| (c.start_ms, c.end_ms)).collect();
        assert_eq!(times, [(1100, 1800), (1800, 3000)]);
        // A pause too far from the estimate (> 0.7 s) is not taken.
        let far = Speech {
            onset_ms: 1000,
            pauses: vec![(2750, 2900)],
        };
        assert_eq!(cues(two, 1000, 3000, 42, Some(&far))[1].start_ms, 1960);
    }
}
