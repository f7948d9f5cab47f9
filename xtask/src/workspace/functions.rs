//! The workspace's functions, discovered: every member whose manifest has a
//! `[package.metadata.lambda]` table is one, its settings that table over
//! `[workspace.metadata.lambda]`. Read from `cargo metadata --no-deps`, which knows the
//! members as cargo does (globs, excludes) and reads no dependency.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde_json::Value;

use super::metadata::{self, LambdaMetadata};
use crate::lambda::Arch;

/// One function: the package, the binary Lambda starts, its folder and its settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionCrate {
    pub package: String,
    pub bin: String,
    pub dir: PathBuf,
    /// Its `[package.metadata.lambda]` over the workspace's defaults.
    pub metadata: LambdaMetadata,
    /// The folders of the workspace's crates it depends on, directly or not (path
    /// dependencies): a change there changes it too.
    pub path_deps: Vec<PathBuf>,
}

impl FunctionCrate {
    pub fn manifest(&self) -> PathBuf {
        self.dir.join("Cargo.toml")
    }

    /// Its sources and manifest, and those of the crates it depends on in the workspace:
    /// the files whose change means a rebuild.
    pub fn sources(&self) -> Vec<PathBuf> {
        std::iter::once(&self.dir)
            .chain(&self.path_deps)
            .flat_map(|dir| [dir.join("src"), dir.join("Cargo.toml")])
            .collect()
    }

    /// The Lambda function's name: `function-name`, else the package's.
    pub fn function_name(&self) -> &str {
        self.metadata
            .function_name
            .as_deref()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or(&self.package)
    }

    /// The function's name as Lambda keys it: `function-name` may be an ARN, this is its
    /// name part (checked when the function was discovered).
    pub fn lambda_name(&self) -> String {
        crate::lambda::names::parse_function(self.function_name())
            .map(|f| f.name)
            .unwrap_or_else(|_| self.function_name().to_string())
    }

    /// `--arch` if given, else the declared one, else x86_64.
    pub fn arch(&self, flag: Option<Arch>) -> Arch {
        flag.or(self.metadata.arch).unwrap_or(Arch::X86_64)
    }

    /// The release binary cargo produces for `arch`.
    pub fn binary_path(&self, arch: Arch) -> PathBuf {
        super::target_dir()
            .join(arch.target())
            .join("release")
            .join(&self.bin)
    }

    /// Where `build` writes this function's zip: one folder per function and architecture.
    pub fn zip_path(&self, arch: Arch) -> PathBuf {
        self.zip_in(&super::target_dir().join("lambda"), arch)
    }

    /// Its zip in a folder laid out as `target/lambda` is: `DIR/<package>/<arch>/bootstrap.zip`.
    pub fn zip_in(&self, dir: &Path, arch: Arch) -> PathBuf {
        dir.join(&self.package)
            .join(arch.lambda_name())
            .join("bootstrap.zip")
    }

    /// How it is named in lists: the package, and the Lambda name when it differs.
    pub fn label(&self) -> String {
        match self.function_name() {
            name if name == self.package => self.package.clone(),
            name => format!("{} ({name})", self.package),
        }
    }
}

/// The workspace's functions, in cargo's order of members.
pub fn discover() -> Result<Vec<FunctionCrate>> {
    from_metadata(&cargo_metadata()?)
}

/// Every member's package name and the names of its binaries.
pub fn members() -> Result<Vec<(String, Vec<String>)>> {
    let v = cargo_metadata()?;
    Ok(v["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let name = p["name"].as_str().unwrap_or_default().to_string();
            (name, bins(p).into_iter().map(str::to_string).collect())
        })
        .collect())
}

/// The names of a package's binary targets.
fn bins(package: &Value) -> Vec<&str> {
    package["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| {
            t["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "bin"))
        })
        .filter_map(|t| t["name"].as_str())
        .collect()
}

