//! The replay token: a tape as `as1.<payload>.<checksum>` text and back.

use std::fmt;
use std::str::FromStr;

use super::{Draw, DrawLabel, Tape};

/// The most draws a token may expand to: a bound on memory for hostile input
/// (about 24 MiB). The default step limit is 1,000,000, so no default run
/// makes more scheduling draws than this.
pub(super) const TOKEN_DRAWS_MAX: u64 = 1 << 20;

pub(super) const TOKEN_VERSION: &str = "as1";
/// `as1` with label code 7 as the escape ([`LABEL_ESCAPE`]).
pub(super) const TOKEN_VERSION_ESCAPED: &str = "as2";

impl fmt::Display for Tape {
    /// The replay token: `as1.<base64url payload>.<fnv32 checksum>`.
    /// With an origin: `as1.<payload>.<origin: 8 hex>.<checksum>`, the
    /// checksum covering `<payload>.<origin>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut payload = base64_encode(&self.encode_payload());
        if let Some(origin) = self.origin {
            payload.push_str(&format!(".{origin:08x}"));
        }
        write!(
            f,
            "{}.{payload}.{:08x}",
            self.token_version(),
            fnv1a32(payload.as_bytes())
        )
    }
}

/// A tape debug-prints as its replay token, `Tape("as1.…")`, the one form a
/// user can paste back (`"as1.…".parse::<Tape>()`): proptest shows a failing
/// schedule (asyncsim's `harness::schedules()`) this way in its "minimal
/// failing input", where the fields (a packed buffer, each draw's `bound`,
/// which a token does not keep) told nothing and took a line each. The draws
/// themselves: [`Tape::iter`], [`Tape::draws`].
///
/// ```
/// use asyncsim_sim::{Config, Sim, Strategy, Tape};
/// let run = Sim::new(Config::new().seed(1).strategy(Strategy::Random)).run(async {
///     let tasks: Vec<_> = (0..3).map(|i| asyncsim_sim::spawn(async move { i })).collect();
///     for task in tasks {
///         task.await.unwrap();
///     }
/// });
/// let printed = format!("{:#?}", run.tape); // as proptest prints an input
/// assert_eq!(printed, format!("Tape(\"{}\")", run.tape));
/// let pasted: Tape = printed["Tape(\"".len()..printed.len() - 2].parse().unwrap();
/// assert_eq!(pasted, run.tape);
/// ```
impl fmt::Debug for Tape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tape(\"{self}\")")
    }
}

impl FromStr for Tape {
    type Err = TapeError;

    fn from_str(token: &str) -> Result<Tape, TapeError> {
        let token = token.trim();
        if token.is_empty() {
            return Err(TapeError::Empty);
        }
        let parts: Vec<&str> = token.split('.').collect();
        let version = parts[0];
        // `version.payload.checksum`, or with an origin
        // `version.payload.origin.checksum` (the checksum covers both).
        let (payload, origin, checksum) = match parts[1..] {
            [] => return Err(TapeError::MissingPart("payload")),
            [_] => return Err(TapeError::MissingPart("checksum")),
            [payload, checksum] => (payload, None, checksum),
            [payload, origin, checksum] => (payload, Some(origin), checksum),
            _ => return Err(TapeError::Corrupt("more than four '.'-separated parts")),
        };
        let escape = match version {
            TOKEN_VERSION => false,
            TOKEN_VERSION_ESCAPED => true,
            _ => return Err(TapeError::Version(version.chars().take(16).collect())),
        };
        let expected = u32::from_str_radix(checksum, 16)
            .ok()
            .filter(|_| checksum.len() == 8)
            .ok_or(TapeError::Corrupt("the checksum is not 8 hex digits"))?;
        let summed = match origin {
            Some(origin) => format!("{payload}.{origin}"),
            None => payload.to_string(),
        };
        let actual = fnv1a32(summed.as_bytes());
        if expected != actual {
            return Err(TapeError::Checksum { expected, actual });
        }
        let origin = origin
            .map(|origin| {
                u32::from_str_radix(origin, 16)
                    .ok()
                    .filter(|_| origin.len() == 8)
                    .ok_or(TapeError::Corrupt("the origin is not 8 hex digits"))
            })
            .transpose()?;
        let bytes = base64_decode(payload)?;
        let mut tape = Tape::decode_payload(&bytes, escape)?;
        tape.origin = origin;
        Ok(tape)
    }
}

