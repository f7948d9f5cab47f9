//! For the services' tests: the SDK operations a module's source calls, read from the source
//! itself, so each service module can be checked against the list its rights are printed from.

use std::collections::BTreeSet;

/// `get_function` -> `GetFunction`.
fn camel(snake: &str) -> String {
    snake
        .split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Every `client.<operation>(` in the code of `sources` (not in their comments, not in their
/// tests), as the API names it.
pub fn operations_called(sources: &[&str]) -> BTreeSet<String> {
    let code: String = sources
        .iter()
        .flat_map(|source| {
            let code = source.find("#[cfg(test)]").unwrap_or(source.len());
            source[..code].lines()
        })
        .filter(|line| !line.trim_start().starts_with("//"))
        .flat_map(|line| line.split_whitespace())
        .collect();
    code.match_indices("client.")
        .filter_map(|(at, found)| {
            let rest = &code[at + found.len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            rest[name.len()..].starts_with('(').then(|| camel(&name))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_read_from_code_not_comments() {
        assert_eq!(camel("update_function_code"), "UpdateFunctionCode");
        let source =
            "// client.not_this()\nlet out = self\n    .client\n    .get_apis()\n    .send();\n\
                      #[cfg(test)]\nclient.nor_this()";
        assert_eq!(
            operations_called(&[source]).into_iter().collect::<Vec<_>>(),
            ["GetApis"]
        );
    }
}
