//! babeldesk: summarize and translate foreign news with local transformer models, keeping every
//! aligned sentence pair in a SQLite translation memory.
//!
//! Ownership of dependencies: only [`memory`] touches rusqlite, only [`models`] touches
//! rust-bert/tch (and only inside the `babeldesk-engine` executable), and nothing in this library
//! prints or draws progress bars: that is the binary's app layer.

pub mod config;
pub mod error;
pub mod eval;
pub mod exchange;
pub mod files;
#[doc(hidden)]
pub mod invariants;
pub mod memory;
pub mod models;
pub mod pipeline;
pub mod progress;
pub mod qa;
pub mod serve;

pub mod terms;
#[doc(hidden)]
pub mod testing;
pub mod text;
pub mod tls;

pub use error::{Error, Result};
