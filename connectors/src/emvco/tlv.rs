//! The EMVCo data-object layer: `id` (2 digits) `length` (2 digits, decimal) `value`.
//!
//! Lengths count characters, not bytes. Every data object outside the merchant information
//! language template (tag 64) is restricted to printable ASCII, where the two coincide; the
//! language template may carry UTF-8 (a merchant name in Thai or Chinese), so the reader and
//! the writer both count `char`s.

use super::error::{QrError, TagPath};

/// One data object as it appears in a payload or template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Record<'a> {
    pub tag: u8,
    pub value: &'a str,
    /// Byte offset of the id in the whole payload.
    pub at: usize,
}

impl Record<'_> {
    /// Byte offset of the value in the whole payload (id and length are 4 ASCII bytes).
    pub fn value_at(&self) -> usize {
        self.at + 4
    }
}

/// Splits `input` into its data objects.
///
/// `base` is the byte offset of `input` in the whole payload (for error positions) and
/// `parent` the template `input` is the value of, if any (for error tags).
pub(crate) fn parse(input: &str, base: usize, parent: Option<u8>) -> Result<Vec<Record<'_>>, QrError> {
    let bytes = input.as_bytes();
    let path = |tag: u8| match parent {
        None => TagPath::top(tag),
        Some(p) => TagPath::nested(p, tag),
    };
    let mut records = Vec::with_capacity(if parent.is_none() { 16 } else { 4 });
    let mut pos = 0;
    while pos < bytes.len() {
        let at = base + pos;
        let tag = match two_digits(&bytes[pos..]) {
            Some(tag) => tag,
            None if bytes.len() - pos < 2 => return Err(QrError::Truncated { at }),
            None => return Err(QrError::BadTagId { at, found: first_chars(&input[pos..], 2) }),
        };
        let len = match two_digits(&bytes[pos + 2..]) {
            Some(len) => len as usize,
            None if bytes.len() - pos < 4 => return Err(QrError::Truncated { at }),
            None => {
                return Err(QrError::BadLengthDigits {
                    tag: path(tag),
                    at: at + 2,
                    found: first_chars(&input[pos + 2..], 2),
                })
            }
        };
        if len == 0 {
            return Err(QrError::EmptyValue { tag: path(tag) });
        }
        let (value, _) = split_chars(&input[pos + 4..], len).ok_or(QrError::Truncated { at })?;
        records.push(Record { tag, value, at });
        pos += 4 + value.len();
    }
    Ok(records)
}

/// The value of two leading ASCII digits, if `bytes` starts with them.
fn two_digits(bytes: &[u8]) -> Option<u8> {
    match bytes {
        [a @ b'0'..=b'9', b @ b'0'..=b'9', ..] => Some((a - b'0') * 10 + (b - b'0')),
        _ => None,
    }
}

/// Up to `n` leading characters of `s`, for error messages.
fn first_chars(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Splits `s` after `n` characters, or `None` if it has fewer.
fn split_chars(s: &str, n: usize) -> Option<(&str, &str)> {
    // Fast path: n ASCII bytes are n characters.
    if s.len() >= n && s.as_bytes()[..n].is_ascii() {
        return Some(s.split_at(n));
    }
    let end = match s.char_indices().nth(n) {
        Some((i, _)) => i,
        None if s.chars().count() == n => s.len(),
        None => return None,
    };
    Some(s.split_at(end))
}

/// Appends data objects to a payload or template.
///
/// Writing never fails, so that [`MerchantQr::encode`](super::MerchantQr::encode) is total;
/// a value longer than 99 characters cannot be represented, and the first such value is
/// remembered in `overflow` for [`MerchantQr::validate`](super::MerchantQr::validate).
#[derive(Debug, Default)]
pub(crate) struct Writer {
    pub out: String,
    pub overflow: Option<TagPath>,
}

impl Writer {
    pub fn with_capacity(capacity: usize) -> Self {
        Writer { out: String::with_capacity(capacity), overflow: None }
    }

    /// Writes one data object; `path` names it for the overflow report.
    pub fn push(&mut self, path: TagPath, value: &str) {
        let id = path.sub_tag.unwrap_or(path.tag);
        let len = if value.is_ascii() { value.len() } else { value.chars().count() };
        if (len > 99 || id > 99) && self.overflow.is_none() {
            self.overflow = Some(path);
        }
        push_number(&mut self.out, id as usize);
        push_number(&mut self.out, len);
        self.out.push_str(value);
    }

    /// Writes a template whose value is another writer's output.
    pub fn push_template(&mut self, tag: u8, inner: Writer) {
        if let Some(path) = inner.overflow {
            self.overflow.get_or_insert(path);
        }
        self.push(TagPath::top(tag), &inner.out);
    }
}

/// Writes `n` as at least two decimal digits.
fn push_number(out: &mut String, n: usize) {
    if n < 100 {
        out.push(char::from(b'0' + (n / 10) as u8));
        out.push(char::from(b'0' + (n % 10) as u8));
    } else {
        out.push_str(&n.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_flat_and_reports_positions() {
        let recs = parse("000201010211", 0, None).unwrap();
        assert_eq!(recs, vec![Record { tag: 0, value: "01", at: 0 }, Record { tag: 1, value: "11", at: 6 }]);
        assert_eq!(parse("0000", 10, Some(62)), Err(QrError::EmptyValue { tag: TagPath::nested(62, 0) }));
        assert_eq!(parse("00050123", 10, None), Err(QrError::Truncated { at: 10 }));
        assert_eq!(parse("0", 10, None), Err(QrError::Truncated { at: 10 }));
        assert_eq!(parse("000", 0, None), Err(QrError::Truncated { at: 0 }));
    }

    #[test]
    fn counts_characters_not_bytes() {
        let recs = parse("0102ไทย", 0, None);
        assert_eq!(recs, Err(QrError::BadTagId { at: 10, found: "ย".to_string() }));
        let recs = parse("0103ไทย0002ab", 0, None).unwrap();
        assert_eq!(recs[0].value, "ไทย");
        assert_eq!(recs[1], Record { tag: 0, value: "ab", at: 13 });
    }

    #[test]
    fn writer_pads_and_flags_overflow() {
        let mut w = Writer::default();
        w.push(TagPath::top(5), "abc");
        assert_eq!(w.out, "0503abc");
        assert_eq!(w.overflow, None);
        w.push(TagPath::top(59), &"x".repeat(100));
        assert_eq!(w.overflow, Some(TagPath::top(59)));
        assert!(w.out.starts_with("0503abc59100x"));
    }
}
