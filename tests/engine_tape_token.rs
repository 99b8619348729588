//! The replay token: `Tape` round-trips through `Display`/`FromStr`, and any
//! malformed, truncated or edited token is a clear `TapeError`, never a
//! panic. The fuzz tests build checksum-valid payloads too (FNV-1a 32 and
//! base64url are public formats), so the decoder behind the checksum is
//! exercised, not just the checksum check.

use std::str::FromStr;

use asyncsim::{Config, Draw, DrawLabel, Sim, Strategy, Tape, TapeError};
use proptest::prelude::*;
use proptest::strategy::Strategy as _;

const LABELS: [DrawLabel; 5] = [
    DrawLabel::Schedule,
    DrawLabel::Timer,
    DrawLabel::Start,
    DrawLabel::Random,
    DrawLabel::Pool,
];

fn fnv1a32(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |hash, byte| {
        (hash ^ u32::from(*byte)).wrapping_mul(0x0100_0193)
    })
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn base64url(bytes: &[u8]) -> String {
    let mut text = String::new();
    for chunk in bytes.chunks(3) {
        let word = chunk.iter().enumerate().fold(0u32, |word, (index, byte)| {
            word | (u32::from(*byte) << (16 - 8 * index))
        });
        for index in 0..chunk.len() + 1 {
            text.push(ALPHABET[((word >> (18 - 6 * index)) & 0x3f) as usize] as char);
        }
    }
    text
}

fn varint(mut value: u64, out: &mut Vec<u8>) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// A token with a correct checksum around any payload text.
fn sealed(payload: &str) -> String {
    format!("as1.{payload}.{:08x}", fnv1a32(payload.as_bytes()))
}

fn sealed_bytes(bytes: &[u8]) -> String {
    sealed(&base64url(bytes))
}

/// Parses without panicking (a panic fails the test with the input) and
/// checks that an error has a message.
fn parse(token: &str) -> Result<Tape, TapeError> {
    let result = Tape::from_str(token);
    if let Err(error) = &result {
        let message = error.to_string();
        assert!(
            message.len() > 20,
            "unhelpful message {message:?} for {token:?}"
        );
    }
    result
}

/// A small deterministic generator for the mutation loops.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }
}

fn draws() -> impl proptest::strategy::Strategy<Value = Vec<Draw>> {
    let value = prop_oneof![
        4 => Just(0u64),
        4 => 1u64..8,
        1 => any::<u64>(),
        1 => (1u64 << 58)..(1u64 << 61),
    ];
    prop::collection::vec((0usize..5, value), 0..40).prop_map(|draws| {
        draws
            .into_iter()
            .map(|(label, value)| Draw {
                label: LABELS[label],
                bound: value.wrapping_add(1),
                value,
            })
            .collect()
    })
}

fn run_tokens() -> Vec<(Tape, String)> {
    (0..8)
        .map(|seed| {
            let run = Sim::new(Config::new().seed(seed)).run(async {
                let handles: Vec<_> = (0..4)
                    .map(|_| {
                        asyncsim::spawn(async {
                            asyncsim::yield_now().await;
                            asyncsim::random::<u64>()
                        })
                    })
                    .collect();
                for handle in handles {
                    handle.await.unwrap();
                }
            });
            let token = run.tape.to_string();
            (run.tape, token)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn valid_tokens_of_random_tapes_round_trip(draws in draws()) {
        let tape = Tape::from_draws(draws);
        let token = tape.to_string();
        prop_assert!(token.starts_with("as1."));
        prop_assert!(token
            .bytes()
            .all(|byte| byte == b'.' || ALPHABET.contains(&byte)));
        let parsed = parse(&token).map_err(|error| TestCaseError::fail(error.to_string()))?;
        prop_assert_eq!(&parsed, &tape);
        prop_assert_eq!(parsed.len(), tape.significant().len());
        for (parsed, original) in parsed.draws().iter().zip(tape.draws()) {
            prop_assert_eq!((parsed.label, parsed.value), (original.label, original.value));
            prop_assert_eq!(parsed.bound, 0);
        }
        // Whitespace around a pasted token is forgiven.
        prop_assert_eq!(&parse(&format!("  {token}\n")).unwrap(), &tape);
        prop_assert_eq!(parsed.to_string(), token);
    }

    #[test]
    fn arbitrary_strings_never_panic(text in "\\PC{0,40}") {
        let _ = parse(&text);
        let _ = parse(&format!("as1.{text}"));
        let _ = parse(&sealed(&text));
    }

    #[test]
    fn token_shaped_strings_never_panic(text in "(as1)?[.A-Za-z0-9_=+/-]{0,48}") {
        let _ = parse(&text);
    }

    #[test]
    fn checksum_valid_random_payloads_never_panic(
        bytes in prop::collection::vec(
            prop_oneof![9 => 0u8..0x80, 1 => any::<u8>()],
            0..48,
        )
    ) {
        let token = sealed_bytes(&bytes);
        if let Ok(tape) = parse(&token) {
            // Whatever decodes re-encodes to a token that decodes the same.
            prop_assert_eq!(&parse(&tape.to_string()).unwrap(), &tape);
        }
    }

}

proptest! {
    // Fewer cases: uniformly random payloads often decode to runs of
    // millions of zero draws (up to the 2^24 cap), which take a while in
    // debug builds.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn checksum_valid_random_base64_never_panics(text in "[A-Za-z0-9_-]{0,24}") {
        let _ = parse(&sealed(&text));
    }
}

#[test]
fn every_truncation_of_a_token_is_an_error() {
    for (tape, token) in run_tokens() {
        assert_eq!(parse(&token).unwrap(), tape);
        for end in 0..token.len() {
            let prefix = &token[..end];
            assert!(parse(prefix).is_err(), "truncated token {prefix:?} parsed");
        }
        for start in 1..token.len() {
            assert!(
                parse(&token[start..]).is_err(),
                "suffix {:?} parsed",
                &token[start..]
            );
        }
    }
}

#[test]
fn thousands_of_mutated_tokens_never_panic_and_never_yield_another_tape() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let junk = [
        'A',
        'z',
        '0',
        '9',
        '-',
        '_',
        '.',
        '=',
        '+',
        '/',
        ' ',
        '\n',
        'é',
        '\u{0}',
        '\u{1F600}',
        'G',
        'f',
        'F',
    ];
    let mut parsed_ok = 0;
    let mut mutations = 0;
    for (tape, token) in run_tokens() {
        for _ in 0..1_000 {
            let mut chars: Vec<char> = token.chars().collect();
            let edits = 1 + rng.below(3);
            for _ in 0..edits {
                let position = rng.below(chars.len().max(1));
                match rng.below(5) {
                    0 if !chars.is_empty() => chars[position] = junk[rng.below(junk.len())],
                    1 if !chars.is_empty() => {
                        chars.remove(position);
                    }
                    2 => chars.insert(position, junk[rng.below(junk.len())]),
                    3 if chars.len() > 1 => {
                        let other = rng.below(chars.len());
                        chars.swap(position, other);
                    }
                    _ => chars.truncate(position),
                }
            }
            let mutated: String = chars.into_iter().collect();
            mutations += 1;
            if let Ok(parsed) = parse(&mutated) {
                // Only harmless edits parse: whitespace at the ends,
                // upper-case checksum digits, a swap of equal characters.
                assert_eq!(parsed, tape, "{mutated:?} parsed to another tape");
                parsed_ok += 1;
            }
        }
    }
    assert_eq!(mutations, 8_000);
    assert!(
        parsed_ok < mutations / 4,
        "{parsed_ok} of {mutations} mutations parsed"
    );
}

