//! Labels and times written by hand read as `format!` wrote them.

use crate::world::push_decimal;

#[test]
fn push_decimal_writes_what_display_writes() {
    for value in [0, 7, 10, 99, 100, 49152, 65535, 1 << 40, u64::MAX] {
        let mut text = String::from("#");
        push_decimal(&mut text, value);
        assert_eq!(text, format!("#{value}"));
    }
}

#[test]
fn format_ns_trims_the_fraction_as_before() {
    let old = |ns: u64| {
        let (seconds, fraction) = (ns / 1_000_000_000, ns % 1_000_000_000);
        if fraction == 0 {
            format!("{seconds}s")
        } else {
            let digits = format!("{fraction:09}");
            format!("{seconds}.{}s", digits.trim_end_matches('0'))
        }
    };
    for ns in [
        0,
        1,
        10,
        999_999_999,
        1_000_000_000,
        1_500_000_000,
        2_333_333_333,
        94_999_999,
        100_000_000,
        u64::MAX,
    ] {
        assert_eq!(crate::trace::format_ns(ns), old(ns), "{ns}");
    }
    assert_eq!(crate::trace::format_ns(1_000), "0.000001s");
}

#[test]
fn the_words_memo_gives_kept_words_only_for_the_same_key_and_names() {
    use crate::world::{WordsKey, WordsMemo};
    let mut memo = WordsMemo::default();
    let names: Vec<std::rc::Rc<str>> = vec!["server".into(), "db".into()];
    let mut made = 0;
    let mut words = |memo: &mut WordsMemo, port, name: &'static str| {
        // A name equal to a kept one, not the same `Rc`, when made again.
        let name: std::rc::Rc<str> = match names.iter().find(|kept| ***kept == *name) {
            Some(kept) if port == 7000 => kept.clone(),
            _ => name.into(),
        };
        let key = WordsKey {
            kind: 2,
            numbers: [port, 0, 0, 0, 0],
            names: [&name, &name],
        };
        let (words, hashes) = memo.words(key, || {
            made += 1;
            format!("TcpListener ({name}:{port})")
        });
        // The hashes the trace folds in and interns these words under.
        assert_eq!(hashes, crate::trace::LabelHashes::of(&words));
        words.into_owned()
    };
    assert_eq!(
        words(&mut memo, 7000, "server"),
        "TcpListener (server:7000)"
    );
    assert_eq!(
        words(&mut memo, 7000, "server"),
        "TcpListener (server:7000)"
    );
    // The same numbers with another name: made anew, and kept instead.
    assert_eq!(words(&mut memo, 7000, "db"), "TcpListener (db:7000)");
    assert_eq!(words(&mut memo, 7001, "db"), "TcpListener (db:7001)");
    assert_eq!(words(&mut memo, 7000, "db"), "TcpListener (db:7000)");
    assert_eq!(made, 3);
}

