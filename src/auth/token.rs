//! API tokens: `gp_<id>_<secret>`, where `id` is 8 random bytes that name
//! the token in the database and `secret` 32 random bytes, both hex. Only
//! a salted SHA-256 of the secret is stored.
//!
//! A 256-bit random secret cannot be guessed or brute-forced from its hash,
//! so the slow password hashes (argon2, bcrypt), which exist to protect
//! low-entropy passwords, would only add tens of milliseconds of CPU to
//! every request; the salt keeps equal secrets from having equal hashes.

use std::fmt::Write as _;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

const PREFIX: &str = "gp_";
const ID_BYTES: usize = 8;
const SECRET_BYTES: usize = 32;
const SALT_BYTES: usize = 16;

/// The random source failed.
#[derive(Debug, thiserror::Error)]
#[error("the system random source failed: {0}")]
pub struct RandomError(String);

/// A token was not of the form `gp_<16 hex>_<64 hex>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed token")]
pub struct Malformed;

fn random<const N: usize>() -> Result<[u8; N], RandomError> {
    let mut b = [0u8; N];
    getrandom::getrandom(&mut b).map_err(|e| RandomError(e.to_string()))?;
    Ok(b)
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    if s.len() != N * 2 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(i * 2..i * 2 + 2)?, 16).ok()?;
    }
    Some(out)
}

/// What the database keeps of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHash {
    /// The public id, hex.
    pub id: String,
    pub salt: Vec<u8>,
    pub hash: Vec<u8>,
}

/// A token presented by a client, split into its id and secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Presented {
    pub id: String,
    secret: [u8; SECRET_BYTES],
}

impl std::fmt::Debug for Presented {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Presented")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

fn digest(salt: &[u8], secret: &[u8]) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(secret);
    h.finalize().to_vec()
}

/// Generates a token: the plaintext, to show once, and its stored hash.
pub fn generate() -> Result<(String, TokenHash), RandomError> {
    let id = hex(&random::<ID_BYTES>()?);
    let secret = random::<SECRET_BYTES>()?;
    let salt = random::<SALT_BYTES>()?.to_vec();
    let plain = format!("{PREFIX}{id}_{}", hex(&secret));
    let hash = digest(&salt, &secret);
    Ok((plain, TokenHash { id, salt, hash }))
}

/// Splits a presented token; anything but the exact form is refused.
pub fn parse(token: &str) -> Result<Presented, Malformed> {
    let rest = token.strip_prefix(PREFIX).ok_or(Malformed)?;
    let (id, secret) = rest.split_once('_').ok_or(Malformed)?;
    unhex::<ID_BYTES>(id).ok_or(Malformed)?;
    let secret = unhex::<SECRET_BYTES>(secret).ok_or(Malformed)?;
    Ok(Presented {
        id: id.to_ascii_lowercase(),
        secret,
    })
}

impl Presented {
    /// Whether the secret matches a stored hash, in constant time.
    #[must_use]
    pub fn matches(&self, stored: &TokenHash) -> bool {
        let d = digest(&stored.salt, &self.secret);
        stored.id == self.id && bool::from(d.ct_eq(&stored.hash))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_token_verifies_and_a_changed_one_does_not() {
        let (plain, stored) = generate().expect("random");
        assert_eq!(plain.len(), 3 + 16 + 1 + 64);
        let p = parse(&plain).expect("well formed");
        assert!(p.matches(&stored));
        assert!(!plain.contains(&hex(&stored.hash)));
        let mut other = plain.clone().into_bytes();
        let last = other.len() - 1;
        other[last] = if other[last] == b'0' { b'1' } else { b'0' };
        let q = parse(std::str::from_utf8(&other).expect("ascii")).expect("well formed");
        assert!(!q.matches(&stored));
        let (_, stored2) = generate().expect("random");
        assert!(!p.matches(&stored2));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        for bad in [
            "",
            "gp_",
            "gp__",
            "Bearer x",
            "gp_0123456789abcdef",
            "gp_0123456789abcdef_00",
            "gp_0123456789abcdeg_0000000000000000000000000000000000000000000000000000000000000000",
            "xx_0123456789abcdef_0000000000000000000000000000000000000000000000000000000000000000",
            "gp_0123456789abcdef_000000000000000000000000000000000000000000000000000000000000000é",
        ] {
            assert_eq!(parse(bad), Err(Malformed), "{bad}");
        }
    }
}
