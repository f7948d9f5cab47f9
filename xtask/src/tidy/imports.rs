//! No import cycles between a package's files: files that import from each other (directly or
//! through others) can be neither read nor moved one at a time.
//!
//! The graph is read from the source text. A node is a file; `mod.rs`, or `foo.rs` beside a
//! `foo/` folder, stands for its folder's module. An edge is a path that starts at `crate::`,
//! `$crate::` or `super::`, in a `use` or anywhere in code, to the file of the longest module
//! prefix of that path. `mod x;` declarations and paths relative to the current module (a
//! `mod.rs` naming its children) are the declaration direction, not edges. Test code (all after
//! a `#[cfg(test)]` line), comments and string literals are left out.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;

use super::{sources, src_dirs};

/// A package's sources: path relative to `src/` (`deploy/alias.rs`) → text.
type Files = BTreeMap<String, String>;
/// File → the files it imports from → the names it imports from each.
type Graph = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

#[test]
fn no_import_cycles() {
    let mut found = Vec::new();
    for src in src_dirs() {
        let graph = graph(&read_sources(&src));
        for cycle in cycles(&graph) {
            found.push(format!("{}: {}", src.display(), render(&cycle, &graph)));
        }
    }
    assert!(
        found.is_empty(),
        "import cycles: move what the files of each one share into a module of its own, or \
         make one depend on the other only:\n{}",
        found.join("\n")
    );
}

fn read_sources(src: &Path) -> Files {
    let mut paths = Vec::new();
    sources(src, &mut paths);
    assert!(!paths.is_empty(), "no sources in {}", src.display());
    paths
        .into_iter()
        .map(|path| {
            let rel = path
                .strip_prefix(src)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (rel, std::fs::read_to_string(&path).unwrap())
        })
        .collect()
}

/// The module a file is: `a/b.rs` and `a/b/mod.rs` are `a::b`; `lib.rs` and `main.rs` the root.
fn module_of(file: &str) -> Vec<String> {
    let stem = file.strip_suffix(".rs").unwrap_or(file);
    let mut module: Vec<String> = stem.split('/').map(str::to_string).collect();
    if matches!(stem, "lib" | "main") || module.last().is_some_and(|m| m == "mod") {
        module.pop();
    }
    module
}

fn graph(files: &Files) -> Graph {
    let mut modules = BTreeMap::new();
    // A crate's modules hang off lib.rs when there is one; main.rs is then a node of its own.
    for file in files.keys().rev() {
        modules.insert(module_of(file), file.clone());
    }
    let mut graph = Graph::new();
    for (file, text) in files {
        let from = module_of(file);
        let edges = graph.entry(file.clone()).or_default();
        for path in paths_in(text) {
            if let Some((to, name)) = resolve(&from, &path, &modules) {
                if to != *file {
                    edges.entry(to).or_default().insert(name);
                }
            }
        }
    }
    graph
}

/// The file a path leads to and the name it takes from there: the longest module prefix of
/// the path that has a file.
fn resolve(
    from: &[String],
    path: &[String],
    modules: &BTreeMap<Vec<String>, String>,
) -> Option<(String, String)> {
    let (mut full, mut rest) = match path.first()?.as_str() {
        "crate" | "$crate" => (Vec::new(), &path[1..]),
        "super" => (from.to_vec(), path),
        _ => return None,
    };
    while rest.first().is_some_and(|s| s == "super") {
        full.pop()?;
        rest = &rest[1..];
    }
    let base = full.len();
    full.extend(rest.iter().cloned());
    (base..=full.len()).rev().find_map(|n| {
        let file = modules.get(&full[..n])?;
        let name = full.get(n).or(full.last()).map_or("crate", String::as_str);
        Some((file.clone(), name.to_string()))
    })
}

/// Every path from `crate`, `$crate` or `super` in the code before `#[cfg(test)]`: each leaf
/// of a `use` tree, and each `a::b::c` chain elsewhere.
fn paths_in(text: &str) -> Vec<Vec<String>> {
    let code: String = text
        .lines()
        .take_while(|l| l.trim() != "#[cfg(test)]")
        .collect::<Vec<_>>()
        .join("\n");
    let tokens = tokens(&code);
    let mut paths = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i] == "use" {
            i = use_tree(&tokens, i + 1, Vec::new(), &mut paths);
        } else if matches!(tokens[i].as_str(), "crate" | "$crate" | "super")
            && tokens.get(i + 1).is_some_and(|t| t == "::")
        {
            let mut path = vec![tokens[i].clone()];
            i += 1;
            while tokens.get(i).is_some_and(|t| t == "::")
                && tokens.get(i + 1).is_some_and(|t| is_ident(t))
            {
                path.push(tokens[i + 1].clone());
                i += 2;
            }
            paths.push(path);
        } else {
            i += 1;
        }
    }
    paths.retain(|p| matches!(p[0].as_str(), "crate" | "$crate" | "super"));
    paths
}

