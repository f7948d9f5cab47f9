//! AWS's event stream framing (`application/vnd.amazon.eventstream`), as InvokeWithResponseStream
//! answers in it: each message a prelude (total and headers length, its CRC32), string
//! headers, the payload, and the whole message's CRC32. Pure.

use hyper::body::Bytes;

/// One event message with string headers.
fn message(headers: &[(&str, &str)], payload: &[u8]) -> Bytes {
    let mut head = Vec::new();
    for (name, value) in headers {
        head.push(name.len() as u8);
        head.extend_from_slice(name.as_bytes());
        // Header value type 7: a string, its length in two bytes.
        head.push(7);
        head.extend_from_slice(&(value.len() as u16).to_be_bytes());
        head.extend_from_slice(value.as_bytes());
    }
    let total = 12 + head.len() + payload.len() + 4;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&(total as u32).to_be_bytes());
    out.extend_from_slice(&(head.len() as u32).to_be_bytes());
    out.extend_from_slice(&crc32fast::hash(&out).to_be_bytes());
    out.extend_from_slice(&head);
    out.extend_from_slice(payload);
    out.extend_from_slice(&crc32fast::hash(&out).to_be_bytes());
    out.into()
}

/// A `PayloadChunk` event: a piece of the function's response.
pub(super) fn payload_chunk(bytes: &[u8]) -> Bytes {
    message(
        &[
            (":event-type", "PayloadChunk"),
            (":content-type", "application/octet-stream"),
            (":message-type", "event"),
        ],
        bytes,
    )
}

/// The `InvokeComplete` event that ends the stream: the error (its type and message) if the
/// invocation failed, and the log's end for `LogType: Tail`.
pub(super) fn invoke_complete(error: Option<(&str, &str)>, log_result: Option<&str>) -> Bytes {
    let mut body = serde_json::Map::new();
    if let Some((code, details)) = error {
        body.insert("ErrorCode".into(), code.into());
        body.insert("ErrorDetails".into(), details.into());
    }
    if let Some(log) = log_result {
        body.insert("LogResult".into(), log.into());
    }
    message(
        &[
            (":event-type", "InvokeComplete"),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        serde_json::Value::Object(body).to_string().as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads one message back: its headers and payload, both CRCs checked.
    fn read(message: &[u8]) -> (Vec<(String, String)>, Vec<u8>) {
        let total = u32::from_be_bytes(message[0..4].try_into().unwrap()) as usize;
        let head_len = u32::from_be_bytes(message[4..8].try_into().unwrap()) as usize;
        assert_eq!(total, message.len());
        assert_eq!(
            u32::from_be_bytes(message[8..12].try_into().unwrap()),
            crc32fast::hash(&message[..8])
        );
        assert_eq!(
            u32::from_be_bytes(message[total - 4..].try_into().unwrap()),
            crc32fast::hash(&message[..total - 4])
        );
        let mut headers = Vec::new();
        let mut at = 12;
        while at < 12 + head_len {
            let n = message[at] as usize;
            let name = String::from_utf8(message[at + 1..at + 1 + n].to_vec()).unwrap();
            at += 1 + n;
            assert_eq!(message[at], 7);
            let len = u16::from_be_bytes([message[at + 1], message[at + 2]]) as usize;
            let value = String::from_utf8(message[at + 3..at + 3 + len].to_vec()).unwrap();
            at += 3 + len;
            headers.push((name, value));
        }
        (headers, message[12 + head_len..total - 4].to_vec())
    }

    #[test]
    fn messages_frame_and_check_as_aws_does() {
        let (headers, payload) = read(&payload_chunk(b"hello"));
        assert_eq!(payload, b"hello");
        assert!(headers.contains(&(":event-type".into(), "PayloadChunk".into())));
        let (headers, payload) = read(&invoke_complete(
            Some(("Runtime.StreamError", "disk full")),
            None,
        ));
        assert!(headers.contains(&(":event-type".into(), "InvokeComplete".into())));
        let body: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        assert_eq!(body["ErrorCode"], "Runtime.StreamError");
        assert_eq!(body["ErrorDetails"], "disk full");
        let (_, payload) = read(&invoke_complete(None, None));
        assert_eq!(payload, b"{}");
        // An empty chunk is still a well-formed message.
        assert_eq!(read(&payload_chunk(b"")).1, b"");
    }
}
