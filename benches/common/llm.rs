//! The GGUF benchmarks' common parts: a `translate` run of the real binary with its numbers,
//! and llama.cpp's own server as the peer.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The first `n` lines of newstest2013 (ru→en) in `work`: as one document (a line a
/// paragraph, so the previous-sentence context applies), and as source and reference files
/// a line a segment for scoring.
pub struct TestSet {
    pub doc: PathBuf,
    pub src: PathBuf,
    pub refs: PathBuf,
}

impl TestSet {
    pub fn newstest2013(data: &Path, n: usize, work: &Path) -> TestSet {
        let cut = |name: &str| -> Vec<String> {
            let lines = super::lines(&data.join(name));
            lines[..n.min(lines.len())].to_vec()
        };
        let (src, refs) = (cut("newstest2013.ru"), cut("newstest2013.en"));
        let set = TestSet {
            doc: work.join("newstest2013.ru.txt"),
            src: work.join("src"),
            refs: work.join("ref"),
        };
        std::fs::write(&set.doc, src.join("\n\n") + "\n").unwrap();
        std::fs::write(&set.src, src.join("\n") + "\n").unwrap();
        std::fs::write(&set.refs, refs.join("\n") + "\n").unwrap();
        set
    }
}

/// One translation run: wall time, segments, and the output a line per input line.
pub struct Run {
    pub seconds: f64,
    pub segments: usize,
    pub failed: usize,
    pub prompt: u64,
    pub generated: u64,
    pub lines: Vec<String>,
    /// Peak resident memory of the command and its engine (KiB), where `/usr/bin/time` is.
    pub peak_kib: Option<u64>,
}

pub fn translate(
    bin: &Path,
    work: &Path,
    name: &str,
    doc: &Path,
    flags: &[String],
    threads: usize,
) -> Run {
    let memory = work.join(format!("{name}.sqlite"));
    let started = Instant::now();
    let time = Path::new("/usr/bin/time");
    let peak_file = work.join(format!("{name}.peak"));
    let mut cmd = match time.is_file() {
        true => {
            let mut c = Command::new(time);
            c.args(["-f", "%M", "-o"]).arg(&peak_file).arg(bin);
            c
        }
        false => Command::new(bin),
    };
    let out = cmd
        .arg("--memory")
        .arg(&memory)
        .arg("--quiet")
        .args(["translate", "--from", "ru", "--format", "json"])
        .args(flags)
        .arg(doc)
        .env("BABELDESK_THREADS", threads.to_string())
        .output()
        .expect("run babeldesk");
    let seconds = started.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let text = v["text"].as_str().unwrap_or_default();
    let peak_kib = std::fs::read_to_string(&peak_file)
        .ok()
        .and_then(|t| t.trim().parse().ok());
    Run {
        peak_kib,
        seconds,
        segments: v["segments"].as_array().map_or(0, Vec::len),
        failed: v["failed"].as_u64().unwrap_or(0) as usize,
        prompt: v["tokens"]["prompt"].as_u64().unwrap_or(0),
        generated: v["tokens"]["generated"].as_u64().unwrap_or(0),
        lines: text.split("\n\n").map(|l| l.replace('\n', " ")).collect(),
    }
}

/// llama.cpp's server on loopback with `slots` parallel sequences, each with the local
/// engine's context (4096 tokens), killed when dropped.
pub struct LlamaServer {
    child: Child,
    pub port: u16,
}

impl LlamaServer {
    pub fn start(exe: &Path, gguf: &Path, slots: usize, threads: usize) -> LlamaServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(exe)
            .arg("-m")
            .arg(gguf)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["-np", &slots.to_string(), "-c", &(4096 * slots).to_string()])
            .args(["-t", &threads.to_string(), "-tb", &threads.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start llama-server");
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let ready = ureq::get(&format!("http://127.0.0.1:{port}/health"))
                .call()
                .is_ok_and(|r| r.status() == 200);
            if ready {
                break;
            }
            assert!(Instant::now() < deadline, "llama-server did not start");
            std::thread::sleep(Duration::from_millis(200));
        }
        LlamaServer { child, port }
    }
}

impl LlamaServer {
    /// The server's peak resident memory so far (KiB).
    pub fn peak_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }
}

impl Drop for LlamaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
