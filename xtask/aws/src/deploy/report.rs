//! What a deploy did, for people (`human`), for CI's step summary (`markdown`) and as JSON.

use std::path::PathBuf;

use serde::Serialize;
use xtask::lambda::Arch;

use super::extras::Extras;
use super::smoke::SmokeResult;
use crate::sdk::ApiCall;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeployOutcome {
    Updated,
    Created,
    Unchanged,
    /// `--dry-run`: Lambda validated the update; nothing changed.
    DryRun,
    /// `--dry-run --create`: the function would be created.
    WouldCreate,
    /// Same code, new settings (UpdateFunctionConfiguration only).
    Configured,
    /// `--dry-run`: same code, the settings would be updated.
    WouldConfigure,
}

impl DeployOutcome {
    /// Whether nothing was changed on purpose (`--dry-run`).
    pub fn is_dry_run(self) -> bool {
        matches!(
            self,
            DeployOutcome::DryRun | DeployOutcome::WouldCreate | DeployOutcome::WouldConfigure
        )
    }
}

impl std::fmt::Display for DeployOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The words `--json` uses, then what they mean where it is not plain.
        f.write_str(match self {
            DeployOutcome::Updated => "updated",
            DeployOutcome::Created => "created",
            DeployOutcome::Unchanged => "unchanged",
            DeployOutcome::DryRun => "dry-run (the upload validated; nothing changed)",
            DeployOutcome::WouldCreate => "would-create (dry run: nothing changed)",
            DeployOutcome::Configured => "configured (settings updated, code unchanged)",
            DeployOutcome::WouldConfigure => {
                "would-configure (dry run: the settings would be updated, the code is unchanged)"
            }
        })
    }
}

/// An alias left where it was because the smoke test failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AliasKept {
    pub name: String,
    /// Its version (`None`: the alias does not exist yet).
    pub version: Option<String>,
}

impl std::fmt::Display for AliasKept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.version {
            Some(version) => write!(f, "alias {} was left at version {version}", self.name),
            None => write!(f, "alias {} was not created", self.name),
        }
    }
}

/// What carrying the code cost: the request bodies of the calls that upload a zip.
pub fn code_bytes(calls: &[ApiCall]) -> u64 {
    calls
        .iter()
        .filter(|c| {
            matches!(
                c.operation.as_str(),
                "UpdateFunctionCode" | "CreateFunction"
            )
        })
        .map(|c| c.request_bytes)
        .sum()
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub function: String,
    pub function_arn: Option<String>,
    pub outcome: DeployOutcome,
    pub arch: Arch,
    pub zip: PathBuf,
    pub code_sha256: String,
    /// `$LATEST`, or the number PublishVersion returned.
    pub version: String,
    /// The alias, when it points at `version` now.
    pub alias: Option<String>,
    /// The alias the failed smoke test kept from moving, and where it still points.
    pub alias_kept: Option<AliasKept>,
    /// `--dry-run`: a run without it would publish a version...
    pub would_publish: bool,
    /// ...and move this alias to it (once its smoke test passes, when there is one).
    pub would_alias: Option<String>,
    /// `--smoke-event`'s result, when it ran.
    pub smoke: Option<SmokeResult>,
    /// Bytes of code sent: the bodies of UpdateFunctionCode and CreateFunction requests (the
    /// zip, base64 in JSON), every attempt counted. `api_calls` has every request's size.
    pub bytes_uploaded: u64,
    pub api_calls: Vec<ApiCall>,
    pub seconds: f64,
    /// Settings changed, execution role, Function URL.
    #[serde(flatten)]
    pub extras: Extras,
}

