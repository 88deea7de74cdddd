//! A small namespace-aware XML tree over quick-xml's pull reader, borrowing from the input where
//! it can, and a fast escaping writer.
//!
//! The reader accepts prefixed and default namespaces alike (elements are matched by local
//! name and resolved namespace URI), refuses DTDs (no entity expansion), and bounds depth and
//! element count so hostile input cannot exhaust memory or the stack.

use std::borrow::Cow;

use quick_xml::events::Event;
use quick_xml::reader::Reader;

use crate::connector::ConnectorError;

pub const MAX_DEPTH: usize = 48;
pub const MAX_ELEMENTS: usize = 8192;
const NONE: u32 = u32::MAX;

struct Node<'a> {
    name: Cow<'a, str>,
    ns: u16,
    parent: u32,
    first_child: u32,
    last_child: u32,
    next: u32,
    text: Cow<'a, str>,
    attrs: (u32, u32),
}

/// A parsed document. Element 0 is the root.
pub struct Doc<'a> {
    nodes: Vec<Node<'a>>,
    attrs: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    namespaces: Vec<String>,
}

fn malformed(e: impl std::fmt::Display) -> ConnectorError {
    ConnectorError::MalformedXml(e.to_string())
}

/// `part` as a slice of `input` with `input`'s lifetime, if it lies inside it. quick-xml cuts
/// names, values and text at ASCII delimiters, so such a slice is on character boundaries
/// (`str::get` checks it in O(1), where `from_utf8` would rescan it).
fn reborrow<'a>(input: &'a str, part: &[u8]) -> Option<&'a str> {
    let start = (part.as_ptr() as usize).checked_sub(input.as_ptr() as usize)?;
    let slice = input.get(start..start.checked_add(part.len())?)?;
    (slice.as_ptr() == part.as_ptr()).then_some(slice)
}

fn as_str<'a>(input: &'a str, part: &[u8]) -> Result<Cow<'a, str>, ConnectorError> {
    match reborrow(input, part) {
        Some(s) => Ok(Cow::Borrowed(s)),
        None => String::from_utf8(part.to_vec()).map(Cow::Owned).map_err(malformed),
    }
}

fn cow_str<'a>(input: &'a str, bytes: Cow<'a, [u8]>) -> Result<Cow<'a, str>, ConnectorError> {
    match bytes {
        Cow::Borrowed(b) => as_str(input, b),
        Cow::Owned(v) => String::from_utf8(v).map(Cow::Owned).map_err(malformed),
    }
}

/// Checks a piece of character data: XML 1.0 allows no control characters but tab, line feed
/// and carriage return, and those three become spaces (payment text is single-line).
fn clean(piece: Cow<'_, str>) -> Result<Cow<'_, str>, ConnectorError> {
    if !piece.chars().any(char::is_control) {
        return Ok(piece);
    }
    let mut out = String::with_capacity(piece.len());
    for c in piece.chars() {
        match c {
            '\t' | '\n' | '\r' => out.push(' '),
            c if c.is_control() => {
                return Err(malformed(format!("control character U+{:04X} in character data", u32::from(c))))
            }
            c => out.push(c),
        }
    }
    Ok(Cow::Owned(out))
}

fn append<'a>(node: &mut Node<'a>, piece: Cow<'a, str>) -> Result<(), ConnectorError> {
    // Whitespace between child elements, or before any text, carries nothing.
    let blank = piece.bytes().all(|b| b.is_ascii_whitespace());
    if blank && (node.text.is_empty() || node.first_child != NONE) {
        return Ok(());
    }
    let piece = clean(piece)?;
    if node.text.is_empty() {
        node.text = piece;
    } else {
        node.text.to_mut().push_str(&piece);
    }
    Ok(())
}

/// A namespace binding in scope: `prefix` ("" for the default namespace) bound to
/// `namespaces[ns]` by the element at `depth`.
struct Binding<'a> {
    prefix: Cow<'a, str>,
    ns: u16,
    depth: usize,
}

const XML_NAMESPACE: &str = "http://www.w3.org/XML/1998/namespace";

