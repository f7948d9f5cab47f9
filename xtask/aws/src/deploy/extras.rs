//! What a deploy set up besides the code: the settings it changed, the execution role of
//! `--create`, the Function URL of `--url`; for the report, its step summary and `--json`.

use serde::Serialize;
use xtask::lambda::settings::Change;

use crate::model::api::ApiReport;
use crate::steps::role::RoleReport;
use crate::steps::url::UrlReport;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Extras {
    /// The declared settings that differed from the function's (applied unless a dry run).
    pub settings: Vec<Change>,
    pub role: Option<RoleReport>,
    pub url: Option<UrlReport>,
    pub api: Option<ApiReport>,
}

/// The URL, or what stands in its place when a dry run would create it.
fn url_text(url: &UrlReport) -> &str {
    match url.url.as_str() {
        "" => "(made by a run without --dry-run)",
        made => made,
    }
}

impl Extras {
    /// For people: every change made, or with `dry_run` every change that would be made.
    pub fn human(&self, dry_run: bool) -> String {
        let mut out = String::new();
        if self.settings.is_empty() {
            out.push_str("settings:    unchanged\n");
        }
        let label = if dry_run {
            "would set:  "
        } else {
            "setting:    "
        };
        for change in &self.settings {
            out.push_str(&format!("{label} {change}\n"));
        }
        if let Some(role) = &self.role {
            out.push_str(&format!("role:        {} ({})\n", role.name, role.outcome));
        }
        if let Some(url) = &self.url {
            out.push_str(&format!(
                "URL:         {} ({}{}, {})\n",
                url_text(url),
                url.auth.auth_name(),
                mode_text(url),
                url.outcome
            ));
        }
        if let Some(api) = &self.api {
            out.push_str(&format!(
                "API:         {} ({})\n",
                api_text(api),
                api_detail(api)
            ));
        }
        out
    }

    /// Rows of the step summary's table, in the human report's words.
    pub fn markdown_rows(&self, dry_run: bool) -> String {
        let settings = if self.settings.is_empty() {
            "unchanged".to_string()
        } else {
            self.settings
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join("<br>")
        };
        let label = if dry_run && !self.settings.is_empty() {
            "would set"
        } else {
            "settings"
        };
        let mut out = format!("| {label} | {settings} |\n");
        if let Some(role) = &self.role {
            out.push_str(&format!("| role | `{}` ({}) |\n", role.name, role.outcome));
        }
        if let Some(url) = &self.url {
            out.push_str(&format!(
                "| URL | {} ({}, {}) |\n",
                url_text(url),
                url.auth.auth_name(),
                url.outcome
            ));
        }
        if let Some(api) = &self.api {
            out.push_str(&format!(
                "| API | {} ({}) |\n",
                api_text(api),
                api_detail(api)
            ));
        }
        out
    }
}

/// `, RESPONSE_STREAM` for a URL that streams.
fn mode_text(url: &UrlReport) -> &'static str {
    match url.invoke_mode {
        Some(xtask::lambda::settings::InvokeMode::ResponseStream) => ", RESPONSE_STREAM",
        _ => "",
    }
}

/// The API's URL, or what stands in its place when a dry run would create it.
fn api_text(api: &ApiReport) -> &str {
    match api.url.as_str() {
        "" => "(made by a run without --dry-run)",
        made => made,
    }
}

/// `HTTP API 1a2b3c to …:function:echo:live, created`, with what was corrected.
fn api_detail(api: &ApiReport) -> String {
    let mut detail = format!("{} API", api.kind.to_ascii_uppercase());
    if !api.api_id.is_empty() {
        detail.push_str(&format!(" {}", api.api_id));
    }
    if !api.target.is_empty() {
        detail.push_str(&format!(" to {}", api.target));
    }
    detail.push_str(&format!(", {}", api.outcome));
    if api.outcome.contains("correct") {
        detail.push_str(&format!(": {}", api.changes.join("; ")));
    }
    detail
}

trait AuthName {
    fn auth_name(&self) -> &'static str;
}

impl AuthName for xtask::deploy::UrlAuth {
    fn auth_name(&self) -> &'static str {
        match self {
            xtask::deploy::UrlAuth::Public => "public",
            xtask::deploy::UrlAuth::Iam => "iam",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_what_was_set_up() {
        let extras = Extras {
            settings: vec![Change {
                setting: "memory (MB)".into(),
                from: Some("128".into()),
                to: "256".into(),
            }],
            role: Some(RoleReport {
                name: "echo-role".into(),
                arn: "arn:aws:iam::1:role/echo-role".into(),
                outcome: "created".into(),
                attached_policy: true,
            }),
            url: Some(UrlReport {
                url: "https://x.lambda-url.us-east-1.on.aws/".into(),
                auth: xtask::deploy::UrlAuth::Public,
                qualifier: None,
                outcome: "created".into(),
                permissions_added: vec!["FunctionURLAllowPublicAccess".into()],
                invoke_mode: None,
            }),
            api: Some(ApiReport {
                kind: "http",
                api_id: "a1b2c3".into(),
                url: "https://a1b2c3.execute-api.us-east-1.amazonaws.com/".into(),
                target: "arn:aws:lambda:us-east-1:1:function:echo:live".into(),
                outcome: "corrected".into(),
                changes: vec!["the $default route".into()],
            }),
        };
        let human = extras.human(false);
        assert!(
            human.contains(
                "API:         https://a1b2c3.execute-api.us-east-1.amazonaws.com/ (HTTP API \
                 a1b2c3 to arn:aws:lambda:us-east-1:1:function:echo:live, corrected: the \
                 $default route)"
            ),
            "{human}"
        );
        assert!(
            human.contains("setting:     memory (MB): 128 -> 256"),
            "{human}"
        );
        assert!(
            human.contains("role:        echo-role (created)"),
            "{human}"
        );
        assert!(
            human.contains("URL:         https://x.lambda-url.us-east-1.on.aws/ (public, created)"),
            "{human}"
        );
        let md = extras.markdown_rows(false);
        assert!(md.contains("| URL | https://x.lambda-url"), "{md}");
        let json = serde_json::to_value(&extras).unwrap();
        assert_eq!(json["url"]["auth"], "public");
        assert_eq!(json["settings"][0]["to"], "256");
        assert!(Extras::default()
            .human(false)
            .contains("settings:    unchanged"));
        let dry = extras.human(true);
        assert!(
            dry.contains("would set:   memory (MB): 128 -> 256"),
            "{dry}"
        );
        assert!(extras
            .markdown_rows(true)
            .contains("| would set | memory (MB)"));
        let would = Extras {
            url: Some(UrlReport {
                url: String::new(),
                outcome: "would-create".into(),
                ..extras.url.clone().unwrap()
            }),
            ..Extras::default()
        };
        assert!(
            would
                .human(true)
                .contains("URL:         (made by a run without --dry-run) (public, would-create)"),
            "{}",
            would.human(true)
        );
    }
}
