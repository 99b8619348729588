//! The `#[asyncsim::test]` attribute.
extern crate proc_macro;
