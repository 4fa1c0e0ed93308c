//! What every benchmark does at the end: print its rows and keep them for `make bench`'s
//! combined table (target/bench-results/NAME.tsv).

use std::path::Path;

/// A result row: what was measured, babeldesk's number, the peer's, and the ratio.
pub type Row = (String, String, String, String);

pub fn table(bench: &str, rows: &[Row]) {
    println!(
        "\n{:<52} {:>12} {:>12} {:>8}",
        "what", "babeldesk", "peer", "ratio"
    );
    for (what, ours, peer, ratio) in rows {
        println!("{what:<52} {ours:>12} {peer:>12} {ratio:>8}");
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-results");
    let _ = std::fs::create_dir_all(&dir);
    let tsv: String = rows
        .iter()
        .map(|(a, b, c, d)| format!("{a}\t{b}\t{c}\t{d}\n"))
        .collect();
    let _ = std::fs::write(dir.join(format!("{bench}.tsv")), tsv);
}
