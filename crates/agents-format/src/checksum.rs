//! SHA-256 checksums over the exact bytes of an agent file.

use std::fmt;

use sha2::Digest;

/// A SHA-256 digest, shown and stored as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sha256([u8; 32]);

/// A string that is not 64 lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid sha256 `{0}`: expected 64 lowercase hex digits")]
pub struct ChecksumError(pub String);

impl Sha256 {
    /// Hashes `bytes`.
    pub fn of(bytes: &[u8]) -> Sha256 {
        Sha256(sha2::Sha256::digest(bytes).into())
    }

    pub fn from_hex(hex: &str) -> Result<Sha256, ChecksumError> {
        let error = || ChecksumError(hex.chars().take(80).collect());
        if hex.len() != 64 {
            return Err(error());
        }
        let mut out = [0u8; 32];
        let bytes = hex.as_bytes();
        for (i, byte) in out.iter_mut().enumerate() {
            let (high, low) = (HEX_VALUES[usize::from(bytes[2 * i])], HEX_VALUES[usize::from(bytes[2 * i + 1])]);
            if high | low > 0x0f {
                return Err(error());
            }
            *byte = high << 4 | low;
        }
        Ok(Sha256(out))
    }

    pub fn to_hex(&self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(64);
        for byte in self.0 {
            out.push(DIGITS[usize::from(byte >> 4)] as char);
            out.push(DIGITS[usize::from(byte & 0xf)] as char);
        }
        out
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// Each byte's value as a lowercase hex digit, 0xff for any other byte (a table: every record,
/// lockfile entry and state file holds hundreds of checksums to read).
const HEX_VALUES: [u8; 256] = {
    let mut table = [0xffu8; 256];
    let mut digit = 0;
    while digit < 10 {
        table[b'0' as usize + digit] = digit as u8;
        digit += 1;
    }
    let mut letter = 0;
    while letter < 6 {
        table[b'a' as usize + letter] = 10 + letter as u8;
        letter += 1;
    }
    table
};

impl fmt::Display for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Sha256 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sha256({})", self.to_hex())
    }
}

impl std::str::FromStr for Sha256 {
    type Err = ChecksumError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Sha256::from_hex(s)
    }
}

impl serde::Serialize for Sha256 {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for Sha256 {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Sha256::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digest_round_trips() {
        let digest = Sha256::of(b"abc");
        let hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(digest.to_hex(), hex);
        assert_eq!(Sha256::from_hex(hex), Ok(digest));
    }

    #[test]
    fn rejects_malformed_hex() {
        let upper = "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD";
        for bad in ["", "abc", upper, &"g".repeat(64), &"a".repeat(63), &"a".repeat(65)] {
            assert!(Sha256::from_hex(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