impl Report {
    pub fn human(&self) -> String {
        let mut out = format!(
            "function:    {}{}\noutcome:     {}\nversion:     {}\n",
            self.function,
            self.function_arn
                .as_deref()
                .map(|a| format!(" ({a})"))
                .unwrap_or_default(),
            self.outcome,
            self.version
        );
        if let Some(alias) = &self.alias {
            out.push_str(&format!("alias:       {alias} -> {}\n", self.version));
        }
        if let Some(would) = self.would() {
            out.push_str(&format!("would:       {would}\n"));
        }
        if let Some(smoke) = &self.smoke {
            let kept = self.alias_kept.as_ref().map(ToString::to_string);
            out.push_str(&smoke.human(kept.as_deref()));
        }
        out.push_str(&self.extras.human(self.outcome.is_dry_run()));
        out.push_str(&format!(
            "CodeSha256:  {}\nuploaded:    {} bytes\nAPI calls:   {} ({})\ntime:        {:.2} s\n",
            self.code_sha256,
            self.bytes_uploaded,
            self.api_calls.len(),
            self.api_calls
                .iter()
                .map(|c| c.operation.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            self.seconds
        ));
        out
    }

    /// What a run without `--dry-run` would do besides the outcome, in words. (A version of
    /// unchanged code is the one Lambda published before; an alias already there stays.)
    fn would(&self) -> Option<String> {
        match (self.would_publish, &self.would_alias) {
            (_, Some(alias)) => Some(format!(
                "publish a version and point alias {alias} at it (once its smoke test passes, \
                 when there is one)"
            )),
            (true, None) => Some("publish a version".to_string()),
            (false, None) => None,
        }
    }

    /// For `$GITHUB_STEP_SUMMARY`.
    pub fn markdown(&self) -> String {
        let (smoke_row, smoke_details) = self
            .smoke
            .as_ref()
            .map(SmokeResult::markdown)
            .unwrap_or_default();
        let would_row = self
            .would()
            .map(|would| format!("| would | {would} |\n"))
            .unwrap_or_default();
        let table = format!(
            "### Lambda deploy: `{}`\n\n| | |\n|---|---|\n| outcome | {} |\n| version | `{}` |\n\
             | alias | {} |\n| architecture | {} |\n| CodeSha256 | `{}` |\n| uploaded | {} bytes |\n\
             | API calls | {} |\n| time | {:.2} s |\n{}{would_row}{smoke_row}",
            self.function,
            self.outcome,
            self.version,
            match (&self.alias, &self.alias_kept) {
                (Some(alias), _) => format!("`{alias}`"),
                (None, Some(kept)) => kept.to_string(),
                (None, None) => "-".into(),
            },
            self.arch,
            self.code_sha256,
            self.bytes_uploaded,
            self.api_calls.len(),
            self.seconds,
            self.extras.markdown_rows(self.outcome.is_dry_run())
        );
        format!("{table}\n{smoke_details}")
    }
}

/// The summary of a deploy of several functions, for people and for the step summary.
pub struct SummaryTable {
    pub text: String,
    pub markdown: String,
}

/// One row per function: its outcome, version, alias and smoke test, or its error.
pub fn summary_table(reports: &[(String, Result<Report, String>)]) -> SummaryTable {
    let header = ["function", "outcome", "version", "alias", "smoke test"];
    let rows: Vec<[String; 5]> = reports
        .iter()
        .map(|(name, report)| match report {
            Ok(r) => [
                name.clone(),
                r.outcome.to_string(),
                r.version.clone(),
                match (&r.alias, &r.alias_kept) {
                    (Some(alias), _) => format!("{alias} -> {}", r.version),
                    (None, Some(kept)) => kept.to_string(),
                    (None, None) => "-".into(),
                },
                match &r.smoke {
                    Some(s) if s.passed => "passed".into(),
                    Some(_) => "FAILED".into(),
                    None => "-".into(),
                },
            ],
            Err(message) => [
                name.clone(),
                format!("FAILED: {}", message.lines().next().unwrap_or_default()),
                "-".into(),
                "-".into(),
                "-".into(),
            ],
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut text = line(&header.map(String::from));
    let mut markdown = format!(
        "### Lambda deploy: {} functions\n\n| {} |\n|{}\n",
        reports.len(),
        header.join(" | "),
        "---|".repeat(header.len())
    );
    for row in &rows {
        text.push_str(&line(row));
        markdown.push_str(&format!(
            "| {} |\n",
            row.iter()
                .map(|c| c.replace('|', "\\|"))
                .collect::<Vec<_>>()
                .join(" | ")
        ));
    }
    SummaryTable { text, markdown }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_renders() {
        let report = Report {
            function: "echo".into(),
            function_arn: Some("arn:aws:lambda:us-east-1:123456789012:function:echo".into()),
            outcome: DeployOutcome::Unchanged,
            arch: Arch::X86_64,
            zip: "bootstrap.zip".into(),
            code_sha256: "abc=".into(),
            version: "3".into(),
            alias: Some("live".into()),
            alias_kept: None,
            would_publish: false,
            would_alias: None,
            smoke: None,
            bytes_uploaded: 0,
            api_calls: vec![ApiCall {
                operation: "GetFunction".into(),
                request_bytes: 0,
            }],
            seconds: 0.25,
            extras: Extras::default(),
        };
        let human = report.human();
        assert!(human.contains("outcome:     unchanged"), "{human}");
        assert!(human.contains("alias:       live -> 3"), "{human}");
        assert!(human.contains("uploaded:    0 bytes"), "{human}");
        assert!(human.contains("API calls:   1 (GetFunction)"), "{human}");
        let md = report.markdown();
        assert!(md.contains("| CodeSha256 | `abc=` |"), "{md}");
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["outcome"], "unchanged");
        assert_eq!(json["bytes_uploaded"], 0);
        assert!(!human.contains("would:"), "{human}");

        // A dry run says what the real run would do besides its outcome, in every form.
        let dry = Report {
            outcome: DeployOutcome::DryRun,
            version: "$LATEST".into(),
            alias: None,
            would_publish: true,
            would_alias: Some("live".into()),
            ..report
        };
        let human = dry.human();
        assert!(
            human.contains("would:       publish a version and point alias live at it (once"),
            "{human}"
        );
        let md = dry.markdown();
        assert!(md.contains("| alias | - |"), "{md}");
        assert!(
            md.contains("| would | publish a version and point alias live at it"),
            "{md}"
        );
        let json = serde_json::to_value(&dry).unwrap();
        assert_eq!(json["would_alias"], "live");
        assert_eq!(json["would_publish"], true);
    }

    #[test]
    fn several_functions_are_summed_up_one_row_each() {
        let table = summary_table(&[(
            "alpha".into(),
            Err("GetFunction: AccessDenied\nmore".into()),
        )]);
        assert_eq!(
            table.text,
            "function  outcome                            version  alias  smoke test\n\
             alpha     FAILED: GetFunction: AccessDenied  -        -      -\n"
        );
        assert!(table
            .markdown
            .contains("| alpha | FAILED: GetFunction: AccessDenied | - | - | - |"));
    }
}
