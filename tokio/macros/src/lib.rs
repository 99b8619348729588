//! `#[tokio::main]` and `#[tokio::test]` for `asyncsim-tokio` under its
//! `simulation` feature.
//!
//! Like tokio's own attributes, the expansion names the face by the path
//! `::tokio` — the name every user gives it (`tokio = { package =
//! "asyncsim-tokio", … }`) — or by the path given as `crate = "…"`, so a
//! crate that renamed it differently still works.
//!
//! - `#[tokio::main]` becomes a function that makes one simulated run of its
//!   body (`tokio::runtime::Builder::…::block_on`).
//! - `#[tokio::test]` becomes a `#[test]` that checks the body over many
//!   schedules (`asyncsim::check`; the `ASYNCSIM_*` variables apply).
//!
//! tokio's arguments are accepted (`flavor`, `worker_threads`,
//! `start_paused`, `unhandled_panic`, `crate`) and change nothing a
//! simulated run can see. Both take `time_limit` (virtual time:
//! `time_limit = "2h"`, as `ASYNCSIM_TIME_LIMIT` takes it, checked when the
//! code compiles). `#[tokio::test]` also takes asyncsim's: `runs`,
//! `strategy` (`"fifo"`, `"random"`, `"mix"`, `"pct:N"`, `"exhaustive:N"`,
//! `"preemptions:N"`), `seed`, `jobs`, `shrink`, `persist`, and `explore`:
//! an expression of type
//! `asyncsim::Explore` the others apply to, for what has no argument of its
//! own (`explore = Explore::new().config(Config::new().steps_max(…))`,
//! `.require_sometimes()`, …).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

extern crate proc_macro;

use proc_macro::TokenStream;
use quote::quote;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, ItemFn, Lit, Meta, Token};

/// One simulated run of an `async fn`'s body (see the crate documentation).
#[proc_macro_attribute]
pub fn main(attribute: TokenStream, item: TokenStream) -> TokenStream {
    expand(Kind::Main, attribute.into(), item.into())
        .unwrap_or_else(|error| error.to_compile_error())
        .into()
}

/// An `async fn` test checked over many schedules (see the crate
/// documentation).
#[proc_macro_attribute]
pub fn test(attribute: TokenStream, item: TokenStream) -> TokenStream {
    expand(Kind::Test, attribute.into(), item.into())
        .unwrap_or_else(|error| error.to_compile_error())
        .into()
}

/// `#[tokio::main]` without `simulation`: real tokio's attribute, given
/// every argument but `time_limit`, which only a simulated run has, so a
/// program's `#[tokio::main(time_limit = "2h")]` builds for real
/// (`cargo build`) as well as simulated (`cargo test`). Checked as the
/// simulated attribute checks it; the rest is tokio's to check. Expands to
/// `#[<crate>::__real_main(…)]`, the face's hidden re-export of tokio's.
#[doc(hidden)]
#[proc_macro_attribute]
pub fn real_main(attribute: TokenStream, item: TokenStream) -> TokenStream {
    real_main_expand(attribute.into(), item.into())
        .unwrap_or_else(|error| error.to_compile_error())
        .into()
}

