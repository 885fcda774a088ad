//! A minimal protobuf (proto2) reader and writer, just enough for the
//! Biscuit schema.
//!
//! Reading is defensive: every length is checked against the remaining
//! input, varints are at most 10 bytes, nested messages are bounded in depth,
//! unknown fields of wire types 0, 1, 2 and 5 are skipped, and groups
//! (wire types 3 and 4) are refused. Writing produces the canonical encoding
//! (minimal varints, fields in the order the caller writes them).

use std::fmt;

/// Maximum nesting of length-delimited messages within one decode call.
pub const MAX_DEPTH: u32 = 64;

/// Protobuf wire types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireType {
    Varint,
    Fixed64,
    LengthDelimited,
    Fixed32,
}

impl WireType {
    fn from_bits(bits: u64) -> Option<WireType> {
        match bits {
            0 => Some(WireType::Varint),
            1 => Some(WireType::Fixed64),
            2 => Some(WireType::LengthDelimited),
            5 => Some(WireType::Fixed32),
            _ => None,
        }
    }

    fn bits(self) -> u64 {
        match self {
            WireType::Varint => 0,
            WireType::Fixed64 => 1,
            WireType::LengthDelimited => 2,
            WireType::Fixed32 => 5,
        }
    }
}

/// What went wrong while reading protobuf bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProtoErrorKind {
    /// The input ended inside a value.
    Truncated,
    /// A varint longer than 10 bytes or overflowing 64 bits.
    VarintTooLong,
    /// A field key with field number 0 or beyond the protobuf maximum.
    InvalidFieldNumber,
    /// Wire type 3, 4, 6 or 7 (or an expected type that did not match).
    InvalidWireType(u8),
    /// Messages nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// A `string` field that is not valid UTF-8.
    InvalidUtf8,
}

impl fmt::Display for ProtoErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtoErrorKind::Truncated => write!(f, "truncated input"),
            ProtoErrorKind::VarintTooLong => write!(f, "invalid varint"),
            ProtoErrorKind::InvalidFieldNumber => write!(f, "invalid field number"),
            ProtoErrorKind::InvalidWireType(t) => write!(f, "unexpected wire type {}", t),
            ProtoErrorKind::TooDeep => write!(f, "messages nested too deeply"),
            ProtoErrorKind::InvalidUtf8 => write!(f, "string is not valid UTF-8"),
        }
    }
}

/// A cursor over protobuf bytes of one message.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    depth: u32,
}

impl<'a> Reader<'a> {
    /// A reader over a top-level message.
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader {
            buf,
            pos: 0,
            depth: 0,
        }
    }

    /// Whether every byte has been consumed.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Reads a base-128 varint (at most 10 bytes, at most 64 bits).
    pub fn read_varint(&mut self) -> Result<u64, ProtoErrorKind> {
        let mut value: u64 = 0;
        for i in 0..10 {
            let byte = *self.buf.get(self.pos).ok_or(ProtoErrorKind::Truncated)?;
            self.pos += 1;
            if i == 9 && byte > 1 {
                return Err(ProtoErrorKind::VarintTooLong);
            }
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(ProtoErrorKind::VarintTooLong)
    }

    /// Reads a field key: the field number and wire type.
    pub fn read_key(&mut self) -> Result<(u32, WireType), ProtoErrorKind> {
        let key = self.read_varint()?;
        if key > u64::from(u32::MAX) {
            return Err(ProtoErrorKind::InvalidFieldNumber);
        }
        let wire =
            WireType::from_bits(key & 7).ok_or(ProtoErrorKind::InvalidWireType((key & 7) as u8))?;
        let field = (key >> 3) as u32;
        if field == 0 {
            return Err(ProtoErrorKind::InvalidFieldNumber);
        }
        Ok((field, wire))
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], ProtoErrorKind> {
        if len > self.remaining() {
            return Err(ProtoErrorKind::Truncated);
        }
        let out = &self.buf[self.pos..self.pos + len];
        self.pos += len;
        Ok(out)
    }

    /// Reads the payload of a length-delimited field.
    pub fn read_bytes(&mut self) -> Result<&'a [u8], ProtoErrorKind> {
        let len = self.read_varint()?;
        if len > self.remaining() as u64 {
            return Err(ProtoErrorKind::Truncated);
        }
        self.take(len as usize)
    }

    /// Reads a length-delimited field as UTF-8 text.
    pub fn read_string(&mut self) -> Result<String, ProtoErrorKind> {
        let bytes = self.read_bytes()?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| ProtoErrorKind::InvalidUtf8)
    }

    /// Reads a length-delimited field as a nested message reader, one level
    /// deeper.
    pub fn read_message(&mut self) -> Result<Reader<'a>, ProtoErrorKind> {
        if self.depth + 1 > MAX_DEPTH {
            return Err(ProtoErrorKind::TooDeep);
        }
        let bytes = self.read_bytes()?;
        Ok(Reader {
            buf: bytes,
            pos: 0,
            depth: self.depth + 1,
        })
    }

    /// Skips the value of a field with the given wire type.
    pub fn skip(&mut self, wire: WireType) -> Result<(), ProtoErrorKind> {
        match wire {
            WireType::Varint => self.read_varint().map(|_| ()),
            WireType::Fixed64 => self.take(8).map(|_| ()),
            WireType::Fixed32 => self.take(4).map(|_| ()),
            WireType::LengthDelimited => self.read_bytes().map(|_| ()),
        }
    }

    /// Requires `wire` to be `expected`.
    pub fn expect(wire: WireType, expected: WireType) -> Result<(), ProtoErrorKind> {
        if wire == expected {
            Ok(())
        } else {
            Err(ProtoErrorKind::InvalidWireType(wire.bits() as u8))
        }
    }
}

