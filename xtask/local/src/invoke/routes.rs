//! Which served function a request is for (pure). One function served: every request, as
//! the Runtime Interface Emulator does (it answers any name, `function` included). Several:
//! the Invoke API's path names the function (its Lambda name, its package's, or an ARN whose
//! name part is one, percent-encoded as SDKs send it), and the front door's first path
//! segment does, taken off the path the function sees.

use xtask::lambda::names::parse_function;
use xtask::util::text::percent_decode;

pub(crate) struct Routes {
    /// Each function's Lambda name and package, in the order they are served.
    names: Vec<(String, String)>,
}

impl Routes {
    pub(crate) fn new(names: Vec<(String, String)>) -> Routes {
        Routes { names }
    }

    /// The function the Invoke API path's NAME (`/2015-03-31/functions/NAME/invocations`)
    /// names, or the name as Lambda would quote it in its ResourceNotFoundException.
    pub(crate) fn invoke(&self, in_path: &str) -> Result<usize, String> {
        if self.names.len() == 1 {
            return Ok(0);
        }
        let decoded = percent_decode(in_path, false);
        let name = parse_function(&decoded)
            .map(|f| f.name)
            .unwrap_or(decoded.clone());
        // A Lambda name is what the Invoke API names; a package's name only when no function
        // is called that.
        self.position(&name).ok_or(decoded)
    }

    /// The function a front-door path is for, and the path it sees.
    pub(crate) fn front(&self, path: &str) -> Option<(usize, String)> {
        if self.names.len() == 1 {
            return Some((0, path.to_string()));
        }
        let rest = path.strip_prefix('/')?;
        let (first, after) = match rest.split_once('/') {
            Some((first, after)) => (first, format!("/{after}")),
            None => (rest, "/".to_string()),
        };
        Some((self.position(first)?, after))
    }

    /// The function called `name`, else the one whose package is.
    fn position(&self, name: &str) -> Option<usize> {
        let by = |pick: fn(&(String, String)) -> &String| {
            self.names.iter().position(|n| pick(n) == name)
        };
        by(|(lambda, _)| lambda).or_else(|| by(|(_, package)| package))
    }

    /// `NAME (package)` of each, for messages.
    pub(crate) fn list(&self) -> String {
        self.names
            .iter()
            .map(|(lambda, package)| match lambda == package {
                true => lambda.clone(),
                false => format!("{lambda} ({package})"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Each function's Lambda name, in order.
    pub(crate) fn lambda_names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(|(lambda, _)| lambda.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn three() -> Routes {
        Routes::new(vec![
            ("echo".into(), "echo-function".into()),
            ("alpha".into(), "alpha".into()),
            ("beta".into(), "beta".into()),
        ])
    }

    #[test]
    fn one_function_answers_every_name_and_path() {
        let one = Routes::new(vec![("echo".into(), "echo-function".into())]);
        assert_eq!(one.invoke("function"), Ok(0));
        assert_eq!(one.invoke("anything"), Ok(0));
        assert_eq!(one.front("/hello"), Some((0, "/hello".into())));
    }

    #[test]
    fn several_are_told_apart_by_name_package_or_arn() {
        let r = three();
        assert_eq!(r.invoke("alpha"), Ok(1));
        assert_eq!(r.invoke("echo"), Ok(0));
        assert_eq!(r.invoke("echo-function"), Ok(0));
        assert_eq!(
            r.invoke("arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Abeta"),
            Ok(2)
        );
        assert_eq!(r.invoke("function"), Err("function".into()));
        assert_eq!(r.invoke("gamma"), Err("gamma".into()));
        assert_eq!(r.list(), "echo (echo-function), alpha, beta");
    }

    #[test]
    fn a_lambda_name_wins_over_another_function_s_package() {
        // Package `alpha` is the function `beta`; package `beta` is the function `gamma`.
        let r = Routes::new(vec![
            ("beta".into(), "alpha".into()),
            ("gamma".into(), "beta".into()),
        ]);
        assert_eq!(r.invoke("beta"), Ok(0));
        assert_eq!(r.invoke("alpha"), Ok(0));
        assert_eq!(r.invoke("gamma"), Ok(1));
        assert_eq!(r.front("/beta/x"), Some((0, "/x".into())));
    }

    #[test]
    fn the_front_door_s_first_segment_names_the_function() {
        let r = three();
        assert_eq!(r.front("/beta/hello"), Some((2, "/hello".into())));
        assert_eq!(r.front("/beta"), Some((2, "/".into())));
        assert_eq!(r.front("/echo-function/a/b"), Some((0, "/a/b".into())));
        assert_eq!(r.front("/hello"), None);
        assert_eq!(r.front("/"), None);
    }
}
