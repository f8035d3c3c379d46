//! `rapport sentiment`: input shapes, output formats and errors, on small files.

use std::process::{Command, Output};

fn sentiment(dir: &std::path::Path, file: &str, body: &str, args: &[&str]) -> Output {
    let path = dir.join(file);
    std::fs::write(&path, body).unwrap();
    Command::new(env!("CARGO_BIN_EXE_rapport"))
        .arg("sentiment")
        .arg(&path)
        .args(args)
        .output()
        .expect("rapport runs")
}

fn stdout(out: &Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn one_text_per_line_gives_one_score_per_line_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let out = sentiment(dir.path(), "t.txt", "The book was good.\n\nToday SUX!\n", &[]);
    assert_eq!(stdout(&out), "score\n0.4404\n0\n-0.5461\n", "a blank line scores 0 in its place");
    let out = sentiment(dir.path(), "t.txt", "Not bad at all\n", &["--format", "jsonl"]);
    assert_eq!(stdout(&out), "{\"score\":0.431}\n");
}

#[test]
fn a_column_by_name_or_position_with_quotes_as_csv_has_them() {
    let dir = tempfile::tempdir().unwrap();
    let csv = "id,text\n1,\"VADER is smart, handsome, and funny.\"\n2,The book was good.\n";
    let by_name = stdout(&sentiment(dir.path(), "f.csv", csv, &["--column", "text"]));
    assert_eq!(by_name, "score\n0.8316\n0.4404\n");
    let by_position = stdout(&sentiment(dir.path(), "f.csv", csv, &["--column", "2"]));
    assert_eq!(by_position, by_name);
    // Tab-separated text is read as it is: a leading quote is text, not quoting.
    let tsv = "1\t\"  The book was good.\n2\tToday SUX!\n";
    let out = sentiment(dir.path(), "f.tsv", tsv, &["--no-header", "--column", "2"]);
    assert_eq!(stdout(&out), "score\n0.4404\n-0.5461\n");
}

#[test]
fn bad_input_is_refused_naming_the_line_or_column() {
    let dir = tempfile::tempdir().unwrap();
    let out = sentiment(dir.path(), "f.csv", "id,text\n1,fine\n2\n", &["--column", "text"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 3: no column 2 (the row has 1)"), "{err}");
    let out = sentiment(dir.path(), "f.csv", "id,text\n", &["--column", "body"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("the header has no such column (id, text)"), "{err}");
    let out = sentiment(dir.path(), "f.txt", "ok\n\u{0}", &[]);
    assert!(out.status.success(), "a NUL is text");
    std::fs::write(dir.path().join("b.txt"), b"fine\n\xff\xfe\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_rapport"))
        .args(["sentiment"])
        .arg(dir.path().join("b.txt"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 2 is not valid UTF-8 text"), "{err}");
}
