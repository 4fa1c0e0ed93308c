//! Models: the registry, where installed models are found, fetching and importing them, and
//! the engines that run them. Only this module touches rust-bert/tch and llama.cpp: its
//! `runtime/` files are compiled into the `babeldesk-engine` executable alone and its `llama/`
//! files into `babeldesk-llm` (neither into this library), so the CLI links neither.

pub mod chat;
pub mod engine;
pub mod loaded;
pub mod prompt;
pub mod protocol;
pub mod pull;
pub mod registry;
pub mod remote;
pub mod resolve;
pub mod store;

pub use registry::{Architecture, ModelEntry, Registry, Task};
