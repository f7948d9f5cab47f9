//! The one-line edit `bench watch` and its `cargo xtask build` run both time: the status
//! code the handler answers with, 201 and 202 in turn, so every edit is a real change whose
//! answer shows it.

/// The two status codes the edits set, in turn.
const EDITS: [u16; 2] = [201, 202];

/// The handler's status code: the number after the first `status_code: ` that is followed
/// by a digit (the value in `echo`, not the field's declaration).
fn status_code_span(text: &str) -> Option<(usize, usize)> {
    let start = text
        .match_indices("status_code: ")
        .map(|(i, m)| i + m.len())
        .find(|&i| text[i..].starts_with(|c: char| c.is_ascii_digit()))?;
    let len = text[start..].find(|c: char| !c.is_ascii_digit())?;
    Some((start, start + len))
}

/// The edit after `current`: 201, 202, 201, … so each one changes the answer.
pub(super) fn next_edit(current: Option<u16>) -> u16 {
    if current == Some(EDITS[0]) {
        EDITS[1]
    } else {
        EDITS[0]
    }
}

pub(super) fn status_code_in(text: &str) -> Option<u16> {
    let (start, end) = status_code_span(text)?;
    text[start..end].parse().ok()
}

pub(super) fn set_status_code(text: &str, code: u16) -> Option<String> {
    let (start, end) = status_code_span(text)?;
    Some(format!("{}{code}{}", &text[..start], &text[end..]))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const LIB: &str = "pub struct R {\n    pub status_code: u16,\n}\nfn echo() -> R {\n    R {\n        status_code: 200,\n    }\n}\n";

    #[test]
    fn the_edit_changes_the_handlers_status_code_only() {
        assert_eq!(status_code_in(LIB), Some(200));
        let edited = set_status_code(LIB, 201).unwrap();
        assert_eq!(
            edited,
            LIB.replace("status_code: 200,", "status_code: 201,")
        );
        assert_eq!(status_code_in(&edited), Some(201));
        assert_eq!(set_status_code("no code here", 201), None);
        assert_eq!(status_code_in("status_code: u16,"), None);
        assert_eq!(next_edit(Some(200)), 201);
        assert_eq!(next_edit(Some(201)), 202);
        assert_eq!(next_edit(Some(202)), 201);
        assert_eq!(next_edit(None), 201);
    }

    #[test]
    fn the_shipped_handler_has_a_status_code_to_edit() {
        let lib = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../function/src/lib.rs"),
        )
        .unwrap();
        assert_eq!(status_code_in(&lib), Some(200));
    }
}