#[test]
fn payload_edits_behind_a_valid_checksum_never_panic() {
    let mut rng = XorShift(12345);
    for (_, token) in run_tokens() {
        let payload = token.split('.').nth(1).unwrap().to_string();
        for _ in 0..250 {
            let mut chars: Vec<u8> = payload.bytes().collect();
            match rng.below(3) {
                0 if !chars.is_empty() => {
                    let position = rng.below(chars.len());
                    chars[position] = ALPHABET[rng.below(64)];
                }
                1 => chars.insert(rng.below(chars.len() + 1), ALPHABET[rng.below(64)]),
                _ => chars.truncate(rng.below(chars.len() + 1)),
            }
            let edited = String::from_utf8(chars).unwrap();
            let _ = parse(&sealed(&edited));
        }
    }
}

#[test]
fn each_error_names_what_is_wrong() {
    let cases: Vec<(String, &str)> = vec![
        ("".into(), "empty"),
        ("   ".into(), "empty"),
        ("as1".into(), "no payload"),
        ("as1.AAAA".into(), "no checksum"),
        ("as1.AAAA.0000000".into(), "not 8 hex digits"),
        ("as1.AAAA.zzzzzzzz".into(), "not 8 hex digits"),
        // Four parts are `version.payload.origin.checksum`; five are too many.
        ("as1.A.B.C.D".into(), "more than four"),
        (sealed("AAAA.notahash"), "origin is not 8 hex digits"),
        ("as9.AAAA.00000000".into(), "version `as9`"),
        ("as1.AAAA.00000000".into(), "checksum"),
        (sealed("AB!C"), "not base64url"),
        (sealed("A"), "not valid base64"),
        // Header 0b1110: a single draw of label code 7.
        (sealed_bytes(&[0b0111_1110]), "draw kind 7"),
        // Header 0b0001: a run of zero draws of length 0.
        (sealed_bytes(&[0b0000_0001]), "length 0"),
        // Header 0b0000 then value 0: a single draw of value 0.
        (sealed_bytes(&[0, 0]), "value 0"),
        // A varint that never ends.
        (sealed_bytes(&[0x80, 0x80]), "cut off"),
        // A varint longer than 64 bits.
        (sealed_bytes(&[0xff; 11]), "overflows"),
        // A run of 2^24 + 1 zero draws.
        (
            {
                let mut bytes = Vec::new();
                varint((((1u64 << 24) + 1) << 4) | 1, &mut bytes);
                sealed_bytes(&bytes)
            },
            "more than",
        ),
    ];
    for (token, expected) in cases {
        let error = parse(&token).expect_err(&token);
        let message = error.to_string();
        assert!(
            message.contains(expected),
            "{token:?}: {message:?} does not say {expected:?}"
        );
    }
    // The strategy parser passes the token error through.
    let error = Strategy::from_str("replay:as1.AAAA").unwrap_err();
    assert!(error.contains("no checksum"), "{error}");
}

#[test]
fn a_large_draw_value_survives_the_escape_encoding() {
    let tape = Tape::from_draws(vec![
        Draw {
            label: DrawLabel::Random,
            bound: 0,
            value: u64::MAX,
        },
        Draw {
            label: DrawLabel::Pool,
            bound: 0,
            value: 1 << 59,
        },
        Draw {
            label: DrawLabel::Timer,
            bound: 0,
            value: (1 << 59) - 1,
        },
    ]);
    let parsed = parse(&tape.to_string()).unwrap();
    let values: Vec<u64> = parsed.draws().iter().map(|draw| draw.value).collect();
    assert_eq!(values, [u64::MAX, 1 << 59, (1 << 59) - 1]);
}
