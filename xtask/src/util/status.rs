//! Cargo-style status lines on stderr: a right-aligned verb, then the message.

pub fn status(verb: &str, message: impl std::fmt::Display) {
    eprintln!("{verb:>12} {message}");
}