/// Reads the use tree at `tokens[i]` into `out` (one path per leaf, `*` for a glob); returns
/// the index after it.
fn use_tree(
    tokens: &[String],
    mut i: usize,
    mut prefix: Vec<String>,
    out: &mut Vec<Vec<String>>,
) -> usize {
    while let Some(token) = tokens.get(i) {
        match token.as_str() {
            "::" => i += 1,
            "{" => {
                i += 1;
                while tokens.get(i).is_some_and(|t| t != "}") {
                    i = use_tree(tokens, i, prefix.clone(), out);
                    if tokens.get(i).is_some_and(|t| t == ",") {
                        i += 1;
                    }
                }
                return i + 1;
            }
            "*" => {
                prefix.push("*".to_string());
                out.push(prefix);
                return i + 1;
            }
            t if is_ident(t) => {
                i += 1;
                // `a::b::{self}` names `a::b` itself.
                if t != "self" || prefix.is_empty() {
                    prefix.push(t.to_string());
                }
                if tokens.get(i).is_some_and(|t| t == "::") {
                    continue;
                }
                if tokens.get(i).is_some_and(|t| t == "as") {
                    i += 2;
                }
                out.push(prefix);
                return i;
            }
            _ => return i,
        }
    }
    i
}

fn is_ident(token: &str) -> bool {
    let token = token.strip_prefix('$').unwrap_or(token);
    token.starts_with(|c: char| c.is_alphabetic() || c == '_')
}