impl<'a> Doc<'a> {
    fn intern(&mut self, uri: &str) -> Result<u16, ConnectorError> {
        if let Some(i) = self.namespaces.iter().position(|n| n == uri) {
            return Ok(i as u16);
        }
        if self.namespaces.len() >= 64 {
            return Err(malformed("more than 64 namespaces"));
        }
        self.namespaces.push(uri.to_string());
        Ok((self.namespaces.len() - 1) as u16)
    }

    /// Parses a document. Namespaces are resolved here, on quick-xml's plain reader: it is
    /// about twice as fast as its `NsReader` on ISO 20022 messages.
    pub fn parse(input: &'a str) -> Result<Self, ConnectorError> {
        let bytes = input;
        let mut reader = Reader::from_str(input);
        let mut doc =
            Doc { nodes: Vec::with_capacity(64), attrs: Vec::with_capacity(8), namespaces: vec![String::new()] };
        let mut stack: Vec<u32> = Vec::with_capacity(16);
        let mut bindings: Vec<Binding<'a>> = Vec::with_capacity(4);
        loop {
            let event = reader.read_event().map_err(malformed)?;
            match event {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    if stack.is_empty() && !doc.nodes.is_empty() {
                        return Err(malformed("more than one root element"));
                    }
                    if stack.len() >= MAX_DEPTH {
                        return Err(malformed(format!("elements nested deeper than {MAX_DEPTH}")));
                    }
                    if doc.nodes.len() >= MAX_ELEMENTS {
                        return Err(malformed(format!("more than {MAX_ELEMENTS} elements")));
                    }
                    let depth = stack.len();
                    let attr_start = doc.attrs.len() as u32;
                    if e.attributes_raw().iter().any(|b| !b.is_ascii_whitespace()) {
                        for a in e.attributes() {
                            let a = a.map_err(malformed)?;
                            let raw = as_str(bytes, &a.value)?;
                            let value = match raw {
                                Cow::Borrowed(s) => quick_xml::escape::unescape(s).map_err(malformed)?,
                                Cow::Owned(s) => {
                                    Cow::Owned(quick_xml::escape::unescape(&s).map_err(malformed)?.into_owned())
                                }
                            };
                            let value = clean(value)?;
                            let key = a.key.as_ref();
                            if key == b"xmlns" || key.starts_with(b"xmlns:") {
                                let prefix = match key.get(6..) {
                                    Some(p) => as_str(bytes, p)?,
                                    None => Cow::Borrowed(""),
                                };
                                if !prefix.is_empty() && value.is_empty() {
                                    return Err(malformed(format!("namespace prefix {prefix:?} bound to nothing")));
                                }
                                let ns = doc.intern(&value)?;
                                bindings.push(Binding { prefix, ns, depth });
                                continue;
                            }
                            doc.attrs.push((as_str(bytes, a.key.local_name().as_ref())?, value));
                        }
                    }
                    let qname = e.name();
                    let ns = match qname.prefix() {
                        None => bindings.iter().rev().find(|b| b.prefix.is_empty()).map_or(0, |b| b.ns),
                        Some(p) if p.as_ref() == b"xml" => doc.intern(XML_NAMESPACE)?,
                        Some(p) => {
                            bindings.iter().rev().find(|b| b.prefix.as_bytes() == p.as_ref()).map(|b| b.ns).ok_or_else(
                                || {
                                    malformed(format!(
                                        "undeclared namespace prefix {:?}",
                                        String::from_utf8_lossy(p.as_ref())
                                    ))
                                },
                            )?
                        }
                    };
                    let name = as_str(bytes, qname.local_name().as_ref())?;
                    let idx = doc.nodes.len() as u32;
                    let parent = stack.last().copied().unwrap_or(NONE);
                    doc.nodes.push(Node {
                        name,
                        ns,
                        parent,
                        first_child: NONE,
                        last_child: NONE,
                        next: NONE,
                        text: Cow::Borrowed(""),
                        attrs: (attr_start, doc.attrs.len() as u32),
                    });
                    if parent != NONE {
                        let p = &mut doc.nodes[parent as usize];
                        let prev = p.last_child;
                        p.last_child = idx;
                        if prev == NONE {
                            p.first_child = idx;
                        } else {
                            doc.nodes[prev as usize].next = idx;
                        }
                    }
                    if matches!(event, Event::Start(_)) {
                        stack.push(idx);
                    } else {
                        // An empty element's declarations go out of scope at once.
                        while bindings.last().is_some_and(|b| b.depth >= depth) {
                            bindings.pop();
                        }
                    }
                }
                Event::End(_) => {
                    stack.pop();
                    let depth = stack.len();
                    while bindings.last().is_some_and(|b| b.depth >= depth) {
                        bindings.pop();
                    }
                }
                Event::Text(t) => {
                    let piece = cow_str(input, t.into_inner())?;
                    match stack.last() {
                        Some(&top) => append(&mut doc.nodes[top as usize], piece)?,
                        None if piece.bytes().all(|b| b.is_ascii_whitespace()) => {}
                        None => return Err(malformed("text outside the root element")),
                    }
                }
                Event::CData(c) => {
                    let piece = cow_str(input, c.into_inner())?;
                    match stack.last() {
                        Some(&top) => append(&mut doc.nodes[top as usize], piece)?,
                        None => return Err(malformed("CDATA outside the root element")),
                    }
                }
                Event::GeneralRef(r) => {
                    let resolved: Cow<'a, str> = match r.resolve_char_ref().map_err(malformed)? {
                        Some(c) => Cow::Owned(c.to_string()),
                        None => {
                            let name = r.decode().map_err(malformed)?;
                            let value = quick_xml::escape::resolve_predefined_entity(&name)
                                .ok_or_else(|| malformed(format!("unknown entity &{name};")))?;
                            Cow::Borrowed(value)
                        }
                    };
                    let Some(&top) = stack.last() else {
                        return Err(malformed("entity reference outside the root element"));
                    };
                    let node = &mut doc.nodes[top as usize];
                    // A reference is always content, even a whitespace character.
                    let resolved = clean(resolved)?;
                    if node.text.is_empty() {
                        node.text = resolved;
                    } else {
                        node.text.to_mut().push_str(&resolved);
                    }
                }
                Event::DocType(_) => return Err(malformed("document type declarations are not accepted")),
                Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
                Event::Eof => {
                    if !stack.is_empty() {
                        return Err(malformed("unexpected end of input: unclosed element"));
                    }
                    if doc.nodes.is_empty() {
                        return Err(malformed("no root element"));
                    }
                    return Ok(doc);
                }
            }
        }
    }

    pub fn root(&self) -> El<'_, 'a> {
        El { doc: self, i: 0 }
    }
}

