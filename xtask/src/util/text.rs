//! Decoding text that travelled inside a URL: the front door's paths and query strings, and
//! the policy documents IAM returns URL-encoded.

/// Percent-decodes `s`: `%XX` becomes that byte, and `+` a space when `plus_is_space`
/// (query strings, form encoding). A `%` without two hex digits after it stays as written;
/// bytes that are not UTF-8 become U+FFFD.
pub fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        if byte == b'%' {
            if let Some(decoded) = bytes.get(i + 1..i + 3).and_then(hex_pair) {
                out.push(decoded);
                i += 3;
                continue;
            }
        }
        out.push(if byte == b'+' && plus_is_space {
            b' '
        } else {
            byte
        });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_pair(pair: &[u8]) -> Option<u8> {
    let digit = |c: u8| char::from(c).to_digit(16);
    u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("/a%20b/%CE%BB", false), "/a b/λ");
        assert_eq!(percent_decode("a+b%2Bc", true), "a b+c");
        assert_eq!(percent_decode("a+b", false), "a+b");
        // Not an escape: kept as written.
        assert_eq!(percent_decode("100%", false), "100%");
        assert_eq!(percent_decode("%zz%4", false), "%zz%4");
        assert_eq!(percent_decode("%ff", false), "\u{fffd}");
        // A policy document as IAM's GetRolePolicy returns it.
        assert_eq!(
            percent_decode("%7B%22Effect%22%3A+%22Allow%22%7D", true),
            r#"{"Effect": "Allow"}"#
        );
    }
}
