//! `select!`, `join!` and `try_join!`: `macro_rules!` exported at the crate
//! root, written with `$crate` paths so that a re-export (`asyncsim::select!`,
//! a tokio face's `tokio::select!`) expands the same way.
//!
//! Each macro pins its futures on the stack of the calling future, keeps
//! their outputs in a tuple (one `Option` per branch, so no enum of
//! branches is needed), and polls the live branches in the order
//! `__private::order` draws. The branch index list `0 … 63` caps a call at
//! 64 branches (the live set is a `u64` mask).

/// Waits on several futures at once, in one task, and runs the handler of
/// the first one to finish whose output matches its pattern.
///
/// The shape is `tokio::select!`'s:
///
/// ```text
/// select! {
///     biased;                                      // optional: argument order, no draw
///     <pattern> = <future> (, if <precondition>)? => <handler>,
///     …
///     else => <expression>                         // optional, last
/// }
/// ```
///
/// 1. Every precondition is evaluated; a branch whose precondition is false
///    is disabled for this call.
/// 2. Every future expression is evaluated, in argument order (disabled
///    ones too, but they are never polled).
/// 3. On each poll, when the task's cooperative budget is spent
///    (`task::coop`), the task yields and nothing is polled or drawn, as
///    tokio's `select!` does; otherwise the live branches are polled in an
///    order drawn from the tape (label `branch`; value 0 is argument order;
///    one draw per poll;
///    `biased;` polls in argument order and makes no draw). The first branch
///    to finish is disabled; if its output matches its pattern, every future
///    is dropped and its handler runs with the pattern's bindings; if not,
///    polling goes on with the others.
/// 4. When every branch is disabled, the `else` expression runs; without an
///    `else`, that panics.
///
/// Handlers run in the caller's context, after the futures were dropped:
/// they may `.await`, `return`, `break`, `continue` or use `?`, and may use
/// what the futures borrowed.
///
/// ```
/// use asyncsim_sim::{select, sync::channel, time, Config, Sim};
/// use std::time::Duration;
///
/// let run = Sim::new(Config::new().seed(4)).run(async {
///     let (sender, mut receiver) = channel::<u32>(4);
///     sender.send(7).await.unwrap();
///     drop(sender);
///     let mut seen = Vec::new();
///     loop {
///         select! {
///             Some(mut value) = receiver.recv() => { value += 1; seen.push(value) }
///             _ = time::sleep(Duration::from_secs(1)), if seen.is_empty() => seen.push(0),
///             else => break,
///         }
///     }
///     seen
/// });
/// assert_eq!(run.result.unwrap(), [8]);
/// ```
///
/// Deep macro recursion: each branch costs a few levels per top-level token
/// of its pattern; a `select!` of dozens of branches may need a higher
/// `#![recursion_limit]`.
#[macro_export]
macro_rules! select {
    (biased; $($branches:tt)*) => {
        $crate::__select_munch!(@branch [true] [] [0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63] $($branches)*)
    };
    ($($branches:tt)*) => {
        $crate::__select_munch!(@branch [false] [] [0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63] $($branches)*)
    };
}

