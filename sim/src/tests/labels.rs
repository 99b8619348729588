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
