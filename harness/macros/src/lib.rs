//! The `#[asyncsim::test]` attribute: an `async fn` test run under
//! `asyncsim::check` over many schedules.
//!
//! ```ignore
//! #[asyncsim::test]
//! async fn counter_is_consistent() { /* … */ }
//!
//! #[asyncsim::test(runs = 500, strategy = "pct:2")]
//! async fn no_lost_update() { /* … */ }
//! ```
//!
//! Arguments (all optional): `runs = <int>`, `strategy = "<fifo|random|mix|pct:N|exhaustive:N|preemptions:N>"`,
//! `seed = <int>` (the base seed), `jobs = <int>`, `shrink = <bool>`,
//! `persist = <bool>`, `time_limit = "2h"` (virtual time, written as
//! `ASYNCSIM_TIME_LIMIT` takes it, checked when the test compiles; or a
//! `Duration` expression). Each becomes the builder call of the same name on
//! `asyncsim::Explore::new()`, so the `ASYNCSIM_*` environment variables keep
//! working (`ASYNCSIM_SEED` and `ASYNCSIM_REPLAY` always win). What has no
//! argument of its own (a `Config`'s step limit, `require_sometimes`, …)
//! goes in `explore = <an asyncsim::Explore>`, the settings the other
//! arguments then apply to (as `#[tokio::test]`'s under the tokio face).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate proc_macro;

use proc_macro::TokenStream;
use quote::quote;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, ItemFn, Lit, MetaNameValue, Token};

/// Turns `async fn name() { body }` into a `#[test] fn name()` that checks
/// the body over many schedules with `asyncsim::check`.
#[proc_macro_attribute]
pub fn test(attribute: TokenStream, item: TokenStream) -> TokenStream {
    match expand(attribute.into(), item.into()) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}