/// An element of a [`Doc`].
#[derive(Clone, Copy)]
pub struct El<'d, 'a> {
    doc: &'d Doc<'a>,
    i: u32,
}

impl<'d, 'a> El<'d, 'a> {
    fn node(&self) -> &'d Node<'a> {
        &self.doc.nodes[self.i as usize]
    }

    /// Local name (without prefix).
    pub fn name(&self) -> &'d str {
        &self.node().name
    }

    /// Resolved namespace URI ("" when unbound).
    pub fn ns(&self) -> &'d str {
        &self.doc.namespaces[self.node().ns as usize]
    }

    /// Text content, trimmed.
    pub fn text(&self) -> &'d str {
        self.node().text.trim()
    }

    pub fn attr(&self, local_name: &str) -> Option<&'d str> {
        let (a, b) = self.node().attrs;
        self.doc.attrs[a as usize..b as usize].iter().find(|(k, _)| k == local_name).map(|(_, v)| v.as_ref())
    }

    pub fn has_children(&self) -> bool {
        self.node().first_child != NONE
    }

    pub fn children(&self) -> Children<'d, 'a> {
        Children { doc: self.doc, next: self.node().first_child }
    }

    /// First child with this local name in this element's namespace.
    pub fn child(&self, name: &str) -> Option<El<'d, 'a>> {
        let ns = self.node().ns;
        self.children().find(|c| c.node().ns == ns && c.name() == name)
    }

    /// First child with this local name, in any namespace.
    pub fn child_any_ns(&self, name: &str) -> Option<El<'d, 'a>> {
        self.children().find(|c| c.name() == name)
    }

    /// Number of children with this local name in this element's namespace.
    pub fn count(&self, name: &str) -> usize {
        let ns = self.node().ns;
        self.children().filter(|c| c.node().ns == ns && c.name() == name).count()
    }

    /// `Root/Child/…/This`, for error messages.
    pub fn path(&self) -> String {
        let mut names = vec![self.name()];
        let mut i = self.node().parent;
        while i != NONE {
            let n = &self.doc.nodes[i as usize];
            names.push(&n.name);
            i = n.parent;
        }
        names.reverse();
        names.join("/")
    }
}

