//! The proofs live in `tests/` and `examples/`; see `run.sh`.
