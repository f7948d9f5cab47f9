//! Small helpers every command shares; none of them knows about Lambda.

pub mod digest;
pub mod fs;
pub mod process;
pub mod random;
pub mod scratch;
pub mod status;
pub mod text;
pub mod time;