/// `select!`'s parser: one step per token of a pattern, then the future,
/// the precondition and the handler; then the next branch.
#[doc(hidden)]
#[macro_export]
macro_rules! __select_munch {
    // `else` comes last.
    (@branch [$biased:tt] [$($branches:tt)*] [$($indices:tt)*] else => $else:expr $(,)?) => {
        $crate::__select_munch!(@emit [$biased] [$($branches)*] [{ $else }])
    };
    (@branch [$biased:tt] [$($branches:tt)*] [$($indices:tt)*]) => {
        $crate::__select_munch!(@emit [$biased] [$($branches)*] [{
            $crate::branch::__private::all_branches_disabled()
        }])
    };
    (@branch $biased:tt $branches:tt $indices:tt $($rest:tt)+) => {
        $crate::__select_munch!(@pattern $biased $branches $indices [] $($rest)+)
    };

    // The pattern: every token up to the first top-level `=` (groups are
    // one token each, and a pattern has no `=` of its own outside them).
    (@pattern $biased:tt $branches:tt $indices:tt [$($pattern:tt)+] = $($rest:tt)*) => {
        $crate::__select_munch!(@future $biased $branches $indices [$($pattern)+] $($rest)*)
    };
    (@pattern $biased:tt $branches:tt $indices:tt [$($pattern:tt)*] $next:tt $($rest:tt)*) => {
        $crate::__select_munch!(@pattern $biased $branches $indices [$($pattern)* $next] $($rest)*)
    };
    (@pattern $biased:tt $branches:tt $indices:tt [$($pattern:tt)*]) => {
        ::core::compile_error!(
            "asyncsim::select!: expected `<pattern> = <future> => <handler>` (or `else => <expression>` last)"
        )
    };

    (@future $biased:tt $branches:tt $indices:tt $pattern:tt $future:expr, if $condition:expr => $($rest:tt)*) => {
        $crate::__select_munch!(@handler $biased $branches $indices $pattern [$future] [$condition] $($rest)*)
    };
    (@future $biased:tt $branches:tt $indices:tt $pattern:tt $future:expr => $($rest:tt)*) => {
        $crate::__select_munch!(@handler $biased $branches $indices $pattern [$future] [true] $($rest)*)
    };

    (@handler $biased:tt $branches:tt [] $($rest:tt)*) => {
        ::core::compile_error!("asyncsim::select! takes at most 64 branches")
    };
    (@handler $biased:tt [$($branches:tt)*] [$index:tt $($indices:tt)*] $pattern:tt $future:tt $condition:tt $handler:block, $($rest:tt)*) => {
        $crate::__select_munch!(@branch $biased [$($branches)* ($index $pattern $future $condition { $handler })] [$($indices)*] $($rest)*)
    };
    (@handler $biased:tt [$($branches:tt)*] [$index:tt $($indices:tt)*] $pattern:tt $future:tt $condition:tt $handler:block $($rest:tt)*) => {
        $crate::__select_munch!(@branch $biased [$($branches)* ($index $pattern $future $condition { $handler })] [$($indices)*] $($rest)*)
    };
    (@handler $biased:tt [$($branches:tt)*] [$index:tt $($indices:tt)*] $pattern:tt $future:tt $condition:tt $handler:expr, $($rest:tt)*) => {
        $crate::__select_munch!(@branch $biased [$($branches)* ($index $pattern $future $condition { $handler })] [$($indices)*] $($rest)*)
    };
    (@handler $biased:tt [$($branches:tt)*] [$index:tt $($indices:tt)*] $pattern:tt $future:tt $condition:tt $handler:expr) => {
        $crate::__select_munch!(@branch $biased [$($branches)* ($index $pattern $future $condition { $handler })] [$($indices)*])
    };

    (@emit [$biased:tt] [$(($index:tt [$($pattern:tt)+] [$future:expr] [$condition:expr] $handler:tt))*] [$else:tt]) => {{
        let mut __disabled: u64 = 0;
        $(
            if !$condition {
                __disabled |= 1u64 << $index;
            }
        )*
        // The futures live in this block only: they are dropped before a
        // handler runs, so a handler may use what they borrowed.
        let (__chosen, mut __outputs) = {
            let mut __futures = ($($crate::branch::__private::pin!($future),)*);
            let mut __outputs = ($($crate::branch::__private::empty($index),)*);
            let __all: u64 = 0 $(| (1u64 << $index))*;
            let __chosen: ::core::option::Option<usize> =
                $crate::branch::__private::poll_fn(|__context| {
                    // A spent budget: a yield before any branch is polled
                    // (a budgeted branch would yield anyway; another would
                    // not), and before the order's draw.
                    if $crate::branch::__private::poll_budget(__context).is_pending() {
                        return $crate::branch::__private::Poll::Pending;
                    }
                    let mut __any_pending = false;
                    for __branch in $crate::branch::__private::order(
                        __all & !__disabled,
                        $biased,
                        "asyncsim::select!",
                    ) {
                        match __branch {
                            $(
                                $index => match $crate::branch::__private::Future::poll(
                                    __futures.$index.as_mut(),
                                    __context,
                                ) {
                                    $crate::branch::__private::Poll::Ready(__output) => {
                                        __disabled |= 1u64 << $index;
                                        // Checked by reference, `mut` stripped: the
                                        // handler's match below binds by value.
                                        #[allow(unused_variables)]
                                        let __matches = ::core::matches!(
                                            &__output,
                                            $crate::__select_check_pattern!($($pattern)+)
                                        );
                                        if __matches {
                                            __outputs.$index = ::core::option::Option::Some(__output);
                                            return $crate::branch::__private::Poll::Ready(
                                                ::core::option::Option::Some($index),
                                            );
                                        }
                                    }
                                    $crate::branch::__private::Poll::Pending => __any_pending = true,
                                },
                            )*
                            _ => ::core::unreachable!("asyncsim bug: select! drew a branch it does not have"),
                        }
                    }
                    if __any_pending {
                        $crate::branch::__private::Poll::Pending
                    } else {
                        $crate::branch::__private::Poll::Ready(::core::option::Option::None)
                    }
                })
                .await;
            (__chosen, __outputs)
        };
        match __chosen {
            $(
                ::core::option::Option::Some($index) => match __outputs.$index.take() {
                    ::core::option::Option::Some($($pattern)+) => $handler,
                    _ => ::core::unreachable!("asyncsim bug: select! chose a branch whose output does not match"),
                },
            )*
            _ => $else,
        }
    }};
}

