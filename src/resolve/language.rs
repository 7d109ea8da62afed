//! A spec's `language`: what a BCP 47 tag sets — the default narration voice (an espeak-ng
//! voice), the captions' and audio's ISO 639-2 code, and the text direction.

/// What a language sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Language {
    /// The espeak-ng voice a text narration speaks with when it names none.
    pub voice: &'static str,
    /// ISO 639-2/T code, as MP4 tracks store it.
    pub iso639_2: &'static str,
    /// Written right to left.
    pub rtl: bool,
}

/// (primary subtag, region or "" for any, espeak-ng voice, ISO 639-2/T, right to left)
const TABLE: &[(&str, &str, &str, &str, bool)] = &[
    ("en", "gb", "en-gb", "eng", false),
    ("en", "", "en-us", "eng", false),
    ("de", "", "de", "deu", false),
    ("fr", "ca", "fr-fr", "fra", false),
    ("fr", "ch", "fr-ch", "fra", false),
    ("fr", "be", "fr-be", "fra", false),
    ("fr", "", "fr-fr", "fra", false),
    ("es", "", "es", "spa", false),
    ("it", "", "it", "ita", false),
    ("pt", "br", "pt-br", "por", false),
    ("pt", "", "pt", "por", false),
    ("nl", "", "nl", "nld", false),
    ("sv", "", "sv", "swe", false),
    ("da", "", "da", "dan", false),
    ("nb", "", "nb", "nob", false),
    ("no", "", "nb", "nor", false),
    ("fi", "", "fi", "fin", false),
    ("pl", "", "pl", "pol", false),
    ("cs", "", "cs", "ces", false),
    ("sk", "", "sk", "slk", false),
    ("hu", "", "hu", "hun", false),
    ("ro", "", "ro", "ron", false),
    ("el", "", "el", "ell", false),
    ("tr", "", "tr", "tur", false),
    ("ru", "", "ru", "rus", false),
    ("uk", "", "uk", "ukr", false),
    ("bg", "", "bg", "bul", false),
    ("hr", "", "hr", "hrv", false),
    ("sr", "", "sr", "srp", false),
    ("ar", "", "ar", "ara", true),
    ("he", "", "he", "heb", true),
    ("fa", "", "fa", "fas", true),
    ("ur", "", "ur", "urd", true),
    ("hi", "", "hi", "hin", false),
    ("bn", "", "bn", "ben", false),
    ("ta", "", "ta", "tam", false),
    ("ja", "", "ja", "jpn", false),
    ("zh", "", "cmn", "zho", false),
    ("ko", "", "ko", "kor", false),
    ("vi", "", "vi", "vie", false),
    ("th", "", "th", "tha", false),
    ("id", "", "id", "ind", false),
    ("ms", "", "ms", "msa", false),
    ("sw", "", "sw", "swa", false),
];

/// The language a BCP 47 tag names (`en`, `en-GB`, `pt_BR`, `ar-EG`; case is ignored);
/// `None` for a language the table does not know.
pub fn lookup(tag: &str) -> Option<Language> {
    let tag = tag.trim().to_ascii_lowercase().replace('_', "-");
    let mut parts = tag.split('-');
    let primary = parts.next()?;
    let region = parts.find(|p| p.len() == 2).unwrap_or("");
    TABLE
        .iter()
        .find(|(p, r, ..)| *p == primary && (r.is_empty() || *r == region))
        .map(|&(_, _, voice, iso639_2, rtl)| Language {
            voice,
            iso639_2,
            rtl,
        })
}

/// The primary subtags the table knows, for error messages.
pub fn known() -> String {
    let mut v: Vec<&str> = TABLE.iter().map(|t| t.0).collect();
    v.dedup();
    v.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_name_voices_codes_and_directions() {
        assert_eq!(lookup("en").unwrap().voice, "en-us");
        assert_eq!(lookup("en-GB").unwrap().voice, "en-gb");
        assert_eq!(lookup("pt_BR").unwrap().voice, "pt-br");
        assert_eq!(lookup("de-AT").unwrap().iso639_2, "deu");
        assert!(lookup("ar-EG").unwrap().rtl && lookup("he").unwrap().rtl);
        assert!(!lookup("ja").unwrap().rtl);
        assert_eq!(lookup("zh-Hans-CN").unwrap().voice, "cmn");
        assert!(lookup("xx").is_none() && lookup("").is_none());
    }
}