/// `cargo metadata --no-deps` of the workspace.
fn cargo_metadata() -> Result<Value> {
    let root = super::project_root();
    let cargo = super::cargo();
    let out = std::process::Command::new(&cargo)
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .output()
        .with_context(|| format!("running `{cargo} metadata`"))?;
    if !out.status.success() {
        bail!(
            "`cargo metadata` could not read the workspace at {}: {}",
            root.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    serde_json::from_slice(&out.stdout).context("`cargo metadata` printed")
}

/// The functions in `cargo metadata`'s answer (pure, for the tests).
pub fn from_metadata(v: &Value) -> Result<Vec<FunctionCrate>> {
    let defaults = match &v["metadata"]["lambda"] {
        Value::Null => LambdaMetadata::default(),
        table => metadata::from_json(table)
            .context("invalid [workspace.metadata.lambda] in the workspace's Cargo.toml")?,
    };
    if defaults.function_name.is_some() || defaults.bin.is_some() {
        bail!(
            "[workspace.metadata.lambda] holds defaults for every function: `function-name` \
             and `bin` belong in each function's [package.metadata.lambda]"
        );
    }
    let mut functions: Vec<FunctionCrate> = Vec::new();
    // Every binary of each function's package: cargo applies each `--bin` to every package
    // a build selects, so another package's binary of the same name would be built too.
    let mut all_bins: Vec<Vec<String>> = Vec::new();
    for package in v["packages"].as_array().context("no packages")? {
        let table = &package["metadata"]["lambda"];
        if table.is_null() {
            continue;
        }
        let name = package["name"]
            .as_str()
            .context("a package without a name")?;
        let manifest = PathBuf::from(package["manifest_path"].as_str().unwrap_or_default());
        let own = metadata::from_json(table).with_context(|| metadata::invalid_table(&manifest))?;
        let bins = bins(package);
        let bin = choose_bin(name, &bins, own.bin.as_deref())?;
        let dir = manifest.parent().unwrap_or(Path::new(".")).to_path_buf();
        let function = FunctionCrate {
            package: name.to_string(),
            bin,
            path_deps: path_deps(v, &dir),
            dir,
            metadata: own.over(&defaults),
        };
        crate::lambda::names::parse_function(function.function_name()).with_context(|| {
            format!(
                "{name}'s Lambda name {:?} (its `function-name`, else its package name)",
                function.function_name()
            )
        })?;
        let bins: Vec<String> = bins.into_iter().map(str::to_string).collect();
        for (other, other_bins) in functions.iter().zip(&all_bins) {
            if other_bins.contains(&function.bin) || bins.contains(&other.bin) {
                let shared = if other_bins.contains(&function.bin) {
                    &function.bin
                } else {
                    &other.bin
                };
                bail!(
                    "{} and {} both have a binary named `{shared}`, and cargo builds both to \
                     one path when they are built together: rename one's [[bin]]",
                    other.package,
                    function.package,
                );
            }
            if other.lambda_name() == function.lambda_name() {
                bail!(
                    "{} and {} are both the Lambda function `{}`: give one another \
                     `function-name`",
                    other.package,
                    function.package,
                    function.lambda_name()
                );
            }
        }
        functions.push(function);
        all_bins.push(bins);
    }
    Ok(functions)
}

/// The folders of the path dependencies of the package in `dir`, and of theirs, in the order
/// met (cargo metadata lists each member's dependencies with their `path`).
fn path_deps(v: &Value, dir: &Path) -> Vec<PathBuf> {
    let direct = |dir: &Path| -> Vec<PathBuf> {
        v["packages"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| {
                Path::new(p["manifest_path"].as_str().unwrap_or_default()).parent() == Some(dir)
            })
            .and_then(|p| p["dependencies"].as_array())
            .into_iter()
            .flatten()
            .filter_map(|d| d["path"].as_str().map(PathBuf::from))
            .collect()
    };
    let mut found: Vec<PathBuf> = Vec::new();
    let mut stack = direct(dir);
    while let Some(next) = stack.pop() {
        if next != dir && !found.contains(&next) {
            stack.extend(direct(&next));
            found.push(next);
        }
    }
    found
}

/// The binary Lambda starts: the one named by `bin`, else the package's only one.
fn choose_bin(package: &str, bins: &[&str], named: Option<&str>) -> Result<String> {
    match (named, bins) {
        (Some(named), _) if bins.contains(&named) => Ok(named.to_string()),
        (Some(named), _) => bail!(
            "{package}'s [package.metadata.lambda] names bin = \"{named}\", but its binaries are: {}",
            list_or_none(bins)
        ),
        (None, [only]) => Ok(only.to_string()),
        (None, []) => bail!(
            "{package} has a [package.metadata.lambda] table but no binary: a function is a \
             binary crate (src/main.rs)"
        ),
        (None, several) => bail!(
            "{package} has several binaries ({}): a function is one of them; name it with \
             bin = \"{}\" under [package.metadata.lambda]",
            several.join(", "),
            several[0]
        ),
    }
}

fn list_or_none(items: &[&str]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

/// `-p/--package` of the commands that act on several functions.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Packages {
    /// A function to act on, by package or Lambda function name; repeat for several.
    /// [default: every function in the workspace]
    #[arg(short = 'p', long = "package", value_name = "NAME")]
    pub package: Vec<String>,
}

impl Packages {
    /// The named functions (all of them when none is named).
    pub fn all(&self) -> Result<Vec<FunctionCrate>> {
        select(discover()?, &self.package)
    }
}

/// `-p/--package` of the commands that act on one function.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Package {
    /// The function to act on, by package or Lambda function name [default: the workspace's
    /// only function; `invoke --serve` and `watch` serve every function].
    #[arg(short = 'p', long = "package", value_name = "NAME")]
    pub package: Option<String>,
}

impl Package {
    /// The one function a command needs (`why`: what needs one), named or the only one.
    pub fn one(&self, why: &str) -> Result<FunctionCrate> {
        one(discover()?, self.package.as_slice(), why)
    }

    /// The Lambda name a one-function command acts on: the flag (or its environment variable)
    /// when given, else the function's; the workspace is read only when needed. A blank name
    /// counts as none.
    pub fn function_name(&self, flag: Option<&str>, why: &str) -> Result<String> {
        let given = flag.filter(|n| !n.trim().is_empty());
        match (given, &self.package) {
            (Some(name), None) => Ok(name.to_string()),
            (given, Some(_)) | (given @ None, None) => {
                let function = self.one(why)?;
                Ok(given.unwrap_or(function.function_name()).to_string())
            }
        }
    }

    /// `--arch` if given, else the named function's, else the workspace's only function's,
    /// else x86_64: for a file given by path (`verify-static PATH`).
    pub fn arch(&self, flag: Option<Arch>) -> Result<Arch> {
        arch_for_path(self.package.as_slice(), flag)
    }
}

/// The architecture a file given by path must be for: `--arch`, else the one named function's,
/// else the workspace's only function's, else x86_64.
pub fn arch_for_path(wanted: &[String], flag: Option<Arch>) -> Result<Arch> {
    if let Some(arch) = flag {
        return Ok(arch);
    }
    let all = discover()?;
    Ok(match (wanted, all.as_slice()) {
        ([], [only]) => only.arch(None),
        ([], _) => Arch::X86_64,
        (wanted, _) => one(all, wanted, "a file given by path is checked for")?.arch(None),
    })
}

/// The functions named in `wanted`, each once, in the workspace's order; all of them when
/// `wanted` is empty. A name is a package's when one has it, else a Lambda function's.
pub fn select(all: Vec<FunctionCrate>, wanted: &[String]) -> Result<Vec<FunctionCrate>> {
    if all.is_empty() {
        bail!(
            "this workspace has no function: a function is a member with a \
             [package.metadata.lambda] table (`cargo xtask new NAME` makes one)"
        );
    }
    if wanted.is_empty() {
        return Ok(all);
    }
    let mut chosen = vec![false; all.len()];
    for name in wanted {
        let by_package = all.iter().position(|f| &f.package == name);
        let by_lambda = || {
            all.iter()
                .position(|f| f.function_name() == name || &f.lambda_name() == name)
        };
        match by_package.or_else(by_lambda) {
            Some(at) => chosen[at] = true,
            None => bail!(
                "no function `{}` in this workspace; its functions: {}",
                name.escape_debug(),
                names(&all)
            ),
        }
    }
    Ok(all
        .into_iter()
        .zip(chosen)
        .filter_map(|(f, chosen)| chosen.then_some(f))
        .collect())
}

/// Exactly one function: the one named, or the workspace's only one.
pub fn one(all: Vec<FunctionCrate>, wanted: &[String], why: &str) -> Result<FunctionCrate> {
    let selected = select(all, wanted)?;
    match <[FunctionCrate; 1]>::try_from(selected) {
        Ok([one]) => Ok(one),
        Err(several) => bail!(
            "{why} one function; pass -p with one of: {}",
            names(&several)
        ),
    }
}

fn names(functions: &[FunctionCrate]) -> String {
    functions
        .iter()
        .map(FunctionCrate::label)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn package(name: &str, bins: &[&str], lambda: Value) -> Value {
        json!({
            "name": name,
            "manifest_path": format!("/w/{name}/Cargo.toml"),
            "targets": bins.iter().map(|b| json!({"kind": ["bin"], "name": b}))
                .chain([json!({"kind": ["lib"], "name": name})]).collect::<Vec<_>>(),
            "metadata": if lambda.is_null() { Value::Null } else { json!({ "lambda": lambda }) },
        })
    }

    fn workspace(defaults: Value, packages: Vec<Value>) -> Value {
        json!({ "packages": packages, "metadata": { "lambda": defaults } })
    }

    #[test]
    fn members_with_a_lambda_table_are_functions_over_the_workspace_defaults() {
        let v = workspace(
            json!({"memory": 256, "timeout": 9, "environment": {"A": "ws", "B": "ws"}}),
            vec![
                package(
                    "echo-function",
                    &["bootstrap"],
                    json!({"function-name": "echo", "timeout": 3, "environment": {"B": "own"}}),
                ),
                package("xtask", &["xtask"], Value::Null),
                package("alpha", &["alpha"], json!({})),
            ],
        );
        let found = from_metadata(&v).unwrap();
        assert_eq!(found.len(), 2);
        let echo = &found[0];
        assert_eq!(
            (
                echo.function_name(),
                echo.bin.as_str(),
                echo.label().as_str()
            ),
            ("echo", "bootstrap", "echo-function (echo)")
        );
        assert_eq!(echo.dir, PathBuf::from("/w/echo-function"));
        assert_eq!(
            (echo.metadata.memory, echo.metadata.timeout),
            (Some(256), Some(3))
        );
        let env: Vec<_> = echo.metadata.environment.iter().collect();
        assert_eq!(
            env,
            [
                (&"A".to_string(), &"ws".to_string()),
                (&"B".into(), &"own".into())
            ]
        );
        assert_eq!(found[1].function_name(), "alpha");
        assert_eq!(found[1].metadata.timeout, Some(9));
        assert_eq!(found[1].arch(None), Arch::X86_64);
        assert_eq!(found[1].arch(Some(Arch::Arm64)), Arch::Arm64);
    }

    #[test]
    fn the_lambda_name_is_the_table_s_else_the_package_s_and_an_arn_s_name_part() {
        let mut function = FunctionCrate {
            package: "f".into(),
            bin: "f".into(),
            dir: "/w/f".into(),
            path_deps: Vec::new(),
            metadata: LambdaMetadata {
                function_name: Some("  ".into()),
                arch: Some(Arch::Arm64),
                ..Default::default()
            },
        };
        assert_eq!(
            (function.function_name(), function.lambda_name().as_str()),
            ("f", "f")
        );
        assert_eq!(function.arch(None), Arch::Arm64);
        assert_eq!(function.arch(Some(Arch::X86_64)), Arch::X86_64);
        function.metadata.function_name =
            Some("arn:aws:lambda:eu-west-1:123456789012:function:orders".into());
        assert_eq!(function.lambda_name(), "orders");
    }

    #[test]
    fn a_function_s_sources_include_the_workspace_crates_it_depends_on() {
        let mut alpha = package("alpha", &["alpha"], json!({}));
        alpha["dependencies"] = json!([{"name": "shared", "path": "/w/shared"}, {"name": "serde"}]);
        let mut shared = package("shared", &[], Value::Null);
        shared["dependencies"] = json!([{"name": "core-lib", "path": "/w/core-lib"}]);
        let core = package("core-lib", &[], Value::Null);
        let found = from_metadata(&workspace(Value::Null, vec![alpha, shared, core])).unwrap();
        assert_eq!(
            found[0].path_deps,
            [PathBuf::from("/w/shared"), PathBuf::from("/w/core-lib")]
        );
        assert!(found[0]
            .sources()
            .contains(&PathBuf::from("/w/core-lib/src")));
    }

    #[test]
    fn binaries_are_chosen_or_the_fix_is_named() {
        let one = |bins: &[&str], lambda: Value| {
            from_metadata(&workspace(Value::Null, vec![package("f", bins, lambda)]))
                .map(|f| f[0].bin.clone())
                .map_err(|e| format!("{e:#}"))
        };
        assert_eq!(one(&["f"], json!({})).unwrap(), "f");
        assert_eq!(one(&["a", "b"], json!({"bin": "b"})).unwrap(), "b");
        let err = one(&["a", "b"], json!({})).unwrap_err();
        assert!(
            err.contains("several binaries (a, b)") && err.contains("bin = \"a\""),
            "{err}"
        );
        let err = one(&["a"], json!({"bin": "c"})).unwrap_err();
        assert!(
            err.contains("bin = \"c\", but its binaries are: a"),
            "{err}"
        );
        let err = one(&[], json!({})).unwrap_err();
        assert!(err.contains("no binary"), "{err}");
    }

    #[test]
    fn bad_tables_and_clashes_are_refused_naming_the_package() {
        let err = |v: Value| format!("{:#}", from_metadata(&v).unwrap_err());
        let e = err(workspace(
            Value::Null,
            vec![package("f", &["f"], json!({"memory": "lots"}))],
        ));
        assert!(e.contains("/w/f/Cargo.toml"), "{e}");
        let e = err(workspace(json!({"function-name": "x"}), vec![]));
        assert!(e.contains("belong in each function"), "{e}");
        let e = err(workspace(json!({"colour": 1}), vec![]));
        assert!(
            e.contains("[workspace.metadata.lambda]") && e.contains("colour"),
            "{e}"
        );
        let e = err(workspace(
            Value::Null,
            vec![package("f", &["f"], json!({"function-name": "a\nb"}))],
        ));
        assert!(e.contains("f's Lambda name \"a\\nb\""), "{e}");
        let e = err(workspace(
            Value::Null,
            vec![
                package("a", &["bootstrap"], json!({})),
                package("b", &["bootstrap"], json!({})),
            ],
        ));
        assert!(e.contains("both have a binary named `bootstrap`"), "{e}");
        // Another package's binary of the chosen name would be built beside it.
        let e = err(workspace(
            Value::Null,
            vec![
                package("a", &["a", "b"], json!({"bin": "a"})),
                package("b", &["b"], json!({})),
            ],
        ));
        assert!(
            e.contains("a and b both have a binary named `b`, and cargo builds both to one path"),
            "{e}"
        );
        // One function named by its ARN, another by the same name.
        let e = err(workspace(
            Value::Null,
            vec![
                package(
                    "a",
                    &["a"],
                    json!({"function-name": "arn:aws:lambda:us-east-1:123456789012:function:echo"}),
                ),
                package("b", &["b"], json!({"function-name": "echo"})),
            ],
        ));
        assert!(e.contains("both the Lambda function `echo`"), "{e}");
        let e = err(workspace(
            Value::Null,
            vec![
                package("a", &["a"], json!({"function-name": "same"})),
                package("b", &["b"], json!({"function-name": "same"})),
            ],
        ));
        assert!(e.contains("both the Lambda function `same`"), "{e}");
    }

    #[test]
    fn selection_by_package_or_lambda_name() {
        let v = workspace(
            Value::Null,
            vec![
                package(
                    "echo-function",
                    &["bootstrap"],
                    json!({"function-name": "echo"}),
                ),
                package("alpha", &["alpha"], json!({})),
            ],
        );
        let all = from_metadata(&v).unwrap();
        let names =
            |sel: Vec<FunctionCrate>| sel.into_iter().map(|f| f.package).collect::<Vec<_>>();
        assert_eq!(
            names(select(all.clone(), &[]).unwrap()),
            ["echo-function", "alpha"]
        );
        assert_eq!(
            names(select(all.clone(), &["echo".into()]).unwrap()),
            ["echo-function"]
        );
        let both = [
            "alpha".to_string(),
            "echo-function".to_string(),
            "alpha".to_string(),
        ];
        assert_eq!(
            names(select(all.clone(), &both).unwrap()),
            ["echo-function", "alpha"]
        );
        let e = select(all.clone(), &["beta".into()])
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "no function `beta` in this workspace; its functions: echo-function (echo), alpha"
        );
        let e = one(all.clone(), &[], "invoke runs")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "invoke runs one function; pass -p with one of: echo-function (echo), alpha"
        );
        assert_eq!(one(all, &["alpha".into()], "x").unwrap().package, "alpha");
        // A package's name wins over another function's Lambda name.
        let v = workspace(
            Value::Null,
            vec![
                package(
                    "echo-function",
                    &["bootstrap"],
                    json!({"function-name": "alpha"}),
                ),
                package("alpha", &["alpha"], json!({"function-name": "alpha-fn"})),
            ],
        );
        let all = from_metadata(&v).unwrap();
        assert_eq!(
            names(select(all.clone(), &["alpha".into()]).unwrap()),
            ["alpha"]
        );
        assert_eq!(names(select(all, &["alpha-fn".into()]).unwrap()), ["alpha"]);
        let e = select(Vec::new(), &[]).unwrap_err().to_string();
        assert!(e.contains("cargo xtask new NAME"), "{e}");
    }
}