/// A `select!` pattern with every binding's `mut` removed, for the check by
/// reference (`&mut` reference patterns keep theirs). One step per token,
/// with a stack of the groups being rebuilt.
#[doc(hidden)]
#[macro_export]
macro_rules! __select_check_pattern {
    (@strip [$($out:tt)*] []) => { $($out)* };
    (@strip [$($out:tt)*] [& mut $($rest:tt)*] $($stack:tt)*) => {
        $crate::__select_check_pattern!(@strip [$($out)* & mut] [$($rest)*] $($stack)*)
    };
    (@strip [$($out:tt)*] [mut $($rest:tt)*] $($stack:tt)*) => {
        $crate::__select_check_pattern!(@strip [$($out)*] [$($rest)*] $($stack)*)
    };
    (@strip [$($out:tt)*] [($($inner:tt)*) $($rest:tt)*] $($stack:tt)*) => {
        $crate::__select_check_pattern!(@strip [] [$($inner)*] (paren [$($out)*] [$($rest)*]) $($stack)*)
    };
    (@strip [$($out:tt)*] [[$($inner:tt)*] $($rest:tt)*] $($stack:tt)*) => {
        $crate::__select_check_pattern!(@strip [] [$($inner)*] (bracket [$($out)*] [$($rest)*]) $($stack)*)
    };
    (@strip [$($out:tt)*] [{$($inner:tt)*} $($rest:tt)*] $($stack:tt)*) => {
        $crate::__select_check_pattern!(@strip [] [$($inner)*] (brace [$($out)*] [$($rest)*]) $($stack)*)
    };
    (@strip [$($inner:tt)*] [] (paren [$($out:tt)*] [$($rest:tt)*]) $($stack:tt)*) => {
        $crate::__select_check_pattern!(@strip [$($out)* ($($inner)*)] [$($rest)*] $($stack)*)
    };
    (@strip [$($inner:tt)*] [] (bracket [$($out:tt)*] [$($rest:tt)*]) $($stack:tt)*) => {
        $crate::__select_check_pattern!(@strip [$($out)* [$($inner)*]] [$($rest)*] $($stack)*)
    };
    (@strip [$($inner:tt)*] [] (brace [$($out:tt)*] [$($rest:tt)*]) $($stack:tt)*) => {
        $crate::__select_check_pattern!(@strip [$($out)* {$($inner)*}] [$($rest)*] $($stack)*)
    };
    (@strip [$($out:tt)*] [$next:tt $($rest:tt)*] $($stack:tt)*) => {
        $crate::__select_check_pattern!(@strip [$($out)* $next] [$($rest)*] $($stack)*)
    };
    ($($pattern:tt)+) => {
        $crate::__select_check_pattern!(@strip [] [$($pattern)+])
    };
}

/// Polls several futures at once, in one task, until all of them finish;
/// evaluates to their outputs in argument order, as a tuple.
///
/// The shape of `tokio::join!` and `futures::join!`. On each poll the
/// futures that have not finished are polled in an order drawn from the
/// tape (label `branch`; value 0 is argument order; one draw per poll, none
/// when one future is left), so an interleaving that depends on which
/// branch goes first inside one task is explored like any other.
///
/// ```
/// use asyncsim_sim::{join, time, Config, Sim, Strategy};
/// use std::time::Duration;
///
/// let run = Sim::new(Config::new().seed(1).strategy(Strategy::Random)).run(async {
///     join!(
///         async {
///             time::sleep(Duration::from_secs(2)).await;
///             "slow"
///         },
///         async { "fast" },
///     )
/// });
/// assert_eq!(run.elapsed(), Duration::from_secs(2)); // concurrent: the longer one
/// assert_eq!(run.result.unwrap(), ("slow", "fast"));
/// ```
#[macro_export]
macro_rules! join {
    ($($future:expr),+ $(,)?) => {
        $crate::__join_munch!(@join [] [$($future,)+] [0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63])
    };
}

