//! Scenario files (`scenarios/*.toml`): the model and its parser.

mod model;

pub use model::*;
