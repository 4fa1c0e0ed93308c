//! The jobs behind the commands, as library calls: choose models, summarize, translate,
//! analyze. Nothing here prints; results come back as data. Starting and holding models is
//! `models::loaded`.

pub mod analyze;
mod choose;
mod pieces;
pub mod summarize;
pub mod terms;
pub mod translate;

pub use choose::{
    choose, choose_summarizer, choose_translator, entry_for_dir, EngineChoice, Wanted,
};
