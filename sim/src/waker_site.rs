//! Naming a future asyncsim cannot see into by where a task's waker was last
//! cloned (`Config::waker_sites`): a foreign primitive (tokio's `Mutex`, a
//! `futures` channel) clones the waker of the task it parks, so the frames
//! of that clone name the primitive, and the frame that called it names the
//! line of the user's code that waits.
//!
//! Works from a captured backtrace's text (std gives no other access to
//! frames on stable), so it degrades with the build: without line tables
//! only the name; without symbols nothing (the report keeps "a non-asyncsim
//! future"). Imports nothing of the engine; read only by reports.

use std::backtrace::Backtrace;

/// Crates that are never the primitive: the language's, asyncsim's own
/// (the waker's vtable, the executor, the face), and the helpers foreign
/// primitives register through (`futures`'s `AtomicWaker`).
const PLUMBING: &[&str] = &[
    "std",
    "core",
    "alloc",
    "asyncsim",
    "asyncsim_sim",
    "asyncsim_harness",
    "asyncsim_tokio",
    "futures_core",
    "futures_task",
    "atomic_waker",
];

/// The language's own crates: glue between a primitive's frames (`Pin`'s
/// `poll`, closures' `call_once`), skipped when walking out of it.
const GLUE: &[&str] = &["std", "core", "alloc"];

/// The tokio face's own primitives (its `sync::watch`): plumbing as the
/// rest of the face is not, they are named as the tokio items they stand
/// for (`tokio::sync::watch::Receiver::changed`).
const FACE_SYNC: &str = "asyncsim_tokio::sync";

/// The tokio face's cooperative-budget wrapper, inside which its own
/// resources poll (`watch`'s `changed` among them): glue between a face
/// primitive's frames, as `Pin`'s `poll` is, not the end of the primitive.
const FACE_GLUE: &str = "asyncsim_tokio::coop::";

/// One frame of a backtrace's text: the symbol and `file:line`, if known.
#[derive(Debug, PartialEq, Eq)]
struct Frame {
    symbol: String,
    location: Option<String>,
}

/// "tokio::sync::Mutex::lock at tests/deadlock.rs:42" for a backtrace taken
/// inside a waker's clone: the outermost frame of the first crate that is
/// not plumbing, and the first frame of user code that called it. `None`
/// when no frame has a usable symbol.
pub(crate) fn describe(backtrace: &Backtrace) -> Option<String> {
    describe_text(&backtrace.to_string())
}

fn describe_text(text: &str) -> Option<String> {
    let frames = parse(text);
    let first = frames
        .iter()
        .position(|frame| !is_plumbing(owner_of(&frame.symbol)))?;
    let primitive_owner = owner_of(&frames[first].symbol);
    let mut outermost = first;
    for (index, frame) in frames.iter().enumerate().skip(first + 1) {
        let owner = owner_of(&frame.symbol);
        if owner == primitive_owner {
            outermost = index;
        } else if !GLUE.contains(&owner) && !is_face_glue(&frame.symbol) {
            break;
        }
    }
    let cleaned = clean(&frames[outermost].symbol);
    let name = match cleaned.strip_prefix("asyncsim_tokio::") {
        Some(face_item) => format!("tokio::{face_item}"),
        None => cleaned,
    };
    let caller = frames[outermost + 1..]
        .iter()
        .find(|frame| !is_plumbing(owner_of(&frame.symbol)))
        .and_then(|frame| frame.location.as_deref());
    Some(match caller {
        Some(location) => format!("{name} at {location}"),
        None => name,
    })
}

/// A frame of the face's budget wrapper ([`FACE_GLUE`]).
fn is_face_glue(symbol: &str) -> bool {
    strip_disambiguators(path_of(symbol)).starts_with(FACE_GLUE)
}

fn is_plumbing(krate: &str) -> bool {
    krate.is_empty() || PLUMBING.contains(&krate)
}

/// Frames of `Backtrace`'s `Display`: `  3: symbol` lines, each followed by
/// an optional `at file:line:column` line.
fn parse(text: &str) -> Vec<Frame> {
    let mut frames: Vec<Frame> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some(location) = line.strip_prefix("at ") {
            if let Some(frame) = frames.last_mut() {
                frame
                    .location
                    .get_or_insert_with(|| short_location(location));
            }
            continue;
        }
        let Some((number, symbol)) = line.split_once(": ") else {
            continue;
        };
        if number.is_empty() || !number.bytes().all(|byte| byte.is_ascii_digit()) {
            continue;
        }
        frames.push(Frame {
            symbol: symbol.trim().to_string(),
            location: None,
        });
    }
    frames
}

