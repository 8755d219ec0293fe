//! Just enough DER (ITU-T X.690) to write and read the certificates and CMS
//! structures of an embedded PDF signature. Every writer returns the complete
//! encoding of one element; structures are built by nesting calls.

pub const SEQUENCE: u8 = 0x30;
pub const SET: u8 = 0x31;
pub const INTEGER: u8 = 0x02;
pub const BIT_STRING: u8 = 0x03;
pub const OCTET_STRING: u8 = 0x04;
pub const NULL: u8 = 0x05;
pub const OID: u8 = 0x06;
pub const UTF8_STRING: u8 = 0x0c;
pub const PRINTABLE_STRING: u8 = 0x13;
pub const UTC_TIME: u8 = 0x17;
pub const GENERALIZED_TIME: u8 = 0x18;
pub const BOOLEAN: u8 = 0x01;

/// One element: tag, definite length, content.
pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len() - 1);
        out.push(0x80 | (bytes.len() - first) as u8);
        out.extend_from_slice(&bytes[first..]);
    }
    out.extend_from_slice(content);
    out
}

pub fn sequence(parts: &[&[u8]]) -> Vec<u8> {
    tlv(SEQUENCE, &parts.concat())
}

/// A SET OF: DER orders the elements by their encodings.
pub fn set_of(parts: &[&[u8]]) -> Vec<u8> {
    let mut sorted: Vec<&[u8]> = parts.to_vec();
    sorted.sort();
    tlv(SET, &sorted.concat())
}

/// A non-negative INTEGER from big-endian magnitude bytes.
pub fn unsigned_integer(magnitude: &[u8]) -> Vec<u8> {
    let first = magnitude.iter().position(|b| *b != 0).unwrap_or(magnitude.len());
    let mut content = magnitude[first..].to_vec();
    if content.first().is_none_or(|b| b & 0x80 != 0) {
        content.insert(0, 0);
    }
    tlv(INTEGER, &content)
}

pub fn small_integer(value: u32) -> Vec<u8> {
    unsigned_integer(&value.to_be_bytes())
}

pub fn boolean(value: bool) -> Vec<u8> {
    tlv(BOOLEAN, &[if value { 0xff } else { 0 }])
}

pub fn octet_string(bytes: &[u8]) -> Vec<u8> {
    tlv(OCTET_STRING, bytes)
}

/// A BIT STRING of whole bytes (keys, signatures).
pub fn bit_string(bytes: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(bytes.len() + 1);
    content.push(0);
    content.extend_from_slice(bytes);
    tlv(BIT_STRING, &content)
}

/// A named-bit BIT STRING (key usage): bit 0 is the most significant bit of the first
/// byte; DER drops trailing zero bits.
pub fn named_bits(bits: &[u8]) -> Vec<u8> {
    let highest = bits.iter().copied().max().unwrap_or(0) as usize;
    let mut bytes = vec![0u8; highest / 8 + 1];
    for bit in bits {
        bytes[*bit as usize / 8] |= 0x80 >> (bit % 8);
    }
    let unused = 7 - (highest % 8) as u8;
    let mut content = vec![unused];
    content.extend_from_slice(&bytes);
    tlv(BIT_STRING, &content)
}

/// An OBJECT IDENTIFIER from its dotted form; the callers pass constants.
pub fn oid(dotted: &str) -> Vec<u8> {
    let arcs: Vec<u64> = dotted.split('.').map(|a| a.parse().expect("OID constants are numeric")).collect();
    let mut content = Vec::new();
    let mut push_arc = |mut value: u64| {
        let mut chunk = vec![(value & 0x7f) as u8];
        value >>= 7;
        while value > 0 {
            chunk.push(0x80 | (value & 0x7f) as u8);
            value >>= 7;
        }
        chunk.reverse();
        content.extend_from_slice(&chunk);
    };
    push_arc(arcs[0] * 40 + arcs[1]);
    for arc in &arcs[2..] {
        push_arc(*arc);
    }
    tlv(OID, &content)
}

pub fn utf8_string(text: &str) -> Vec<u8> {
    tlv(UTF8_STRING, text.as_bytes())
}

pub fn printable_string(text: &str) -> Vec<u8> {
    tlv(PRINTABLE_STRING, text.as_bytes())
}

/// UTCTime up to 2049, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5).
pub fn time(unix: i64) -> Vec<u8> {
    let at = chrono::DateTime::from_timestamp(unix, 0).unwrap_or_default();
    if at.format("%Y").to_string().parse::<i32>().unwrap_or(0) < 2050 {
        tlv(UTC_TIME, at.format("%y%m%d%H%M%SZ").to_string().as_bytes())
    } else {
        tlv(GENERALIZED_TIME, at.format("%Y%m%d%H%M%SZ").to_string().as_bytes())
    }
}

/// `[n] EXPLICIT`: a constructed context tag around a whole element.
pub fn explicit(n: u8, element: &[u8]) -> Vec<u8> {
    tlv(0xa0 | n, element)
}

/// `[n] IMPLICIT` of a constructed type (SET OF, SEQUENCE): the tag replaces the
/// element's own.
pub fn implicit_constructed(n: u8, element: &[u8]) -> Vec<u8> {
    let mut out = element.to_vec();
    out[0] = 0xa0 | n;
    out
}