fn expand(
    attribute: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
) -> syn::Result<proc_macro2::TokenStream> {
    let function: ItemFn = syn::parse2(item)?;
    if function.sig.asyncness.is_none() {
        return Err(syn::Error::new_spanned(
            function.sig.fn_token,
            "#[asyncsim::test] goes on an `async fn`",
        ));
    }
    if !function.sig.inputs.is_empty() {
        return Err(syn::Error::new_spanned(
            &function.sig.inputs,
            "#[asyncsim::test] functions take no arguments",
        ));
    }
    let arguments = Punctuated::<MetaNameValue, Token![,]>::parse_terminated.parse2(attribute)?;
    let mut base = quote! { ::asyncsim::Explore::new() };
    let mut calls = Vec::new();
    for argument in arguments {
        let name = argument
            .path
            .get_ident()
            .map(|ident| ident.to_string())
            .unwrap_or_default();
        let value = &argument.value;
        let call = match name.as_str() {
            "runs" | "seed" => {
                let method = syn::Ident::new(&name, argument.path.span_of());
                quote! { .#method(#value) }
            }
            "jobs" => quote! { .jobs(#value) },
            "shrink" => quote! { .shrink(#value) },
            "persist" => quote! { .persist(#value) },
            "time_limit" => time_limit(value)?,
            "explore" => {
                base = quote! { (#value) };
                continue;
            }
            "strategy" => {
                let Expr::Lit(ExprLit {
                    lit: Lit::Str(text),
                    ..
                }) = value
                else {
                    return Err(syn::Error::new_spanned(
                        value,
                        "strategy = \"fifo\" | \"random\" | \"mix\" | \"pct:<depth>\" | \"exhaustive:<max deviations>\" | \"preemptions:<max preemptions>\"",
                    ));
                };
                let search = text.value();
                if let Err(message) = parse_search_text(&search) {
                    return Err(syn::Error::new_spanned(text, message));
                }
                quote! {
                    .with_search(::asyncsim::harness::parse_search(#text).expect("checked when the test compiled"))
                }
            }
            _ => {
                return Err(syn::Error::new_spanned(
                    &argument.path,
                    "unknown #[asyncsim::test] argument: expected runs, strategy, seed, jobs, shrink, persist, time_limit or explore",
                ))
            }
        };
        calls.push(call);
    }
    let attributes = &function.attrs;
    let visibility = &function.vis;
    let name = &function.sig.ident;
    let output = &function.sig.output;
    let body = &function.block;
    Ok(quote! {
        #[::core::prelude::v1::test]
        #(#attributes)*
        #visibility fn #name() {
            async fn body() #output #body
            ::asyncsim::check(#base #(#calls)*, body);
        }
    })
}

/// `time_limit = "2h"` (or an expression of type `Duration`): the
/// `Explore::time_limit` call.
fn time_limit(value: &Expr) -> syn::Result<proc_macro2::TokenStream> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(text),
            ..
        }) => {
            let nanoseconds = duration_ns(&text.value())
                .map_err(|message| syn::Error::new_spanned(text, message))?;
            Ok(quote! { .time_limit(::core::time::Duration::from_nanos(#nanoseconds)) })
        }
        duration => Ok(quote! { .time_limit(#duration) }),
    }
}

/// The nanoseconds of a duration written as `ASYNCSIM_TIME_LIMIT` takes it
/// (`2h`, `90m`, `3600s`, `1500ms`, `1.5`: seconds), more than 0: checked
/// when the test compiles, so a typo is an error at the attribute.
fn duration_ns(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (number, unit_ns) = if let Some(number) = text.strip_suffix("ms") {
        (number, 1e6)
    } else if let Some(number) = text.strip_suffix('s') {
        (number, 1e9)
    } else if let Some(number) = text.strip_suffix('m') {
        (number, 60e9)
    } else if let Some(number) = text.strip_suffix('h') {
        (number, 3600e9)
    } else {
        (text, 1e9)
    };
    match number.trim().parse::<f64>() {
        Ok(value) if value.is_finite() && value * unit_ns >= 1.0 && value * unit_ns < 1.8e19 => {
            Ok((value * unit_ns) as u64)
        }
        _ => Err(format!(
            "time_limit = \"{text}\": expected a duration of virtual time more than 0, as in \"2h\", \"90m\", \"3600s\", \"1500ms\""
        )),
    }
}

/// A compile-time check of the strategy text (the same grammar as
/// `asyncsim::harness::parse_search`, kept small here so a typo is a
/// compile error at the attribute).
fn parse_search_text(text: &str) -> Result<(), String> {
    let lower = text.trim().to_ascii_lowercase();
    let number_after = |prefix: &str| {
        lower
            .strip_prefix(prefix)
            .and_then(|rest| rest.parse::<u32>().ok())
    };
    match lower.as_str() {
        "fifo" | "random" | "mix" | "pct" | "exhaustive" | "preemptions" => Ok(()),
        // PCT needs a depth of at least 1 (`Strategy`'s parser says so too).
        _ if number_after("pct:").is_some_and(|depth| depth > 0)
            || number_after("exhaustive:").is_some()
            || number_after("preemptions:").is_some() =>
        {
            Ok(())
        }
        _ => Err(format!(
            "unknown strategy `{text}`: expected \"fifo\", \"random\", \"mix\", \"pct:<depth>\" (depth 1 or more), \"exhaustive:<max deviations>\" or \"preemptions:<max preemptions>\""
        )),
    }
}

trait SpanOf {
    fn span_of(&self) -> proc_macro2::Span;
}

impl SpanOf for syn::Path {
    fn span_of(&self) -> proc_macro2::Span {
        syn::spanned::Spanned::span(self)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_search_text;

    #[test]
    fn a_time_limit_is_read_as_asyncsim_time_limit_reads_it() {
        assert_eq!(super::duration_ns("2h"), Ok(7_200_000_000_000));
        assert_eq!(super::duration_ns("90m"), Ok(5_400_000_000_000));
        assert_eq!(super::duration_ns("3600s"), Ok(3_600_000_000_000));
        assert_eq!(super::duration_ns("1500ms"), Ok(1_500_000_000));
        assert_eq!(super::duration_ns("1.5"), Ok(1_500_000_000));
        for bad in ["0", "soon", "-2h", "2 days", ""] {
            assert!(super::duration_ns(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn strategy_text_is_checked_like_the_runtime_parser() {
        for good in [
            "fifo",
            "random",
            "mix",
            "pct",
            "pct:3",
            "exhaustive",
            "exhaustive:0",
            "preemptions",
            "preemptions:2",
        ] {
            assert!(parse_search_text(good).is_ok(), "{good}");
        }
        // `pct:0` compiled and then panicked at run time with
        // "checked when the test compiled".
        for bad in [
            "pct:0",
            "pct:x",
            "exhaustive:-1",
            "preemptions:x",
            "sideways",
        ] {
            assert!(parse_search_text(bad).is_err(), "{bad}");
        }
    }
}
