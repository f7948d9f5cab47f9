//! Reading what a user points a command at, looking before reading: only a regular file, no
//! larger than Lambda would ever unpack, whose first bytes say ELF or zip. A FIFO, a device,
//! `/dev/zero` or a huge sparse file is refused at once instead of blocking or filling memory.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use super::NotInspectable;
use crate::bootstrap_zip;
use crate::lambda::MAX_UNZIPPED_BYTES;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Elf,
    Zip,
}

impl Kind {
    fn of(magic: &[u8]) -> Option<Kind> {
        if magic.starts_with(b"\x7fELF") {
            Some(Kind::Elf)
        } else if bootstrap_zip::is_zip(magic) {
            Some(Kind::Zip)
        } else {
            None
        }
    }
}

pub struct Input {
    pub kind: Kind,
    pub bytes: Vec<u8>,
}

/// Reads `path` if it is a regular file of at most [`MAX_UNZIPPED_BYTES`] whose magic is
/// one of `accept`.
pub fn read_input(path: &Path, accept: &[Kind]) -> Result<Input, NotInspectable> {
    let fail = |why: String| NotInspectable(format!("{}: {why}", path.display()));
    let (mut file, len) = crate::util::fs::open_regular(path).map_err(|why| {
        fail(match why.starts_with("is ") {
            true => format!("{why}; give the path of an ELF file or a zip"),
            false => why,
        })
    })?;
    if len > MAX_UNZIPPED_BYTES {
        return Err(fail(format!(
            "is {} bytes, over Lambda's {MAX_UNZIPPED_BYTES}-byte unzipped limit: no \
             deployment package or bootstrap can be that large",
            len
        )));
    }
    if len == 0 {
        return Err(fail("the file is empty".into()));
    }
    let mut magic = [0u8; 4];
    let got = read_up_to(&mut file, &mut magic).map_err(|e| fail(format!("reading it: {e}")))?;
    let found = Kind::of(&magic[..got]);
    match found {
        Some(k) if accept.contains(&k) => {}
        _ => {
            let expected = match accept {
                [Kind::Zip] => "a zip (no PK magic)",
                [Kind::Elf] => "an ELF file (no \\x7fELF magic)",
                _ => "an ELF file or a zip (neither \\x7fELF nor PK magic)",
            };
            return Err(fail(format!("not {expected}")));
        }
    }
    let mut bytes = Vec::with_capacity(len as usize);
    bytes.extend_from_slice(&magic[..got]);
    // The size was checked, but the file may grow while being read.
    file.take(MAX_UNZIPPED_BYTES + 1 - got as u64)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(format!("reading it: {e}")))?;
    if bytes.len() as u64 > MAX_UNZIPPED_BYTES {
        return Err(fail(format!(
            "grew past Lambda's {MAX_UNZIPPED_BYTES}-byte limit while being read"
        )));
    }
    Ok(Input {
        kind: found.expect("matched above"),
        bytes,
    })
}

/// Fills as much of `buf` as the file has.
fn read_up_to(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(path: &Path, accept: &[Kind]) -> String {
        match read_input(path, accept) {
            Ok(_) => panic!("{} was accepted", path.display()),
            Err(e) => e.0,
        }
    }

    #[test]
    fn refuses_what_is_not_a_regular_file_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(err(&fifo, &[Kind::Elf]).contains("is a FIFO"));
        assert!(err(dir.path(), &[Kind::Elf]).contains("is a directory"));
        assert!(err(Path::new("/dev/zero"), &[Kind::Elf]).contains("character device"));
    }

    #[test]
    fn refuses_huge_sparse_files_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let sparse = dir.path().join("sparse");
        let f = File::create(&sparse).unwrap();
        f.set_len(4 << 30).unwrap();
        assert!(err(&sparse, &[Kind::Zip]).contains("over Lambda's 262144000-byte"));
    }

    #[test]
    fn checks_the_magic_from_the_first_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("text");
        std::fs::write(&text, "hello").unwrap();
        assert!(err(&text, &[Kind::Zip]).contains("not a zip"));
        assert!(err(&text, &[Kind::Elf, Kind::Zip]).contains("neither"));
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "").unwrap();
        assert!(err(&empty, &[Kind::Elf]).contains("empty"));
        let elf = dir.path().join("elf");
        std::fs::write(&elf, b"\x7fELF\x02").unwrap();
        assert!(err(&elf, &[Kind::Zip]).contains("not a zip"));
        let input = read_input(&elf, &[Kind::Elf]).unwrap();
        assert_eq!((input.kind, input.bytes.len()), (Kind::Elf, 5));
    }
}
