//! Small helpers every command shares; none of them knows about Lambda.

pub mod digest;
pub mod fs;
pub mod http;
pub mod ids;
pub mod outlet;
pub mod process;
pub mod runtime;
pub mod scratch;
pub mod status;
pub mod time;
