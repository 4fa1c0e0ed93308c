//! The model engine: the only executable that links libtorch. The `babeldesk` CLI starts it for
//! model work and speaks a line-based JSON protocol with it on stdin/stdout (see
//! `babeldesk::models::protocol`). Its code lives with the other model code in src/models/.

#[path = "../models/runtime/mod.rs"]
mod runtime;

fn main() {
    if std::env::args().any(|a| a == "--version" || a == "-V") {
        println!("babeldesk-engine {}", env!("CARGO_PKG_VERSION"));
        return;
    }
    let stdin = std::io::stdin().lock();
    let stdout = std::io::stdout().lock();
    std::process::exit(runtime::serve(stdin, stdout));
}