/// `./tests/x.rs:42:5` → `tests/x.rs:42`.
fn short_location(location: &str) -> String {
    let location = location.trim().trim_start_matches("./");
    // Drop the column: `path:line:column` → `path:line`.
    match location.rsplit_once(':') {
        Some((rest, column))
            if rest.contains(':') && column.bytes().all(|byte| byte.is_ascii_digit()) =>
        {
            rest.to_string()
        }
        _ => location.to_string(),
    }
}

/// What a frame belongs to, for telling plumbing from the primitive: its
/// crate, but the face's own primitives apart from the rest of the face.
fn owner_of(symbol: &str) -> &str {
    let krate = crate_of(symbol);
    if krate == "asyncsim_tokio" {
        let path = strip_disambiguators(path_of(symbol));
        if path
            .strip_prefix(FACE_SYNC)
            .is_some_and(|rest| rest.starts_with("::"))
        {
            return FACE_SYNC;
        }
    }
    krate
}

/// A symbol's path: itself, or its self type's for `<Type as Trait>::method`.
fn path_of(symbol: &str) -> &str {
    let mut path = symbol;
    if let Some(rest) = path.strip_prefix('<') {
        path = rest;
        for prefix in ["&mut ", "&", "dyn ", "*const ", "*mut "] {
            path = path.strip_prefix(prefix).unwrap_or(path);
        }
    }
    path
}

/// The crate a symbol belongs to: its first path segment, or its self
/// type's for `<Type as Trait>::method`; "" when it has none (`<unknown>`,
/// a generic parameter, a C function).
fn crate_of(symbol: &str) -> &str {
    let path = path_of(symbol);
    let end = path
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(path.len());
    let rest = &path[end..];
    // A crate is followed by a path (`::`) or its disambiguator (`[…]::`).
    if rest.starts_with("::") || rest.starts_with('[') {
        &path[..end]
    } else {
        ""
    }
}

/// `tokio::sync::mutex::Mutex<T>::lock::{{closure}}` → `tokio::sync::Mutex::lock`;
/// `<tokio::sync::oneshot::Receiver<T> as core::future::future::Future>::poll`
/// → `tokio::sync::oneshot::Receiver`.
fn clean(symbol: &str) -> String {
    let mut text = strip_disambiguators(symbol);
    // A legacy symbol's hash (`::h0123456789abcdef`), shown in `{:#}` only.
    if let Some((rest, hash)) = text.rsplit_once("::h") {
        if hash.len() == 16 && hash.bytes().all(|byte| byte.is_ascii_hexdigit()) {
            text = rest.to_string();
        }
    }
    let mut text = text.as_str();
    while let Some((rest, last)) = text.rsplit_once("::") {
        if !last.starts_with('{') {
            break;
        }
        text = rest;
    }
    let path = match split_qualified(text) {
        Some((self_type, trait_path, method)) => {
            let trait_name = strip_generics(trait_path);
            let is_poll = trait_name.rsplit("::").next() == Some("Future") && method == "poll";
            let self_type = strip_generics(self_type);
            if is_poll || method.is_empty() {
                self_type
            } else {
                format!("{self_type}::{method}")
            }
        }
        None => strip_generics(text),
    };
    collapse_modules(path.trim_start_matches('&').trim_start_matches("mut "))
}

/// `<A as B>::m` → `(A, B, m)`; `<A>::m` → `(A, "", m)`.
fn split_qualified(text: &str) -> Option<(&str, &str, &str)> {
    let inner = text.strip_prefix('<')?;
    let mut depth = 0usize;
    let mut as_at = None;
    for (index, c) in inner.char_indices() {
        match c {
            '<' => depth += 1,
            '>' if depth == 0 => {
                let method = inner[index + 1..].trim_start_matches("::");
                return Some(match as_at {
                    Some(at) => (&inner[..at], &inner[at + 4..index], method),
                    None => (&inner[..index], "", method),
                });
            }
            '>' => depth -= 1,
            ' ' if depth == 0 && as_at.is_none() && inner[index..].starts_with(" as ") => {
                as_at = Some(index);
            }
            _ => {}
        }
    }
    None
}

