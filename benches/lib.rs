//! Benchmarks of the agentic platform live in `benches/`; this library is empty on purpose (Cargo needs a target
//! to attach them to). Run them with `cargo bench -p agentic-benches`.