fn real_main_expand(
    attribute: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
) -> syn::Result<proc_macro2::TokenStream> {
    let arguments = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(attribute)?;
    let mut krate: syn::Path = syn::parse_quote!(::tokio);
    let mut kept = Vec::new();
    for argument in arguments {
        match &argument {
            Meta::NameValue(pair) if pair.path.is_ident("time_limit") => {
                time_limit(&pair.value, "__time_limit")?;
            }
            Meta::NameValue(pair) if pair.path.is_ident("crate") => {
                krate = string(&pair.value, "crate = \"path::to::tokio\"")?.parse()?;
                kept.push(argument);
            }
            _ => kept.push(argument),
        }
    }
    Ok(quote! {
        #[#krate::__real_main(#(#kept),*)]
        #item
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Main,
    Test,
}

impl Kind {
    fn attribute(self) -> &'static str {
        match self {
            Kind::Main => "#[tokio::main]",
            Kind::Test => "#[tokio::test]",
        }
    }
}

fn expand(
    kind: Kind,
    attribute: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
) -> syn::Result<proc_macro2::TokenStream> {
    let function: ItemFn = syn::parse2(item)?;
    if function.sig.asyncness.is_none() {
        return Err(syn::Error::new_spanned(
            function.sig.fn_token,
            format!(
                "the `async` keyword is missing from the function declaration: {} goes on an `async fn`",
                kind.attribute()
            ),
        ));
    }
    if kind == Kind::Test && !function.sig.inputs.is_empty() {
        return Err(syn::Error::new_spanned(
            &function.sig.inputs,
            "#[tokio::test] functions take no arguments",
        ));
    }
    let arguments = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(attribute)?;
    let mut pairs = Vec::new();
    for argument in arguments {
        match argument {
            Meta::NameValue(pair) => pairs.push(pair),
            other => {
                return Err(syn::Error::new_spanned(
                    other,
                    format!("{} arguments are `name = value`", kind.attribute()),
                ))
            }
        }
    }
    // The path to the face first: the other arguments' expansions name it.
    let mut krate: syn::Path = syn::parse_quote!(::tokio);
    for pair in &pairs {
        if pair.path.is_ident("crate") {
            krate = string(&pair.value, "crate = \"path::to::tokio\"")?.parse()?;
        }
    }
    // The settings the other arguments apply to: `explore = <expression>`
    // (any `asyncsim::Explore`: a `Config`'s time limit or latencies,
    // `require_sometimes`, …), else `Explore::new()`.
    let mut base = quote! { #krate::__private::asyncsim::Explore::new() };
    let mut calls = Vec::new();
    for argument in &pairs {
        let name = argument
            .path
            .get_ident()
            .map(|ident| ident.to_string())
            .unwrap_or_default();
        let value = &argument.value;
        match (kind, name.as_str()) {
            // tokio's own arguments: accepted, nothing to change.
            (_, "flavor") => check_flavor(value)?,
            (_, "worker_threads" | "start_paused" | "unhandled_panic") => {}
            (_, "crate") => {}
            (Kind::Test, "runs" | "seed" | "jobs" | "shrink" | "persist") => {
                let method = syn::Ident::new(&name, argument.path.span());
                calls.push(quote! { .#method(#value) });
            }
            (Kind::Test, "explore") => base = quote! { (#value) },
            (Kind::Test, "time_limit") => calls.push(time_limit(value, "time_limit")?),
            (Kind::Main, "time_limit") => calls.push(time_limit(value, "__time_limit")?),
            (Kind::Test, "strategy") => {
                let text = string(value, "strategy = \"pct:2\"")?;
                if let Err(message) = check_search(&text.value()) {
                    return Err(syn::Error::new_spanned(text, message));
                }
                calls.push(quote! { .with_search(#krate::__private::search(#text)) });
            }
            _ => {
                let expected = match kind {
                    Kind::Main => "flavor, worker_threads, start_paused, unhandled_panic, crate or time_limit",
                    Kind::Test => "flavor, worker_threads, start_paused, unhandled_panic, crate, runs, strategy, seed, jobs, shrink, persist, time_limit or explore",
                };
                return Err(syn::Error::new_spanned(
                    &argument.path,
                    format!("unknown {} argument: expected {expected}", kind.attribute()),
                ));
            }
        }
    }
    let attributes = &function.attrs;
    let visibility = &function.vis;
    let signature = &function.sig;
    let name = &signature.ident;
    let output = &signature.output;
    let body = &function.block;
    Ok(match kind {
        Kind::Main => {
            let mut outer = signature.clone();
            outer.asyncness = None;
            quote! {
                #(#attributes)*
                #visibility #outer {
                    let body = async move #body;
                    #krate::runtime::Builder::new_multi_thread()
                        #(#calls)*
                        .enable_all()
                        .build()
                        .expect("Failed building the Runtime")
                        .block_on(body)
                }
            }
        }
        Kind::Test => quote! {
            #[::core::prelude::v1::test]
            #(#attributes)*
            #visibility fn #name() {
                async fn body() #output #body
                #krate::__private::test(
                    #base #(#calls)*,
                    body,
                );
            }
        },
    })
}

/// `time_limit = "2h"` (or an expression of type `Duration`): the call of
/// `method` that sets it (`Explore::time_limit` for a test, the runtime
/// builder's hidden `__time_limit` for `main`).
fn time_limit(value: &Expr, method: &str) -> syn::Result<proc_macro2::TokenStream> {
    let method = syn::Ident::new(method, value.span());
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(text),
            ..
        }) => {
            let nanoseconds = duration_ns(&text.value())
                .map_err(|message| syn::Error::new_spanned(text, message))?;
            Ok(quote! { .#method(::core::time::Duration::from_nanos(#nanoseconds)) })
        }
        duration => Ok(quote! { .#method(#duration) }),
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

fn string<'a>(value: &'a Expr, example: &str) -> syn::Result<&'a syn::LitStr> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(text),
            ..
        }) => Ok(text),
        _ => Err(syn::Error::new(
            value.span(),
            format!("expected a string, as in `{example}`"),
        )),
    }
}

fn check_flavor(value: &Expr) -> syn::Result<()> {
    let text = string(value, "flavor = \"multi_thread\"")?;
    match text.value().as_str() {
        "current_thread" | "multi_thread" | "local" => Ok(()),
        other => Err(syn::Error::new(
            text.span(),
            format!("no such runtime flavor `{other}`: the flavors are \"current_thread\", \"multi_thread\" and \"local\""),
        )),
    }
}

/// A compile-time check of the strategy text (the grammar of
/// `asyncsim::harness::parse_search`), so a typo is an error at the
/// attribute.
fn check_search(text: &str) -> Result<(), String> {
    let lower = text.trim().to_ascii_lowercase();
    let number_after = |prefix: &str| {
        lower
            .strip_prefix(prefix)
            .and_then(|rest| rest.parse::<u32>().ok())
    };
    match lower.as_str() {
        "fifo" | "random" | "mix" | "pct" | "exhaustive" | "preemptions" => Ok(()),
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