/// Like [`join!`], for futures that return `Result`s with one error type:
/// evaluates to `Ok` of the outputs in argument order, or to the first
/// `Err` a branch returns (in the poll order of that poll), dropping the
/// others at once.
///
/// ```
/// use asyncsim_sim::{try_join, Config, Sim};
///
/// let run = Sim::new(Config::new().seed(1)).run(async {
///     let both = try_join!(async { Ok::<_, String>(1) }, async { Ok(2) });
///     let failed = try_join!(async { Ok::<u8, _>(1) }, async { Err::<u8, _>("no".to_string()) });
///     (both, failed)
/// });
/// assert_eq!(run.result.unwrap(), (Ok((1, 2)), Err("no".to_string())));
/// ```
#[macro_export]
macro_rules! try_join {
    ($($future:expr),+ $(,)?) => {
        $crate::__join_munch!(@try_join [] [$($future,)+] [0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63])
    };
}

/// `join!` and `try_join!`'s expansion: numbers the futures, then polls them.
#[doc(hidden)]
#[macro_export]
macro_rules! __join_munch {
    (@$kind:ident [$($done:tt)*] [$future:expr, $($rest:tt)*] [$index:tt $($indices:tt)*]) => {
        $crate::__join_munch!(@$kind [$($done)* ($index $future)] [$($rest)*] [$($indices)*])
    };
    (@$kind:ident [$($done:tt)*] [$($rest:tt)+] []) => {
        ::core::compile_error!("asyncsim::join! and try_join! take at most 64 futures")
    };
    (@join [$(($index:tt $future:expr))+] [] [$($unused:tt)*]) => {{
        let mut __futures = ($($crate::branch::__private::pin!($future),)+);
        let mut __outputs = ($($crate::branch::__private::empty($index),)+);
        $crate::branch::__private::poll_fn(|__context| {
            let mut __live: u64 = 0;
            $(
                if __outputs.$index.is_none() {
                    __live |= 1u64 << $index;
                }
            )+
            for __branch in $crate::branch::__private::order(__live, false, "asyncsim::join!") {
                match __branch {
                    $(
                        $index => {
                            if let $crate::branch::__private::Poll::Ready(__output) =
                                $crate::branch::__private::Future::poll(__futures.$index.as_mut(), __context)
                            {
                                __outputs.$index = ::core::option::Option::Some(__output);
                            }
                        }
                    )+
                    _ => ::core::unreachable!("asyncsim bug: join! drew a branch it does not have"),
                }
            }
            if $(__outputs.$index.is_some())&&+ {
                $crate::branch::__private::Poll::Ready(($(
                    __outputs.$index.take().expect("asyncsim bug: join! lost an output"),
                )+))
            } else {
                $crate::branch::__private::Poll::Pending
            }
        })
        .await
    }};
    (@try_join [$(($index:tt $future:expr))+] [] [$($unused:tt)*]) => {{
        let mut __futures = ($($crate::branch::__private::pin!($future),)+);
        let mut __outputs = ($($crate::branch::__private::empty($index),)+);
        $crate::branch::__private::poll_fn(|__context| {
            let mut __live: u64 = 0;
            $(
                if __outputs.$index.is_none() {
                    __live |= 1u64 << $index;
                }
            )+
            for __branch in $crate::branch::__private::order(__live, false, "asyncsim::try_join!") {
                match __branch {
                    $(
                        $index => match $crate::branch::__private::Future::poll(__futures.$index.as_mut(), __context) {
                            $crate::branch::__private::Poll::Ready(::core::result::Result::Ok(__output)) => {
                                __outputs.$index = ::core::option::Option::Some(__output);
                            }
                            $crate::branch::__private::Poll::Ready(::core::result::Result::Err(__error)) => {
                                return $crate::branch::__private::Poll::Ready(::core::result::Result::Err(__error));
                            }
                            $crate::branch::__private::Poll::Pending => {}
                        },
                    )+
                    _ => ::core::unreachable!("asyncsim bug: try_join! drew a branch it does not have"),
                }
            }
            if $(__outputs.$index.is_some())&&+ {
                $crate::branch::__private::Poll::Ready(::core::result::Result::Ok(($(
                    __outputs.$index.take().expect("asyncsim bug: try_join! lost an output"),
                )+)))
            } else {
                $crate::branch::__private::Poll::Pending
            }
        })
        .await
    }};
}
