//! Models: the registry, where installed models are found, fetching and importing them, and
//! the engine that runs them. Only this module touches rust-bert and tch: its `runtime/` files
//! are compiled into the `babeldesk-engine` executable alone (not into this library), so the
//! CLI never links libtorch.

pub mod engine;
pub mod protocol;
pub mod pull;
pub mod registry;
pub mod resolve;
pub mod store;

pub use registry::{Architecture, ModelEntry, Registry, Task};
