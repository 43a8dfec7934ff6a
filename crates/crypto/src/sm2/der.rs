//! GM/T 0009 DER encoding of SM2 ciphertexts:
//! `SEQUENCE { INTEGER x, INTEGER y, OCTET STRING C3, OCTET STRING C2 }`.
//!
//! A minimal strict DER codec for exactly this structure: definite minimal lengths, minimal
//! non-negative INTEGERs below 2^256, a 32-byte C3, no trailing bytes. This is a format
//! conversion only: whether C1 is a point on the curve is checked by [`super::decrypt`] (so the
//! standard's test-curve example converts too).

use crate::CryptoError;

const TAG_INTEGER: u8 = 0x02;
const TAG_OCTET_STRING: u8 = 0x04;
const TAG_SEQUENCE: u8 = 0x30;
/// Size of C1 (uncompressed point) and C3 in the raw form.
const C1_LEN: usize = 65;
const C3_LEN: usize = 32;

fn invalid(reason: &'static str) -> CryptoError {
    CryptoError::InvalidCiphertext { reason }
}

/// Converts `C1 ‖ C3 ‖ C2` (C1 = 04 ‖ x ‖ y) to the GM/T 0009 DER form.
pub fn ciphertext_to_der(c1c3c2: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if c1c3c2.len() < C1_LEN + C3_LEN || c1c3c2[0] != 0x04 {
        return Err(invalid("expected 04 ‖ x ‖ y ‖ C3 ‖ C2"));
    }
    let (x, y) = (&c1c3c2[1..33], &c1c3c2[33..65]);
    let (c3, c2) = c1c3c2[C1_LEN..].split_at(C3_LEN);

    let mut body = Vec::with_capacity(c1c3c2.len() + 16);
    push_integer(&mut body, x);
    push_integer(&mut body, y);
    push_tlv(&mut body, TAG_OCTET_STRING, c3);
    push_tlv(&mut body, TAG_OCTET_STRING, c2);
    let mut out = Vec::with_capacity(body.len() + 6);
    push_tlv(&mut out, TAG_SEQUENCE, &body);
    Ok(out)
}

/// Converts the GM/T 0009 DER form to `C1 ‖ C3 ‖ C2` (C1 = 04 ‖ x ‖ y).
pub fn ciphertext_from_der(der: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let mut outer = Reader(der);
    let body = outer.read(TAG_SEQUENCE)?;
    if !outer.0.is_empty() {
        return Err(invalid("trailing bytes after the DER sequence"));
    }
    let mut fields = Reader(body);
    let x = fields.read_coordinate()?;
    let y = fields.read_coordinate()?;
    let c3 = fields.read(TAG_OCTET_STRING)?;
    let c2 = fields.read(TAG_OCTET_STRING)?;
    if !fields.0.is_empty() {
        return Err(invalid("trailing fields in the DER sequence"));
    }
    if c3.len() != C3_LEN {
        return Err(invalid("C3 is not 32 bytes"));
    }
    let mut out = Vec::with_capacity(C1_LEN + C3_LEN + c2.len());
    out.push(0x04);
    out.extend_from_slice(&x);
    out.extend_from_slice(&y);
    out.extend_from_slice(c3);
    out.extend_from_slice(c2);
    Ok(out)
}

fn push_tlv(out: &mut Vec<u8>, tag: u8, value: &[u8]) {
    out.push(tag);
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(value);
}

/// A non-negative INTEGER from big-endian magnitude bytes, minimally encoded.
fn push_integer(out: &mut Vec<u8>, magnitude: &[u8]) {
    let skip = magnitude.iter().take_while(|b| **b == 0).count();
    let trimmed = &magnitude[skip..];
    let mut value = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_none_or(|b| b & 0x80 != 0) {
        value.push(0);
    }
    value.extend_from_slice(trimmed);
    push_tlv(out, TAG_INTEGER, &value);
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], CryptoError> {
        if self.0.len() < n {
            return Err(invalid("truncated DER"));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn read(&mut self, tag: u8) -> Result<&'a [u8], CryptoError> {
        let header = self.take(2)?;
        if header[0] != tag {
            return Err(invalid("unexpected DER tag"));
        }
        let first = header[1];
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 {
                return Err(invalid("unsupported DER length"));
            }
            let bytes = self.take(count)?;
            if bytes[0] == 0 {
                return Err(invalid("non-minimal DER length"));
            }
            let len = bytes
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            if len < 0x80 {
                return Err(invalid("non-minimal DER length"));
            }
            len
        };
        self.take(len)
    }

    /// A non-negative minimal INTEGER below 2^256, left-padded to 32 bytes.
    fn read_coordinate(&mut self) -> Result<[u8; 32], CryptoError> {
        let value = self.read(TAG_INTEGER)?;
        match value {
            [] => return Err(invalid("empty INTEGER")),
            [first, ..] if first & 0x80 != 0 => return Err(invalid("negative INTEGER")),
            [0, second, ..] if second & 0x80 == 0 => {
                return Err(invalid("non-minimal INTEGER"));
            }
            _ => {}
        }
        let skip = usize::from(value[0] == 0 && value.len() > 1);
        let magnitude = &value[skip..];
        if magnitude.len() > 32 {
            return Err(invalid("coordinate longer than 32 bytes"));
        }
        let mut out = [0u8; 32];
        out[32 - magnitude.len()..].copy_from_slice(magnitude);
        Ok(out)
    }
}