/// Why a replay token could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TapeError {
    /// The token was empty.
    Empty,
    /// A part of `as1.<payload>.<checksum>` is missing (probably truncated).
    MissingPart(&'static str),
    /// The token was made by an unknown format version.
    Version(String),
    /// The checksum does not match: the token was truncated or edited.
    Checksum {
        /// The checksum written in the token.
        expected: u32,
        /// The checksum of the payload as received.
        actual: u32,
    },
    /// The payload has a character outside base64url.
    Base64(char),
    /// The payload names a draw label this version does not know.
    UnknownLabel(u64),
    /// The payload is structurally broken.
    Corrupt(&'static str),
    /// The payload expands to more draws than any run could make.
    TooLong,
}

impl fmt::Display for TapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hint = "copy the whole token from the failure report (it looks like `as1.<payload>.<8 hex digits>`)";
        match self {
            TapeError::Empty => write!(f, "the replay token is empty; {hint}"),
            TapeError::MissingPart(part) => {
                write!(f, "the replay token has no {part} (is it truncated?); {hint}")
            }
            TapeError::Version(version) => write!(
                f,
                "the replay token has version `{version}`, this asyncsim reads `{TOKEN_VERSION}` and `{TOKEN_VERSION_ESCAPED}`; {hint}"
            ),
            TapeError::Checksum { expected, actual } => write!(
                f,
                "the replay token's checksum is {expected:08x} but its payload sums to {actual:08x}: the token was truncated or edited; {hint}"
            ),
            TapeError::Base64(character) => write!(
                f,
                "the replay token's payload has {character:?}, which is not base64url (A-Z a-z 0-9 - _); {hint}"
            ),
            TapeError::UnknownLabel(code) => {
                write!(f, "the replay token names draw kind {code}, which this asyncsim does not know")
            }
            TapeError::Corrupt(what) => write!(f, "the replay token is corrupt: {what}; {hint}"),
            TapeError::TooLong => write!(
                f,
                "the replay token expands to more than {TOKEN_DRAWS_MAX} draws, more than any run makes"
            ),
        }
    }
}

impl std::error::Error for TapeError {}

/// A header has three bits for the label: codes below this one are written
/// there; in an `as2` token this code says the label follows as its own
/// varint (its code minus this one), so labels added later fit without
/// changing older tokens (in `as1` it is an unknown label).
pub(super) const LABEL_ESCAPE: u64 = 7;

/// Writes an item's header: `bits` (count or value, and the run flag) with
/// the label's code in bits 1–3, escaped past [`LABEL_ESCAPE`].
pub(super) fn push_header(bytes: &mut Vec<u8>, bits: u64, label: u64) {
    if label < LABEL_ESCAPE {
        push_varint(bytes, bits | (label << 1));
    } else {
        push_varint(bytes, bits | (LABEL_ESCAPE << 1));
        push_varint(bytes, label - LABEL_ESCAPE);
    }
}

pub(super) fn push_varint(bytes: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            bytes.push(byte);
            return;
        }
        bytes.push(byte | 0x80);
    }
}

pub(super) fn read_varint(bytes: &[u8], position: &mut usize) -> Result<u64, TapeError> {
    let mut value: u64 = 0;
    for shift in (0..64).step_by(7) {
        let byte = *bytes
            .get(*position)
            .ok_or(TapeError::Corrupt("a number is cut off"))?;
        *position += 1;
        let bits = u64::from(byte & 0x7f);
        if shift == 63 && bits > 1 {
            return Err(TapeError::Corrupt("a number overflows 64 bits"));
        }
        value |= bits << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(TapeError::Corrupt("a number overflows 64 bits"))
}

pub(super) const BASE64_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

pub(super) fn base64_encode(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let word = chunk.iter().enumerate().fold(0u32, |word, (index, byte)| {
            word | (u32::from(*byte) << (16 - 8 * index))
        });
        let characters = chunk.len() + 1;
        for index in 0..characters {
            let sextet = (word >> (18 - 6 * index)) & 0x3f;
            text.push(BASE64_ALPHABET[sextet as usize] as char);
        }
    }
    text
}

