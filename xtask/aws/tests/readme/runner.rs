//! The README's console examples as data, and the one rule their shown output is held to.
//!
//! A block is the text between ```` ```console ```` and ```` ``` ````: each `$ ` line is a
//! command, the lines after it (up to the next `$ ` line) what it prints, stdout and stderr
//! as a terminal shows them. In the shown output:
//!
//! - a line that is only `...` or `…` stands for any number of lines (none included);
//! - `…` inside a line stands for any text on that line (a time, a port, a request id);
//! - everything else is compared exactly (trailing spaces aside).

/// One console block of the README.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The line of its first command in README.md, for messages.
    pub line: usize,
    pub commands: Vec<String>,
    /// What the commands print, all of them, in order.
    pub shown: Vec<String>,
}

impl Block {
    /// The block as one shell script: its commands in order, each on its line.
    pub fn script(&self) -> String {
        self.commands.join("\n") + "\n"
    }
}

/// Every console block of `markdown`, in order.
pub fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut current: Option<Block> = None;
    for (n, line) in markdown.lines().enumerate() {
        match &mut current {
            None if line.trim_end() == "```console" => {
                current = Some(Block {
                    line: n + 2,
                    commands: Vec::new(),
                    shown: Vec::new(),
                });
            }
            None => {}
            Some(_) if line.trim_end() == "```" => out.extend(current.take()),
            Some(block) => match line.strip_prefix("$ ") {
                Some(command) => block.commands.push(command.to_string()),
                None => block.shown.push(line.to_string()),
            },
        }
    }
    out
}

fn is_gap(line: &str) -> bool {
    matches!(line.trim(), "..." | "…")
}

/// Does `actual` match `shown`, with `…` standing for any text (possibly none)?
pub fn line_matches(shown: &str, actual: &str) -> bool {
    let shown = shown.trim_end();
    let actual = actual.trim_end();
    let mut parts = shown.split('…');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = actual.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// Matches `actual` against `shown`; on a mismatch, says where, with both texts.
pub fn check(shown: &[String], actual: &[String]) -> Result<(), String> {
    fn walk(shown: &[String], actual: &[String]) -> Option<usize> {
        // The index into `shown` of the first line no arrangement could match.
        match shown.split_first() {
            None if actual.is_empty() => None,
            None => Some(0),
            Some((gap, rest)) if is_gap(gap) => {
                let mut deepest = 0;
                for skip in 0..=actual.len() {
                    match walk(rest, &actual[skip..]) {
                        None => return None,
                        Some(at) => deepest = deepest.max(at + 1),
                    }
                }
                Some(deepest)
            }
            Some((line, rest)) => match actual.split_first() {
                Some((first, others)) if line_matches(line, first) => {
                    walk(rest, others).map(|at| at + 1)
                }
                _ => Some(0),
            },
        }
    }
    match walk(shown, actual) {
        None => Ok(()),
        Some(at) => Err(format!(
            "the output differs from the README at its line {} of the shown output ({:?})\n\
             --- shown in the README:\n{}\n--- printed:\n{}",
            at + 1,
            shown.get(at).map(String::as_str).unwrap_or("(end)"),
            shown.join("\n"),
            actual.join("\n")
        )),
    }
}

#[test]
fn blocks_are_read_command_by_command() {
    let md = "text\n```console\n$ a 1\nout\n…\n$ b\n```\n```sh\n$ not this\n```\n";
    assert_eq!(
        blocks(md),
        [Block {
            line: 3,
            commands: vec!["a 1".into(), "b".into()],
            shown: vec!["out".into(), "…".into()],
        }]
    );
}

#[test]
fn wildcards_stand_only_where_they_are() {
    assert!(line_matches("pid …, port …", "pid 42, port 9000"));
    assert!(line_matches("took … ms", "took  ms"));
    assert!(line_matches("exact", "exact  "));
    assert!(!line_matches("exact", "exactly"));
    assert!(!line_matches("pid …, port 1", "pid 42, port 9000"));
    assert!(!line_matches("CodeSha256 TNnX…", "CodeSha256 n1PH…"));
    assert!(line_matches("a…b…c", "a-b-b-c"));
    assert!(!line_matches("a…b…c", "a-c"));
}

#[test]
fn gaps_stand_for_any_number_of_lines_and_nothing_else_is_skipped() {
    let s = |lines: &[&str]| lines.iter().map(|l| l.to_string()).collect::<Vec<_>>();
    assert!(check(&s(&["a", "...", "z"]), &s(&["a", "b", "c", "z"])).is_ok());
    assert!(check(&s(&["a", "...", "z"]), &s(&["a", "z"])).is_ok());
    assert!(check(&s(&["a", "z"]), &s(&["a", "b", "z"])).is_err());
    assert!(check(&s(&["a"]), &s(&["a", "b"])).is_err());
    assert!(check(&s(&["a", "b"]), &s(&["a"])).is_err());
    assert!(check(&s(&["…"]), &s(&[])).is_ok());
    let err = check(&s(&["a", "x: 1"]), &s(&["a", "x: 2"])).unwrap_err();
    assert!(
        err.contains("line 2 of the shown output (\"x: 1\")"),
        "{err}"
    );
}
