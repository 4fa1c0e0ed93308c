//! Bakes libtorch's directory into the executables' rpath, so `babeldesk-engine` runs without
//! LD_LIBRARY_PATH. torch-sys finds libtorch through the venv's Python (LIBTORCH_USE_PYTORCH=1);
//! we ask the same interpreter where torch keeps its shared libraries.
use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=VIRTUAL_ENV");
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-changed=build.rs");
    // Without the engines (the fuzz build) nothing links libtorch.
    if std::env::var_os("CARGO_FEATURE_ENGINES").is_none() {
        return;
    }
    if let Some(dir) = torch_lib_dir() {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    } else {
        println!(
            "cargo:warning=could not locate libtorch's lib directory; set VIRTUAL_ENV or LIBTORCH"
        );
    }
}

fn torch_lib_dir() -> Option<PathBuf> {
    if let Ok(libtorch) = std::env::var("LIBTORCH") {
        return Some(PathBuf::from(libtorch).join("lib"));
    }
    let python = match std::env::var("VIRTUAL_ENV") {
        Ok(venv) => PathBuf::from(venv).join("bin/python"),
        Err(_) => PathBuf::from("python3"),
    };
    let out = Command::new(python)
        .args([
            "-c",
            "import os, torch; print(os.path.join(os.path.dirname(torch.__file__), 'lib'))",
        ])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let dir = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    dir.is_dir().then_some(dir)
}