pub(super) fn base64_decode(text: &str) -> Result<Vec<u8>, TapeError> {
    let mut bytes = Vec::with_capacity(text.len() * 3 / 4);
    let mut word: u32 = 0;
    let mut bits = 0;
    for character in text.chars() {
        let sextet = match character {
            'A'..='Z' => character as u32 - 'A' as u32,
            'a'..='z' => character as u32 - 'a' as u32 + 26,
            '0'..='9' => character as u32 - '0' as u32 + 52,
            '-' => 62,
            '_' => 63,
            other => return Err(TapeError::Base64(other)),
        };
        word = (word << 6) | sextet;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes.push((word >> bits) as u8);
            word &= (1 << bits) - 1;
        }
    }
    if bits >= 6 {
        return Err(TapeError::Corrupt("the payload length is not valid base64"));
    }
    Ok(bytes)
}

pub(crate) fn fnv1a32(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |hash, byte| {
        (hash ^ u32::from(*byte)).wrapping_mul(0x0100_0193)
    })
}

impl Tape {
    pub(super) fn encode_payload(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        let mut draws = self.iter().take(self.significant_len()).peekable();
        while let Some(draw) = draws.next() {
            let label = draw.label as u64;
            if draw.value == 0 {
                let mut run = 1;
                while draws
                    .next_if(|next| next.value == 0 && next.label == draw.label)
                    .is_some()
                {
                    run += 1;
                }
                push_header(&mut bytes, ((run as u64) << 4) | 1, label);
            } else {
                // A single draw: label and value in one header when the value
                // fits, otherwise an escape (count 0) followed by the value.
                if draw.value < (1 << 59) {
                    push_header(&mut bytes, draw.value << 4, label);
                } else {
                    push_header(&mut bytes, 0, label);
                    push_varint(&mut bytes, draw.value);
                }
            }
        }
        bytes
    }

    /// The token version this tape needs: `as1` unless a label's code needs
    /// the escape (labels added after `as1`, so every older token, and every
    /// tape without such a draw, reads and writes exactly as before).
    pub(super) fn token_version(&self) -> &'static str {
        let escaped = self
            .iter()
            .take(self.significant_len())
            .any(|draw| draw.label as u64 >= LABEL_ESCAPE);
        if escaped {
            TOKEN_VERSION_ESCAPED
        } else {
            TOKEN_VERSION
        }
    }

    pub(super) fn decode_payload(bytes: &[u8], escape: bool) -> Result<Tape, TapeError> {
        let mut draws = Vec::new();
        let mut position = 0;
        while position < bytes.len() {
            let header = read_varint(bytes, &mut position)?;
            let mut code = (header >> 1) & 0b111;
            if code == LABEL_ESCAPE {
                if !escape {
                    return Err(TapeError::UnknownLabel(code));
                }
                code = read_varint(bytes, &mut position)?.saturating_add(LABEL_ESCAPE);
            }
            let label = DrawLabel::from_code(code).ok_or(TapeError::UnknownLabel(code))?;
            let count = header >> 4;
            if header & 1 == 1 {
                if count == 0 {
                    return Err(TapeError::Corrupt("a run of zero draws has length 0"));
                }
                if draws.len() as u64 + count > TOKEN_DRAWS_MAX {
                    return Err(TapeError::TooLong);
                }
                draws.extend((0..count).map(|_| Draw {
                    label,
                    bound: 0,
                    value: 0,
                }));
            } else {
                let value = if count == 0 {
                    read_varint(bytes, &mut position)?
                } else {
                    count
                };
                if value == 0 {
                    return Err(TapeError::Corrupt("a single draw has value 0"));
                }
                if draws.len() as u64 + 1 > TOKEN_DRAWS_MAX {
                    return Err(TapeError::TooLong);
                }
                draws.push(Draw {
                    label,
                    bound: 0,
                    value,
                });
            }
        }
        Ok(Tape::from_draws(draws))
    }
}