/// Drops every `<…>`, nested ones included.
fn strip_generics(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '<' => depth += 1,
            '>' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Drops v0 crate disambiguators: `std[e28293b1aa0f68bd]` → `std`.
fn strip_disambiguators(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        match rest[open..].find(']') {
            Some(close)
                if rest[open + 1..open + close]
                    .bytes()
                    .all(|byte| byte.is_ascii_hexdigit()) =>
            {
                rest = &rest[open + close + 1..];
            }
            _ => {
                out.push('[');
                rest = &rest[open + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A private module named after the type it holds goes: `sync::mutex::Mutex`
/// → `sync::Mutex`, `sync::rwlock::RwLock` → `sync::RwLock` (where such crates
/// re-export their types); `sync::oneshot::Receiver` stays.
fn collapse_modules(path: &str) -> String {
    let segments: Vec<&str> = path.split("::").collect();
    let mut kept: Vec<&str> = Vec::with_capacity(segments.len());
    for (index, segment) in segments.iter().enumerate() {
        let next = segments.get(index + 1);
        let named_after_next = index > 0
            && next.is_some_and(|next| {
                next.starts_with(|c: char| c.is_ascii_uppercase())
                    && segment.replace('_', "") == next.to_ascii_lowercase()
            });
        if !named_after_next {
            kept.push(segment);
        }
    }
    kept.join("::")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A clone inside tokio's `Mutex::lock`, as std prints it with line
    /// tables (shortened paths).
    const TOKIO_MUTEX: &str = "   0: asyncsim_sim::kernel::wakers::<impl asyncsim_sim::raw::waker::WakeInteger for asyncsim_sim::kernel::wakers::TaskWake>::cloned
             at ./src/kernel/wakers.rs:131:24
   1: asyncsim_sim::raw::waker::NotingVtable<W>::VTABLE::{{closure}}
             at ./src/raw/waker.rs:71:13
   2: <core::task::wake::Waker as core::clone::Clone>::clone
             at /rustc/x/library/core/src/task/wake.rs:600:24
   3: tokio::sync::batch_semaphore::Acquire::poll
             at /home/u/.cargo/registry/src/index/tokio-1.54.1/src/sync/batch_semaphore.rs:620:43
   4: tokio::sync::mutex::Mutex<T>::acquire::{{closure}}
             at /home/u/.cargo/registry/src/index/tokio-1.54.1/src/sync/mutex.rs:500:15
   5: tokio::sync::mutex::Mutex<T>::lock::{{closure}}
             at /home/u/.cargo/registry/src/index/tokio-1.54.1/src/sync/mutex.rs:430:14
   6: deadlock::two_locks::{{closure}}::{{closure}}
             at ./tests/deadlock.rs:42:38
   7: asyncsim_sim::raw::task::poll_task
             at ./src/raw/task.rs:90:9
";

    #[test]
    fn a_tokio_mutex_is_named_with_its_caller() {
        assert_eq!(
            describe_text(TOKIO_MUTEX).as_deref(),
            Some("tokio::sync::Mutex::lock at tests/deadlock.rs:42")
        );
    }

    #[test]
    fn without_line_tables_only_the_name() {
        let text: String = TOKIO_MUTEX
            .lines()
            .filter(|line| !line.trim_start().starts_with("at "))
            .map(|line| format!("{line}\n"))
            .collect();
        assert_eq!(
            describe_text(&text).as_deref(),
            Some("tokio::sync::Mutex::lock")
        );
    }

    #[test]
    fn without_symbols_nothing() {
        let text = "   0: <unknown>\n   1: <unknown>\n   2: __libc_start_main\n";
        assert_eq!(describe_text(text), None);
        assert_eq!(describe_text(""), None);
    }

    #[test]
    fn a_future_is_named_by_its_type() {
        let text = "   0: <core::task::wake::Waker as core::clone::Clone>::clone
   1: <tokio::sync::oneshot::Receiver<T> as core::future::future::Future>::poll
             at /r/tokio-1.54.1/src/sync/oneshot.rs:1100:9
   2: <core::pin::Pin<P> as core::future::future::Future>::poll
             at /rustc/x/library/core/src/future/future.rs:133:9
   3: app::wait::{{closure}}
             at ./src/lib.rs:7:20
";
        assert_eq!(
            describe_text(text).as_deref(),
            Some("tokio::sync::oneshot::Receiver at src/lib.rs:7")
        );
    }

    #[test]
    fn v0_symbols_and_hashes_are_cleaned() {
        assert_eq!(
            clean("<tokio[5f1e2d3c4b5a6978]::sync::notify::Notified as core[c1f1a4ba060b9bfa]::future::future::Future>::poll"),
            "tokio::sync::notify::Notified"
        );
        assert_eq!(
            clean("tokio::sync::rwlock::RwLock<T>::read::{closure#0}::h0123456789abcdef"),
            "tokio::sync::RwLock::read"
        );
        assert_eq!(
            clean("<futures_util::lock::mutex::MutexLockFuture<T> as core::future::future::Future>::poll"),
            "futures_util::lock::mutex::MutexLockFuture"
        );
        assert_eq!(
            crate_of("<&mut F as core::future::future::Future>::poll"),
            ""
        );
        assert_eq!(crate_of("<unknown>"), "");
        assert_eq!(crate_of("std[e28293b1aa0f68bd]::rt::lang_start"), "std");
    }

    /// A clone inside the tokio face's own `watch`, awaited through the
    /// face's `timeout` (plumbing, as the rest of the face).
    const FACE_WATCH: &str = "   0: <core::task::wake::Waker as core::clone::Clone>::clone
   1: asyncsim_tokio::sync::watch::Waiters::park
             at /w/tokio/src/sync/watch.rs:130:47
   2: <asyncsim_tokio::sync::watch::Changed<T> as core::future::future::Future>::poll
             at /w/tokio/src/sync/watch.rs:380:9
   3: asyncsim_tokio::sync::watch::Receiver<T>::changed::{{closure}}
             at /w/tokio/src/sync/watch.rs:300:10
   4: <asyncsim_tokio::time::Timeout<F> as core::future::future::Future>::poll
             at /w/tokio/src/time/mod.rs:200:9
   5: app::wait::{{closure}}
             at ./src/lib.rs:9:40
   6: asyncsim_sim::raw::task::poll_task
             at ./src/raw/task.rs:90:9
";

    #[test]
    fn the_face_s_own_watch_is_named_as_tokio_s_item() {
        assert_eq!(
            describe_text(FACE_WATCH).as_deref(),
            Some("tokio::sync::watch::Receiver::changed at src/lib.rs:9")
        );
        let v0 = FACE_WATCH.replace("asyncsim_tokio::", "asyncsim_tokio[0123456789abcdef]::");
        assert_eq!(
            describe_text(&v0).as_deref(),
            Some("tokio::sync::watch::Receiver::changed at src/lib.rs:9")
        );
    }

    #[test]
    fn the_face_s_budget_wrapper_is_glue_between_the_watch_s_frames() {
        let text = FACE_WATCH.replace(
            "   3: asyncsim_tokio::sync::watch::Receiver<T>::changed::{{closure}}",
            "   3: asyncsim_tokio::coop::poll_cooperative
             at /w/tokio/src/coop.rs:19:16
   4: asyncsim_tokio::sync::watch::Receiver<T>::changed::{{closure}}",
        );
        assert_eq!(
            describe_text(&text).as_deref(),
            Some("tokio::sync::watch::Receiver::changed at src/lib.rs:9")
        );
    }

    #[test]
    fn the_rest_of_the_face_stays_plumbing() {
        let text = FACE_WATCH.replace(
            "asyncsim_tokio::sync::watch",
            "asyncsim_tokio::task::join_set",
        );
        assert_eq!(describe_text(&text).as_deref(), Some("app::wait"));
    }

    #[test]
    fn futures_atomic_waker_is_plumbing() {
        let text = "   0: futures_core::task::__internal::atomic_waker::AtomicWaker::register
   1: futures_channel::mpsc::Receiver<T>::next_message
   2: <futures_channel::mpsc::Receiver<T> as futures_core::stream::Stream>::poll_next
   3: app::main::{{closure}}
             at ./src/main.rs:3:1
";
        assert_eq!(
            describe_text(text).as_deref(),
            Some("futures_channel::mpsc::Receiver::poll_next at src/main.rs:3")
        );
    }
}
