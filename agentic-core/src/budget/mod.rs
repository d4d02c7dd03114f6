//! Money for LLM calls: the pricing table, and budgets that hold under concurrency (reserve the worst case before
//! a call, settle the actual after).

mod pricing;

pub use pricing::{ModelPrice, PricingError, PricingTable};
