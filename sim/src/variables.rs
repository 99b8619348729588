//! What the engine's `ASYNCSIM_*` variables share: the duration syntax
//! (`10s`, `200ms`, `1.5` seconds, `90m`, `2h`, `off`) that
//! `ASYNCSIM_TIME_LIMIT` (`config.rs`) and the watchdog's thresholds
//! (`watchdog.rs`) take, and how a malformed value is quoted in the message
//! that refuses it. Below both, importing nothing of the engine, so neither
//! reaches into the other for them.

/// `10s`, `200ms`, `1.5` (seconds), `90m`, `2h`, `0` or `off`, in
/// nanoseconds (`off` is 0).
pub(crate) fn parse_threshold(text: &str) -> Option<u64> {
    if text.eq_ignore_ascii_case("off") {
        return Some(0);
    }
    let (number, scale) = if let Some(ms) = text.strip_suffix("ms") {
        (ms, 1e6)
    } else if let Some(s) = text.strip_suffix('s') {
        (s, 1e9)
    } else if let Some(m) = text.strip_suffix('m') {
        (m, 60e9)
    } else if let Some(h) = text.strip_suffix('h') {
        (h, 3600e9)
    } else {
        (text, 1e9)
    };
    let value: f64 = number.trim().parse().ok()?;
    (value.is_finite() && value >= 0.0).then_some((value * scale) as u64)
}

/// `text` quoted for a line of a message: whole up to `max` characters,
/// else its first `max` and how long it was (a malformed variable may hold
/// a replay token of megabytes). The harness's messages use it too.
#[doc(hidden)]
pub fn quoted_cut(text: &str, max: usize) -> String {
    let characters = text.chars().count();
    if characters <= max {
        return format!("{text:?}");
    }
    let kept: String = text.chars().take(max).collect();
    format!("{kept:?}… ({characters} characters)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_parse_as_documented() {
        assert_eq!(parse_threshold("10s"), Some(10_000_000_000));
        assert_eq!(parse_threshold("200ms"), Some(200_000_000));
        assert_eq!(parse_threshold("1.5"), Some(1_500_000_000));
        assert_eq!(parse_threshold("off"), Some(0));
        assert_eq!(parse_threshold("0"), Some(0));
        assert_eq!(parse_threshold("90m"), Some(5_400_000_000_000));
        assert_eq!(parse_threshold("2h"), Some(7_200_000_000_000));
        assert_eq!(parse_threshold("3600s"), Some(3_600_000_000_000));
        assert_eq!(parse_threshold("2 h"), Some(7_200_000_000_000));
        assert_eq!(parse_threshold("h"), None);
        assert_eq!(parse_threshold("soon"), None);
        assert_eq!(parse_threshold("-1s"), None);
    }
}
