//! Cargo-style status lines on stderr: a right-aligned verb, then the message.
//!
//! Nothing here panics when stderr is gone (`eprintln!` would): a closed or broken stderr
//! is nobody's failure but its reader's, and a status line is not worth an exit.

use std::io::Write;

pub fn status(verb: &str, message: impl std::fmt::Display) {
    stderr_line(status_line(verb, message));
}

/// A status line as [`status`] prints it, without the newline.
pub fn status_line(verb: &str, message: impl std::fmt::Display) -> String {
    format!("{verb:>12} {message}")
}

/// `error: …`: what stopped a command, or what failed while it goes on.
pub fn error(message: impl std::fmt::Display) {
    stderr_line(error_line(message));
}

/// An error line as [`error`] prints it, without the newline.
pub fn error_line(message: impl std::fmt::Display) -> String {
    format!("error: {message}")
}

/// `hint: …`: what to do about the error just printed.
pub fn hint(message: impl std::fmt::Display) {
    stderr_line(format!("hint: {message}"));
}

/// One line on stderr, ignoring a stderr that cannot be written.
pub fn stderr_line(line: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbs_are_right_aligned_as_cargo_does() {
        assert_eq!(status_line("Finished", "it"), "    Finished it");
        assert_eq!(error_line("it failed"), "error: it failed");
    }
}
