//! The GGUF model engine: the only executable that links llama.cpp. The `babeldesk` CLI starts
//! it for instruct (chat) models and speaks the same line-based JSON protocol with it as with
//! `babeldesk-engine`. Its code lives with the other model code in src/models/llama/.

#[path = "../models/llama/mod.rs"]
mod llama;

fn main() {
    if std::env::args().any(|a| a == "--version" || a == "-V") {
        println!("babeldesk-llm {}", env!("CARGO_PKG_VERSION"));
        return;
    }
    let stdin = std::io::stdin().lock();
    let stdout = std::io::stdout().lock();
    std::process::exit(llama::serve(stdin, stdout));
}
