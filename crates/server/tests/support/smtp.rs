//! Starts the real SMTP sink (`smtp_sink.py`, Python's aiosmtpd) on loopback and reads what it
//! received. The Python with aiosmtpd is `RAPPORT_SMTP_SINK_PYTHON`, else the venv that
//! `scripts/smtp-sink-venv.sh` makes beside the build, else `python3` if it has aiosmtpd;
//! without one the tests say SKIPPED and return.

#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../server/tests/support/smtp_sink.py");

pub struct Sink {
    child: Child,
    pub port: u16,
    pub out: PathBuf,
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

fn has_aiosmtpd(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import aiosmtpd"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A Python that has aiosmtpd, or `None` (after saying SKIPPED).
pub fn python() -> Option<PathBuf> {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../smtp-sink-venv/bin/python");
    let candidates = [
        std::env::var_os("RAPPORT_SMTP_SINK_PYTHON").map(PathBuf::from),
        Some(venv),
        Some(PathBuf::from("python3")),
    ];
    let found = candidates.into_iter().flatten().find(|p| has_aiosmtpd(p));
    if found.is_none() {
        let line = "SKIPPED: no Python with aiosmtpd (run scripts/smtp-sink-venv.sh); \
                    SMTP outbox test not run\n";
        std::io::stderr().write_all(line.as_bytes()).ok();
    }
    found
}

impl Sink {
    /// Starts the sink writing to `out`; `delay` seconds before taking each message,
    /// answering 451 to the first `fail_first`.
    pub fn start(python: &Path, out: &Path, delay: f64, fail_first: u32) -> Sink {
        let mut child = Command::new(python)
            .arg(SCRIPT)
            .args(["--out", out.to_str().unwrap()])
            .args(["--delay", &delay.to_string(), "--fail-first", &fail_first.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .expect("the SMTP sink starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the sink did not say its port: {line:?}"));
        Sink { child, port, out: out.to_path_buf() }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, in order (line endings normalised to \n).
    pub fn received(&self) -> Vec<Value> {
        let Ok(text) = std::fs::read_to_string(&self.out) else { return Vec::new() };
        text.lines()
            .map(|l| {
                let mut v: Value = serde_json::from_str(l).unwrap();
                for k in ["text", "html"] {
                    if let Some(s) = v[k].as_str() {
                        v[k] = Value::String(s.replace("\r\n", "\n"));
                    }
                }
                v
            })
            .collect()
    }
}
