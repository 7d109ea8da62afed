//! Values whose syntax is richer than JSON: colours and lengths.

use crate::plan::Rgba;
use crate::spec::Length;

/// A colour or length that does not parse. Its message (`Display`) names the value and the
/// accepted forms, as validation reports it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ValueError {
    /// Not one of the colour forms.
    Color(String),
    /// Not a number of pixels or a percentage.
    Length(String),
    /// A length beyond ±100000 px.
    LengthRange(f64),
}

impl std::fmt::Display for ValueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ValueError::Color(s) => {
                write!(f, "invalid colour {s:?} (expected #RRGGBB or #RRGGBBAA)")
            }
            ValueError::Length(s) => write!(
                f,
                "invalid length {s:?} (expected pixels like 120 or \"120px\", or a percentage like \"50%\")"
            ),
            ValueError::LengthRange(v) => {
                write!(f, "length {v} is out of range (expected -100000..=100000 px)")
            }
        }
    }
}

impl std::error::Error for ValueError {}

/// Parses `#RGB`, `#RGBA`, `#RRGGBB`, `#RRGGBBAA` or one of `white`, `black`, `transparent`.
///
/// # Errors
/// [`ValueError`], naming the value and the accepted forms.
pub fn parse_color(s: &str) -> Result<Rgba, ValueError> {
    let bad = || ValueError::Color(s.to_string());
    match s.to_ascii_lowercase().as_str() {
        "white" => return Ok([255, 255, 255, 255]),
        "black" => return Ok([0, 0, 0, 255]),
        "transparent" => return Ok([0, 0, 0, 0]),
        _ => {}
    }
    let hex = s.strip_prefix('#').ok_or_else(bad)?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad());
    }
    let digit = |i: usize| u8::from_str_radix(&hex[i..=i], 16).unwrap_or(0);
    let pair = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0);
    match hex.len() {
        3 | 4 => {
            let mut c = [255u8; 4];
            for (i, v) in c.iter_mut().enumerate().take(hex.len()) {
                *v = digit(i) * 17;
            }
            Ok(c)
        }
        6 | 8 => {
            let mut c = [255u8; 4];
            for (i, v) in c.iter_mut().enumerate().take(hex.len() / 2) {
                *v = pair(i * 2);
            }
            Ok(c)
        }
        _ => Err(bad()),
    }
}

/// Converts a [`Length`] to pixels; percentages are of `frame_side`.
///
/// # Errors
/// [`ValueError`], naming the value and the accepted forms.
pub fn parse_length(l: &Length, frame_side: f64) -> Result<f64, ValueError> {
    let v = match l {
        Length::Px(v) => *v,
        Length::Str(s) => {
            let t = s.trim();
            let bad = || ValueError::Length(s.clone());
            if let Some(p) = t.strip_suffix('%') {
                p.trim().parse::<f64>().map_err(|_| bad())? / 100.0 * frame_side
            } else if let Some(p) = t.strip_suffix("px") {
                p.trim().parse::<f64>().map_err(|_| bad())?
            } else {
                t.parse::<f64>().map_err(|_| bad())?
            }
        }
    };
    if !v.is_finite() || v.abs() > 100_000.0 {
        return Err(ValueError::LengthRange(v));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colors_parse() {
        assert_eq!(parse_color("#FF8000"), Ok([255, 128, 0, 255]));
        assert_eq!(parse_color("#ff800080"), Ok([255, 128, 0, 128]));
        assert_eq!(parse_color("#fff"), Ok([255, 255, 255, 255]));
        assert_eq!(parse_color("#0008"), Ok([0, 0, 0, 136]));
        assert_eq!(parse_color("white"), Ok([255, 255, 255, 255]));
        assert!(parse_color("FF8000").is_err());
        assert!(parse_color("#GG0000").is_err());
        assert!(parse_color("#12345").is_err());
    }

    #[test]
    fn lengths_parse() {
        assert_eq!(parse_length(&Length::Px(12.0), 100.0), Ok(12.0));
        assert_eq!(parse_length(&Length::Str("25%".into()), 1920.0), Ok(480.0));
        assert_eq!(parse_length(&Length::Str("30px".into()), 1920.0), Ok(30.0));
        assert!(parse_length(&Length::Str("30em".into()), 1920.0).is_err());
    }

    #[test]
    fn errors_say_what_was_expected() {
        assert_eq!(
            parse_color("red").unwrap_err().to_string(),
            "invalid colour \"red\" (expected #RRGGBB or #RRGGBBAA)"
        );
        assert_eq!(
            parse_length(&Length::Str("3em".into()), 10.0)
                .unwrap_err()
                .to_string(),
            "invalid length \"3em\" (expected pixels like 120 or \"120px\", or a percentage like \"50%\")"
        );
        assert_eq!(
            parse_length(&Length::Px(2e5), 10.0)
                .unwrap_err()
                .to_string(),
            "length 200000 is out of range (expected -100000..=100000 px)"
        );
    }
}