/// Appends protobuf fields to a buffer.
#[derive(Clone, Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub fn new() -> Writer {
        Writer { buf: Vec::new() }
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    pub fn write_varint(&mut self, mut value: u64) {
        loop {
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                self.buf.push(byte);
                return;
            }
            self.buf.push(byte | 0x80);
        }
    }

    fn write_key(&mut self, field: u32, wire: WireType) {
        self.write_varint((u64::from(field) << 3) | wire.bits());
    }

    /// A `uint32`/`uint64`/`bool` field.
    pub fn uint(&mut self, field: u32, value: u64) {
        self.write_key(field, WireType::Varint);
        self.write_varint(value);
    }

    /// An `int64` field or an `int32` enum: two's complement, not zigzag.
    pub fn int(&mut self, field: u32, value: i64) {
        self.uint(field, value as u64);
    }

    /// A `bytes` or `string` field.
    pub fn bytes(&mut self, field: u32, value: &[u8]) {
        self.write_key(field, WireType::LengthDelimited);
        self.write_varint(value.len() as u64);
        self.buf.extend_from_slice(value);
    }

    /// A nested message field, built by `body`.
    pub fn message(&mut self, field: u32, body: impl FnOnce(&mut Writer)) {
        let mut inner = Writer::new();
        body(&mut inner);
        self.bytes(field, &inner.buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_round_trip() {
        for v in [
            0u64,
            1,
            127,
            128,
            300,
            u32::MAX as u64,
            u64::MAX,
            (-1i64) as u64,
        ] {
            let mut w = Writer::new();
            w.write_varint(v);
            let bytes = w.into_bytes();
            assert!(bytes.len() <= 10);
            let mut r = Reader::new(&bytes);
            assert_eq!(r.read_varint().unwrap(), v);
            assert!(r.is_empty());
        }
        let mut w = Writer::new();
        w.int(1, -1);
        assert_eq!(w.into_bytes().len(), 11);
    }

    #[test]
    fn varint_limits() {
        // 11 continuation bytes.
        let long = [0xffu8; 11];
        assert_eq!(
            Reader::new(&long).read_varint(),
            Err(ProtoErrorKind::VarintTooLong)
        );
        // 10th byte > 1 overflows 64 bits.
        let mut over = [0xffu8; 10];
        over[9] = 0x02;
        assert_eq!(
            Reader::new(&over).read_varint(),
            Err(ProtoErrorKind::VarintTooLong)
        );
        assert_eq!(
            Reader::new(&[0x80]).read_varint(),
            Err(ProtoErrorKind::Truncated)
        );
    }

    #[test]
    fn lengths_are_checked() {
        // field 1, length 5, only 2 bytes follow
        let data = [0x0a, 0x05, 0x01, 0x02];
        let mut r = Reader::new(&data);
        assert_eq!(r.read_key().unwrap(), (1, WireType::LengthDelimited));
        assert_eq!(r.read_bytes(), Err(ProtoErrorKind::Truncated));
        // huge length
        let data = [
            0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
        ];
        let mut r = Reader::new(&data);
        r.read_key().unwrap();
        assert_eq!(r.read_bytes(), Err(ProtoErrorKind::Truncated));
    }

    #[test]
    fn skips_all_wire_types_and_refuses_groups() {
        let data = [
            0x09, 1, 2, 3, 4, 5, 6, 7, 8, 0x15, 1, 2, 3, 4, 0x18, 0x96, 0x01, 0x22, 0x01, 0x00,
        ];
        let mut r = Reader::new(&data);
        while !r.is_empty() {
            let (_, wire) = r.read_key().unwrap();
            r.skip(wire).unwrap();
        }
        assert!(matches!(
            Reader::new(&[0x0b]).read_key(),
            Err(ProtoErrorKind::InvalidWireType(3))
        ));
        assert!(matches!(
            Reader::new(&[0x00]).read_key(),
            Err(ProtoErrorKind::InvalidFieldNumber)
        ));
        assert_eq!(
            Reader::new(&[0x0d, 1, 2]).skip(WireType::Fixed32),
            Err(ProtoErrorKind::Truncated)
        );
    }

    #[test]
    fn depth_is_bounded() {
        // Build MAX_DEPTH + 1 nested messages in field 1.
        let mut bytes: Vec<u8> = Vec::new();
        for _ in 0..(MAX_DEPTH + 1) {
            let mut w = Writer::new();
            w.bytes(1, &bytes);
            bytes = w.into_bytes();
        }
        fn descend(r: &mut Reader<'_>) -> Result<(), ProtoErrorKind> {
            while !r.is_empty() {
                let (_, wire) = r.read_key()?;
                Reader::expect(wire, WireType::LengthDelimited)?;
                let mut inner = r.read_message()?;
                descend(&mut inner)?;
            }
            Ok(())
        }
        assert_eq!(
            descend(&mut Reader::new(&bytes)),
            Err(ProtoErrorKind::TooDeep)
        );
    }

    #[test]
    fn strings_must_be_utf8() {
        let data = [0x02, 0xc3, 0x28];
        assert_eq!(
            Reader::new(&data).read_string(),
            Err(ProtoErrorKind::InvalidUtf8)
        );
    }
}