pub struct Children<'d, 'a> {
    doc: &'d Doc<'a>,
    next: u32,
}

impl<'d, 'a> Iterator for Children<'d, 'a> {
    type Item = El<'d, 'a>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next == NONE {
            return None;
        }
        let el = El { doc: self.doc, i: self.next };
        self.next = self.doc.nodes[self.next as usize].next;
        Some(el)
    }
}

/// Escapes XML text or attribute content into `out`.
pub fn escape_into(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let rep: &[u8] = match b {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'"' => b"&quot;",
            b'\'' => b"&apos;",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(rep);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Writes elements with an optional namespace prefix straight into a byte buffer.
pub struct XmlWriter {
    pub buf: Vec<u8>,
    prefix: &'static str,
}

impl XmlWriter {
    pub fn new(capacity: usize) -> Self {
        let mut buf = Vec::with_capacity(capacity);
        buf.extend_from_slice(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        Self { buf, prefix: "" }
    }

    /// Prefix for the elements written next ("" for the default namespace).
    pub fn set_prefix(&mut self, prefix: &'static str) {
        self.prefix = prefix;
    }

    fn name(&mut self, name: &str) {
        if !self.prefix.is_empty() {
            self.buf.extend_from_slice(self.prefix.as_bytes());
            self.buf.push(b':');
        }
        self.buf.extend_from_slice(name.as_bytes());
    }

    /// Opens an element declaring `namespace` for the current prefix (or as default).
    pub fn open_ns(&mut self, name: &str, namespace: &str) {
        self.buf.push(b'<');
        self.name(name);
        self.buf.extend_from_slice(b" xmlns");
        if !self.prefix.is_empty() {
            self.buf.push(b':');
            self.buf.extend_from_slice(self.prefix.as_bytes());
        }
        self.buf.extend_from_slice(b"=\"");
        escape_into(&mut self.buf, namespace);
        self.buf.extend_from_slice(b"\">");
    }

    pub fn open(&mut self, name: &str) {
        self.buf.push(b'<');
        self.name(name);
        self.buf.push(b'>');
    }

    pub fn close(&mut self, name: &str) {
        self.buf.extend_from_slice(b"</");
        self.name(name);
        self.buf.push(b'>');
    }

    pub fn leaf(&mut self, name: &str, text: &str) {
        self.open(name);
        escape_into(&mut self.buf, text);
        self.close(name);
    }

    /// `<name attr="value">…</name>` with the content written by `content`.
    pub fn leaf_with<F: FnOnce(&mut Vec<u8>) -> Result<(), ConnectorError>>(
        &mut self,
        name: &str,
        attr: Option<(&str, &str)>,
        content: F,
    ) -> Result<(), ConnectorError> {
        self.buf.push(b'<');
        self.name(name);
        if let Some((k, v)) = attr {
            self.buf.push(b' ');
            self.buf.extend_from_slice(k.as_bytes());
            self.buf.extend_from_slice(b"=\"");
            escape_into(&mut self.buf, v);
            self.buf.push(b'"');
        }
        self.buf.push(b'>');
        content(&mut self.buf)?;
        self.close(name);
        Ok(())
    }

    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_and_prefixed_namespaces_resolve_alike() {
        for src in [
            r#"<Document xmlns="urn:x"><A><B>1</B></A></Document>"#,
            r#"<?xml version="1.0"?><p:Document xmlns:p="urn:x"><p:A><p:B> 1 </p:B></p:A></p:Document>"#,
        ] {
            let doc = Doc::parse(src).unwrap();
            let root = doc.root();
            assert_eq!((root.name(), root.ns()), ("Document", "urn:x"));
            let b = root.child("A").unwrap().child("B").unwrap();
            assert_eq!(b.text(), "1");
            assert_eq!(b.path(), "Document/A/B");
        }
    }

    #[test]
    fn children_in_another_namespace_are_not_matched() {
        let doc = Doc::parse(r#"<Document xmlns="urn:x"><A xmlns="urn:y"/></Document>"#).unwrap();
        assert!(doc.root().child("A").is_none());
        assert_eq!(doc.root().child_any_ns("A").unwrap().ns(), "urn:y");
    }

    #[test]
    fn entities_cdata_and_attributes() {
        let doc = Doc::parse(r#"<a><b c="x &amp; y">A &amp; B &lt; &#x43;</b><d><![CDATA[<raw>]]></d></a>"#).unwrap();
        let b = doc.root().child("b").unwrap();
        assert_eq!(b.text(), "A & B < C");
        assert_eq!(b.attr("c"), Some("x & y"));
        assert_eq!(doc.root().child("d").unwrap().text(), "<raw>");
        let doc = Doc::parse("<a>line one\r\nline\ttwo</a>").unwrap();
        assert_eq!(doc.root().text(), "line one  line two");
    }

    #[test]
    fn rejects_what_it_should() {
        for bad in [
            "",
            "<a>",
            "<a></b>",
            "<a/><b/>",
            "text",
            "<a>&ent;</a>",
            "<!DOCTYPE a [<!ENTITY x \"y\">]><a/>",
            "<p:a/>",
            "<a x='1' x='2'/>",
            "<a>\u{1}</a>",
            "<a>&#x7;</a>",
        ] {
            assert!(matches!(Doc::parse(bad), Err(ConnectorError::MalformedXml(_))), "{bad:?}");
        }
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert!(Doc::parse(&deep).is_err());
        let wide = format!("<a>{}</a>", "<b/>".repeat(MAX_ELEMENTS));
        assert!(Doc::parse(&wide).is_err());
    }

    /// Names, prefixes, attribute values and text in any script are read whole (the reader
    /// re-borrows them from the input on character boundaries); broken ones are errors.
    #[test]
    fn non_ascii_names_values_and_text() {
        let src = "<p:Dokümént xmlns:p=\"urn:é\"><p:Nm a=\"Ｓ1234567Ｄ\">付款 😀 é</p:Nm><Ｘ/></p:Dokümént>";
        let doc = Doc::parse(src).unwrap();
        let root = doc.root();
        assert_eq!((root.name(), root.ns()), ("Dokümént", "urn:é"));
        let nm = root.child("Nm").unwrap();
        assert_eq!(nm.text(), "付款 😀 é");
        assert_eq!(nm.attr("a"), Some("Ｓ1234567Ｄ"));
        assert!(root.child_any_ns("Ｘ").is_some());
        for bad in ["<é", "<é>", "<a>é</b>", "<a b=\"é/>", "<é:a/>", "<a>&é;</a>", "é<a/>"] {
            assert!(matches!(Doc::parse(bad), Err(ConnectorError::MalformedXml(_))), "{bad:?}");
        }
        let mut out = Vec::new();
        escape_into(&mut out, "é<😀>&付");
        assert_eq!(out, "é&lt;😀&gt;&amp;付".as_bytes());
    }

    #[test]
    fn writer_escapes_and_prefixes() {
        let mut w = XmlWriter::new(64);
        w.set_prefix("ns2");
        w.open_ns("Document", "urn:x");
        w.leaf("Nm", "A&B <\"'>");
        w.close("Document");
        let out = String::from_utf8(w.finish()).unwrap();
        assert!(out.ends_with(
            r#"<ns2:Document xmlns:ns2="urn:x"><ns2:Nm>A&amp;B &lt;&quot;&apos;&gt;</ns2:Nm></ns2:Document>"#
        ));
        let doc = Doc::parse(&out).unwrap();
        assert_eq!(doc.root().child("Nm").unwrap().text(), "A&B <\"'>");
    }
}
