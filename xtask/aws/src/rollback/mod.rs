//! `cargo xtask rollback`: the alias back to the version the last deploy moved it from (read
//! from its description, see `model::alias::Record`), or to `--to`; guarded by the alias's
//! RevisionId. `plan` decides, this file reads and writes.

pub mod plan;

use crate::sdk::runtime;
use anyhow::{bail, Result};
use serde::Serialize;
use xtask::lambda::names::{check_alias, FunctionRef};
use xtask::rollback::Args;
use xtask::util::status::status;

use crate::lambda::Lambda;
use crate::model::alias::Record;
use crate::model::failure::ApiFailure;
use crate::sdk::{check_connection, connect};
use plan::{plan, Rollback};

/// What the rollback did (or, with `--dry-run`, would do).
#[derive(Debug, Serialize)]
pub struct Report {
    pub function: String,
    pub alias: String,
    /// The version the alias pointed to, and the one it points to now (or would).
    pub from: String,
    pub to: String,
    pub changed: bool,
    pub dry_run: bool,
}

impl Report {
    fn human(&self) -> String {
        let target = format!("{}:{}", self.function, self.alias);
        match (self.changed, self.dry_run, self.from == self.to) {
            (_, _, true) => format!(
                "{target} already points to version {}: nothing to do\n",
                self.to
            ),
            (false, true, _) => format!(
                "{target} would go back from version {} to version {} (dry run: nothing changed)\n",
                self.from, self.to
            ),
            _ => format!(
                "{target} rolled back from version {} to version {}\n",
                self.from, self.to
            ),
        }
    }
}

pub fn run(args: Args) -> Result<()> {
    let function = args
        .package
        .function_name(args.function_name.as_deref(), "rollback moves the alias of")?;
    let function_ref = xtask::lambda::names::parse_function(&function)?;
    check_alias(&args.alias)?;
    check_connection(&args.aws)?;
    // As given (a name or an ARN): requests go to the function it names.
    let runtime = runtime::current_thread("the AWS SDK")?;
    let report = runtime.block_on(async {
        let session = connect(&args.aws, &function_ref).await?;
        let lambda = Lambda::new(&session, &function);
        roll_back(&lambda, &function_ref, &args).await
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.human());
    }
    Ok(())
}

async fn roll_back(lambda: &Lambda<'_>, target: &FunctionRef, args: &Args) -> Result<Report> {
    let function = target.name.as_str();
    let alias = args.alias.as_str();
    let current = lambda.get_alias(alias).await?;
    match &current {
        // The alias Lambda answered about is of the function asked for (an ARN's account
        // and region), as deploy checks GetFunction's answer.
        Some(state) => {
            if let Some(function_arn) = state
                .arn
                .as_deref()
                .and_then(|arn| arn.strip_suffix(&format!(":{alias}")))
            {
                target.check_answer(function_arn)?;
            }
        }
        None if lambda.get().await?.is_none() => {
            bail!("function {function} does not exist: there is nothing to roll back")
        }
        None => {}
    }
    let report = |from: &str, to: &str, changed: bool| Report {
        function: function.to_string(),
        alias: alias.to_string(),
        from: from.to_string(),
        to: to.to_string(),
        changed,
        dry_run: args.dry_run,
    };
    let Some(Rollback {
        from,
        to,
        revision_id,
    }) = plan(function, alias, current.as_ref(), args.to.as_deref())?
    else {
        let here = current.map(|c| c.version).unwrap_or_default();
        status("Unchanged", format!("{function}:{alias} -> {here}"));
        return Ok(report(&here, &here, false));
    };
    if lambda.get_version(&to).await?.is_none() {
        bail!("version {to} of {function} does not exist; nothing changed");
    }
    if args.dry_run {
        status(
            "Skipped",
            format!("moving {function}:{alias} from version {from} to {to} (--dry-run)"),
        );
        return Ok(report(&from, &to, false));
    }
    let record = Record::RolledBack {
        from: from.clone(),
        to: to.clone(),
    };
    match lambda
        .update_alias(alias, &to, revision_id.as_deref(), &record.description())
        .await
    {
        Ok(()) => {}
        Err((ApiFailure::StaleRevision | ApiFailure::NotFound, _)) => {
            let now = match lambda.get_alias(alias).await.ok().flatten() {
                Some(now) => format!("it now points to version {}", now.version),
                None => "it no longer exists".to_string(),
            };
            bail!(
                "alias {alias} of {function} moved while rolling back (it pointed to version \
                 {from}; {now}): nothing changed; look at what moved it, then rerun"
            );
        }
        Err((_, error)) => return Err(error),
    }
    status("Rolled back", format!("{function}:{alias} {from} -> {to}"));
    Ok(report(&from, &to, true))
}
