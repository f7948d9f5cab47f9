//! What deploy checks before its first request (and before building), from the command line
//! and the environment alone: the function's name or ARN (never qualified), the alias, the
//! region and endpoint flags, the SDK's retry variables, and the step summary file, opened
//! here and kept. The checks themselves are `xtask::lambda::names`'s pure functions.

use anyhow::Result;
use xtask::deploy::Args;
use xtask::lambda::names::{check_alias, parse_function, FunctionRef};

use super::step_summary::StepSummary;
use crate::sdk::check_connection;

/// What the checks found, for the deploy to use.
#[derive(Debug)]
pub struct Checked {
    pub function: FunctionRef,
    pub summary: Option<StepSummary>,
}

pub fn check(args: &Args, function: &str) -> Result<Checked> {
    let function = parse_function(function)?;
    if let Some(alias) = &args.alias {
        check_alias(alias)?;
    }
    check_connection(&args.aws)?;
    Ok(Checked {
        function,
        summary: StepSummary::from_env()?,
    })
}