#[test]
fn the_words_memo_tried_in_the_last_runs_order_gives_the_same_words_as_its_index() {
    use crate::world::{WordsKey, WordsMemo};
    type Key = (u8, u64, [&'static str; 2]);
    let key = |kind: u8, port: u64, names: [&'static str; 2]| (kind, port, names);
    let made = std::cell::Cell::new(0);
    let words = |memo: &mut WordsMemo, (kind, port, names): Key| {
        // Names made anew each time: equal, never the same `Rc`.
        let names: [std::rc::Rc<str>; 2] = [names[0].into(), names[1].into()];
        let key = WordsKey {
            kind,
            numbers: [port, 0, 0, 0, 0],
            names: [&names[0], &names[1]],
        };
        let (words, hashes) = memo.words(key, || {
            made.set(made.get() + 1);
            format!("{kind} {port} {names:?}")
        });
        assert_eq!(hashes, crate::trace::LabelHashes::of(&words));
        assert_eq!(words, format!("{kind} {port} {names:?}"));
    };
    let mut memo = WordsMemo::default();
    let runs: [&[Key]; 6] = [
        &[
            key(1, 1, ["a", "b"]),
            key(2, 7000, ["b", ""]),
            key(3, 7000, ["a", "b"]),
        ],
        // The same: every lookup the one the last run made at that point.
        &[
            key(1, 1, ["a", "b"]),
            key(2, 7000, ["b", ""]),
            key(3, 7000, ["a", "b"]),
        ],
        // Another name under the same numbers, then the rest as before.
        &[
            key(1, 1, ["a", "c"]),
            key(2, 7000, ["b", ""]),
            key(3, 7000, ["a", "b"]),
        ],
        // Another kind, another port, one lookup fewer.
        &[key(2, 1, ["a", "b"]), key(2, 7001, ["b", ""])],
        // Longer than the last run: past its order, by the index.
        &[
            key(2, 1, ["a", "b"]),
            key(2, 7001, ["b", ""]),
            key(3, 7000, ["a", "b"]),
            key(1, 1, ["a", "c"]),
        ],
        // Out of order.
        &[
            key(1, 1, ["a", "c"]),
            key(3, 7000, ["a", "b"]),
            key(2, 1, ["a", "b"]),
        ],
    ];
    let mut made_by_run = Vec::new();
    for run in runs {
        memo.start_run();
        made.set(0);
        for &key in run {
            words(&mut memo, key);
        }
        made_by_run.push(made.get());
    }
    assert_eq!(made_by_run, [3, 0, 1, 2, 0, 0]);
}

#[test]
fn a_dropped_traces_label_buffers_carry_later_labels_with_nothing_of_their_text() {
    use crate::trace::Trace;
    let mut trace = Trace::with_capacity(0, 0);
    trace.push_label("TcpStream#0 (main:49152 -> server:7000)");
    let kept = trace.labels()[0].as_ptr();
    drop(trace);
    // A later trace's label of borrowed words at that position is written
    // into the kept buffer, which held nothing of the old label's text.
    let mut next = Trace::with_capacity(0, 0);
    assert!(next.labels().is_empty());
    assert_eq!(next.push_label("TcpListener (server:7000)"), 0);
    assert_eq!(next.labels(), ["TcpListener (server:7000)"]);
    assert_eq!(next.labels()[0].as_ptr(), kept);
    // With no buffer kept, a new one; an owned text moves in.
    assert_eq!(next.push_label("set link"), 1);
    assert_eq!(next.labels()[1], "set link");
    assert_ne!(next.labels()[1].as_ptr(), kept);
    let owned = String::from("UdpSocket#0 (main:5000)");
    let at = owned.as_ptr();
    assert_eq!(next.push_label(owned), 2);
    assert_eq!(next.labels()[2].as_ptr(), at);
    assert_eq!(next.label(3), "<unknown label>");
    // A trace with fewer labels than the one whose buffers it took shows
    // only its own, and they hash and compare as a fresh trace's.
    drop(next);
    let mut fewer = Trace::with_capacity(0, 0);
    fewer.push_label("a");
    assert_eq!(fewer.labels(), ["a"]);
    assert_eq!(fewer.label(1), "<unknown label>");
    let fresh = Trace::from_parts(Vec::new(), Vec::new(), vec!["a".to_string()]);
    assert_eq!(fewer.hash(), fresh.hash());
    assert_eq!(fewer, fresh);
    assert_eq!(format!("{fewer:?}"), format!("{fresh:?}"));
    // Emptied for a new run, the trace has no labels and keeps the buffer.
    let a = fewer.labels()[0].as_ptr();
    fewer.reset();
    assert!(fewer.labels().is_empty());
    assert_eq!(fewer.push_label("b"), 0);
    assert_eq!(fewer.labels(), ["b"]);
    assert_eq!(fewer.labels()[0].as_ptr(), a);
}

#[test]
fn names_and_numbers_compare_in_line_as_eq_does() {
    use crate::world::{same_numbers, same_text};
    // Every length up to 40, and a difference at every position.
    let texts: Vec<String> = (0..40)
        .map(|len| {
            (0..len)
                .map(|i| char::from(b'a' + (i % 26) as u8))
                .collect()
        })
        .collect();
    for a in &texts {
        for b in &texts {
            assert_eq!(same_text(a, b), a == b, "{a:?} {b:?}");
        }
        for at in 0..a.len() {
            let mut other = a.clone().into_bytes();
            other[at] = b'#';
            let other = String::from_utf8(other).unwrap();
            assert!(!same_text(a, &other), "{a:?} {other:?}");
            assert!(!same_text(&other, a), "{other:?} {a:?}");
        }
    }
    let numbers = [1, 2, 3, 4, 5];
    assert!(same_numbers(&numbers, &[1, 2, 3, 4, 5]));
    for at in 0..5 {
        let mut other = numbers;
        other[at] ^= 1 << 40;
        assert!(!same_numbers(&numbers, &other));
    }
}