/// The code's identifiers (`$crate` and other macro variables with their `$`), `::` and single
/// punctuation characters; comments, string and character literals and numbers dropped.
fn tokens(code: &str) -> Vec<String> {
    let s: Vec<char> = code.chars().collect();
    let at = |i: usize| s.get(i).copied().unwrap_or('\0');
    let ident_char = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if c == '/' && at(i + 1) == '/' {
            while i < s.len() && s[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < s.len() {
                if s[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if s[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if let Some(end) = raw_string_end(&s, i) {
            i = end;
        } else if c == '"' || (c == 'b' && at(i + 1) == '"') {
            i += if c == 'b' { 2 } else { 1 };
            while i < s.len() && s[i] != '"' {
                i += if s[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c == '\'' {
            // A character literal ('x', '\n', '\''), else a lifetime's quote.
            if at(i + 1) == '\\' {
                i += 3;
                while i < s.len() && s[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                i += 1;
            }
        } else if ident_char(c) || (c == '$' && ident_char(at(i + 1))) {
            let start = i;
            i += 1;
            while i < s.len() && ident_char(s[i]) {
                i += 1;
            }
            if !c.is_ascii_digit() {
                out.push(s[start..i].iter().collect());
            }
        } else if c == ':' && at(i + 1) == ':' {
            out.push("::".to_string());
            i += 2;
        } else {
            if !c.is_whitespace() {
                out.push(c.to_string());
            }
            i += 1;
        }
    }
    out
}

/// Where a raw string literal (`r"…"`, `r#"…"#`, `br"…"`) starting at `i` ends, if one does.
fn raw_string_end(s: &[char], i: usize) -> Option<usize> {
    if i > 0 && (s[i - 1].is_alphanumeric() || s[i - 1] == '_') {
        return None;
    }
    let mut j = i + usize::from(s.get(i) == Some(&'b'));
    if s.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let hashes = s[j..].iter().take_while(|&&c| c == '#').count();
    j += hashes;
    if s.get(j) != Some(&'"') {
        return None;
    }
    j += 1;
    while j < s.len() {
        if s[j] == '"'
            && s[j + 1..]
                .iter()
                .take(hashes)
                .filter(|&&c| c == '#')
                .count()
                == hashes
        {
            return Some(j + 1 + hashes);
        }
        j += 1;
    }
    Some(s.len())
}

/// One cycle through every file that is in one: for each strongly connected component
/// (Tarjan's), the shortest cycle through a file not yet shown, until all of them are.
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for component in components(graph) {
        let mut shown = BTreeSet::new();
        for start in &component {
            if shown.contains(start) {
                continue;
            }
            let cycle = shortest_cycle(graph, &component, start);
            shown.extend(cycle.iter().cloned());
            found.push(cycle);
        }
    }
    found
}

/// The strongly connected components of more than one file.
fn components(graph: &Graph) -> Vec<BTreeSet<String>> {
    struct Tarjan<'a> {
        graph: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        out: Vec<BTreeSet<String>>,
    }
    impl<'a> Tarjan<'a> {
        fn visit(&mut self, v: &'a str) {
            let graph = self.graph;
            let n = self.index.len();
            self.index.insert(v, n);
            self.low.insert(v, n);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in graph.get(v).into_iter().flat_map(|e| e.keys()) {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    self.low.insert(v, self.low[v].min(self.low[w]));
                } else if self.on_stack.contains(w) {
                    self.low.insert(v, self.low[v].min(self.index[w]));
                }
            }
            if self.low[v] == self.index[v] {
                let mut component = BTreeSet::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    component.insert(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    self.out.push(component);
                }
            }
        }
    }
    let mut tarjan = Tarjan {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !tarjan.index.contains_key(v.as_str()) {
            tarjan.visit(v);
        }
    }
    tarjan.out.sort();
    tarjan.out
}

/// `start`, the files on the shortest way back to it within `component`, and `start` again.
fn shortest_cycle(graph: &Graph, component: &BTreeSet<String>, start: &str) -> Vec<String> {
    let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for w in graph.get(v).into_iter().flat_map(|e| e.keys()) {
            if w == start {
                let mut cycle = vec![start.to_string()];
                let mut at = v;
                while at != start {
                    cycle.push(at.to_string());
                    at = came_from[at];
                }
                cycle.push(start.to_string());
                cycle.reverse();
                return cycle;
            }
            if component.contains(w) && !came_from.contains_key(w.as_str()) {
                came_from.insert(w, v);
                queue.push_back(w);
            }
        }
    }
    unreachable!("{start} is in a strongly connected component, so on a cycle")
}

/// `a.rs -> b.rs {what a takes from b} -> a.rs {what b takes from a}`.
fn render(cycle: &[String], graph: &Graph) -> String {
    let mut out = cycle[0].clone();
    for hop in cycle.windows(2) {
        let names: Vec<&str> = graph[&hop[0]][&hop[1]].iter().map(String::as_str).collect();
        out += &format!(" -> {} {{{}}}", hop[1], names.join(", "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hand_made(edges: &[(&str, &str)]) -> Graph {
        let mut graph = Graph::new();
        for (from, to) in edges {
            graph.entry(to.to_string()).or_default();
            graph
                .entry(from.to_string())
                .or_default()
                .entry(to.to_string())
                .or_default()
                .insert(format!("{}_item", to.trim_end_matches(".rs")));
        }
        graph
    }

    #[test]
    fn a_cycle_is_found_and_a_dag_passes() {
        let cyclic = hand_made(&[
            ("a.rs", "b.rs"),
            ("b.rs", "c.rs"),
            ("c.rs", "a.rs"),
            ("c.rs", "d.rs"),
            ("d.rs", "e.rs"),
            ("e.rs", "d.rs"),
        ]);
        let found = cycles(&cyclic);
        assert_eq!(
            found,
            [
                vec!["a.rs", "b.rs", "c.rs", "a.rs"],
                vec!["d.rs", "e.rs", "d.rs"]
            ]
        );
        assert_eq!(
            render(&found[1], &cyclic),
            "d.rs -> e.rs {e_item} -> d.rs {d_item}"
        );
        let dag = hand_made(&[
            ("a.rs", "b.rs"),
            ("a.rs", "c.rs"),
            ("b.rs", "c.rs"),
            ("c.rs", "d.rs"),
        ]);
        assert!(cycles(&dag).is_empty());
    }

    #[test]
    fn paths_come_from_code_only() {
        let text = r##"
//! Docs naming crate::docs::x.
use std::fmt;
use crate::a::{b::{self, C}, d as e, *};
pub(crate) use super::f;
/* crate::block::comment */
fn g() -> &'static str {
    let _ = crate::h::i(super::super::j::K);
    let _ = ('"', '\'', b'x');
    let _ = r#"crate::raw"#;
    "crate::string \" crate::escaped"
}
macro_rules! m { () => { $crate::l::n() } }
#[cfg(test)]
mod tests { use crate::test_only; }
"##;
        let paths: Vec<String> = paths_in(text).iter().map(|p| p.join("::")).collect();
        assert_eq!(
            paths,
            [
                "crate::a::b",
                "crate::a::b::C",
                "crate::a::d",
                "crate::a::*",
                "super::f",
                "crate::h::i",
                "super::super::j::K",
                "$crate::l::n",
            ]
        );
    }

    #[test]
    fn an_edge_goes_to_the_longest_module_with_a_file() {
        let files: Files = [
            ("lib.rs", "pub mod deploy;"),
            (
                "deploy/mod.rs",
                "mod alias; mod plan; pub use alias::Record;",
            ),
            ("deploy/alias.rs", "use super::Shared;"),
            (
                "deploy/plan.rs",
                "use crate::deploy::alias::Record; use crate::deploy::Gone;",
            ),
            (
                "deploy/steps.rs",
                "use crate::deploy::plan::{self, Plan}; use super::super::lib_item;",
            ),
        ]
        .into_iter()
        .map(|(f, t)| (f.to_string(), t.to_string()))
        .collect();
        let graph = graph(&files);
        let edges = |file: &str| -> Vec<String> {
            graph[file]
                .iter()
                .map(|(to, names)| format!("{to} {names:?}"))
                .collect()
        };
        assert_eq!(edges("deploy/mod.rs"), Vec::<String>::new());
        assert_eq!(edges("deploy/alias.rs"), [r#"deploy/mod.rs {"Shared"}"#]);
        assert_eq!(
            edges("deploy/plan.rs"),
            [r#"deploy/alias.rs {"Record"}"#, r#"deploy/mod.rs {"Gone"}"#]
        );
        assert_eq!(
            edges("deploy/steps.rs"),
            [
                r#"deploy/plan.rs {"Plan", "plan"}"#,
                r#"lib.rs {"lib_item"}"#
            ]
        );
        assert!(cycles(&graph).is_empty());
    }
}