/// A reading position in DER input. Every read checks its bounds: uploaded PDFs are
/// read with this, so malformed input must end in an error, never a panic.
#[derive(Clone, Copy)]
pub struct Reader<'a> {
    rest: &'a [u8],
}

/// One element read: its tag, content, and the whole encoding (tag and length too).
#[derive(Clone, Copy, Debug)]
pub struct Element<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    pub raw: &'a [u8],
}

#[derive(Debug, thiserror::Error)]
#[error("struktur DER tidak sah: {0}")]
pub struct Malformed(pub &'static str);

impl<'a> Reader<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        Self { rest: input }
    }

    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    pub fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    pub fn any(&mut self) -> Result<Element<'a>, Malformed> {
        let input = self.rest;
        let tag = *input.first().ok_or(Malformed("data berakhir"))?;
        if tag & 0x1f == 0x1f {
            return Err(Malformed("tag panjang tidak didukung"));
        }
        let first = *input.get(1).ok_or(Malformed("panjang hilang"))?;
        let (len, header) = if first < 0x80 {
            (first as usize, 2)
        } else {
            let count = (first & 0x7f) as usize;
            if count == 0 || count > 4 {
                return Err(Malformed("panjang tidak tentu atau terlalu besar"));
            }
            let bytes = input.get(2..2 + count).ok_or(Malformed("panjang terpotong"))?;
            (bytes.iter().fold(0usize, |acc, b| (acc << 8) | *b as usize), 2 + count)
        };
        let end = header.checked_add(len).ok_or(Malformed("panjang meluap"))?;
        let raw = input.get(..end).ok_or(Malformed("isi terpotong"))?;
        self.rest = &input[end..];
        Ok(Element {
            tag,
            content: &raw[header..],
            raw,
        })
    }

    /// The next element, which must carry `tag`.
    pub fn expect(&mut self, tag: u8) -> Result<Element<'a>, Malformed> {
        let element = self.any()?;
        if element.tag != tag {
            return Err(Malformed("tag tak terduga"));
        }
        Ok(element)
    }

    /// The next element's content read as a nested structure.
    pub fn nested(&mut self, tag: u8) -> Result<Reader<'a>, Malformed> {
        Ok(Reader::new(self.expect(tag)?.content))
    }

    /// Skips the next element when it carries `tag`.
    pub fn optional(&mut self, tag: u8) -> Result<Option<Element<'a>>, Malformed> {
        if self.peek_tag() == Some(tag) {
            self.any().map(Some)
        } else {
            Ok(None)
        }
    }
}

/// The dotted form of an encoded OBJECT IDENTIFIER's content.
pub fn oid_text(content: &[u8]) -> String {
    let mut arcs: Vec<u64> = Vec::new();
    let mut value: u64 = 0;
    for byte in content {
        value = (value << 7) | (byte & 0x7f) as u64;
        if byte & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (value / 40).min(2);
                arcs.push(first);
                arcs.push(value - first * 40);
            } else {
                arcs.push(value);
            }
            value = 0;
        }
    }
    arcs.iter().map(u64::to_string).collect::<Vec<_>>().join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_match_known_vectors() {
        assert_eq!(oid("1.2.840.113549.1.7.2"), hex::decode("06092a864886f70d010702").unwrap());
        assert_eq!(oid_text(&oid("2.16.840.1.101.3.4.2.3")[2..]), "2.16.840.1.101.3.4.2.3");
        assert_eq!(unsigned_integer(&[0x00, 0x80]), vec![0x02, 0x02, 0x00, 0x80]);
        assert_eq!(unsigned_integer(&[0, 0]), vec![0x02, 0x01, 0x00]);
        assert_eq!(small_integer(2), vec![0x02, 0x01, 0x02]);
        // digitalSignature + nonRepudiation; keyCertSign + cRLSign
        assert_eq!(named_bits(&[0, 1]), vec![0x03, 0x02, 0x06, 0xc0]);
        assert_eq!(named_bits(&[5, 6]), vec![0x03, 0x02, 0x01, 0x06]);
        assert_eq!(tlv(0x04, &[0; 200])[..3], [0x04, 0x81, 200]);
        assert_eq!(time(0), tlv(UTC_TIME, b"700101000000Z"));
        assert_eq!(time(2_556_144_000)[0], GENERALIZED_TIME);
        let set = set_of(&[&[0x02, 0x01, 0x05], &[0x02, 0x01, 0x01]]);
        assert_eq!(set, vec![0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x05]);
    }

    #[test]
    fn reader_refuses_truncated_and_oversized_lengths() {
        let whole = sequence(&[&small_integer(7), &octet_string(b"abc")]);
        let mut reader = Reader::new(&whole);
        let mut inner = reader.nested(SEQUENCE).unwrap();
        assert_eq!(inner.expect(INTEGER).unwrap().content, [7]);
        assert_eq!(inner.expect(OCTET_STRING).unwrap().content, b"abc");
        assert!(inner.is_empty() && reader.is_empty());
        for cut in 0..whole.len() {
            assert!(Reader::new(&whole[..cut]).any().is_err(), "cut at {cut}");
        }
        assert!(Reader::new(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).any().is_err());
        assert!(Reader::new(&[0x30, 0x80, 0, 0]).any().is_err());
    }
}
