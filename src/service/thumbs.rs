//! A render's thumbnails and contact sheet (`output.thumbnails`), served from the folder the
//! render wrote beside its video (`videos/<id>.thumbs/`), found through the render's report.

use serde_json::{json, Value};

/// Which picture of a render's thumbnails folder.
#[derive(Debug, Clone, Copy)]
pub(super) enum Which {
    /// The contact sheet.
    Sheet,
    /// Scene `n`'s thumbnail, from 1.
    Scene(usize),
}

/// A plain file name (no folder, no `..`), as the renders name them.
fn plain(name: &str) -> Option<&str> {
    let ok = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    ok.then_some(name)
}

/// The file of `which` in a render's report (its `thumbnails`), and its media type.
pub(super) fn file_of(report: &Value, which: Which) -> Option<(String, &'static str)> {
    let t = report.get("thumbnails")?;
    let media = match t["media_type"].as_str()? {
        "image/png" => "image/png",
        _ => "image/jpeg",
    };
    let name = match which {
        Which::Sheet => t["sheet"].as_str()?,
        Which::Scene(n) => t["files"]
            .as_array()?
            .get(n.checked_sub(1)?)?
            .get("file")?
            .as_str()?,
    };
    Some((plain(name)?.to_string(), media))
}

/// Adds the links to a done render's sheet and thumbnails (`sheet`, `thumbnails`: one per
/// scene) when its report lists them.
pub(super) fn add_links(links: &mut Value, base: &str, report: Option<&Value>) {
    let Some(t) = report.and_then(|r| r.get("thumbnails")) else {
        return;
    };
    if t["sheet"].is_string() {
        links["sheet"] = json!(format!("{base}/sheet"));
    }
    let n = t["files"].as_array().map_or(0, Vec::len);
    if n > 0 {
        links["thumbnails"] = json!((1..=n)
            .map(|i| format!("{base}/thumbnails/{i}"))
            .collect::<Vec<_>>());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_come_from_the_report_and_stay_in_the_folder() {
        let report = json!({"thumbnails": {"media_type": "image/png", "sheet": "sheet.png",
            "files": [{"file": "01-intro.png"}, {"file": "../../etc/passwd"}]}});
        assert_eq!(
            file_of(&report, Which::Sheet),
            Some(("sheet.png".into(), "image/png"))
        );
        assert_eq!(
            file_of(&report, Which::Scene(1)).map(|f| f.0),
            Some("01-intro.png".into())
        );
        assert_eq!(file_of(&report, Which::Scene(2)), None);
        assert_eq!(file_of(&report, Which::Scene(0)), None);
        assert_eq!(file_of(&report, Which::Scene(3)), None);
        assert_eq!(file_of(&json!({}), Which::Sheet), None);
        let mut links = json!({});
        add_links(&mut links, "/v1/renders/r_1", Some(&report));
        assert_eq!(links["sheet"], "/v1/renders/r_1/sheet");
        assert_eq!(links["thumbnails"][1], "/v1/renders/r_1/thumbnails/2");
    }
}
