//! The shipped starter suite replays from its recorded cassette, offline and
//! deterministically, and reproduces the committed baseline. A change to the
//! extraction prompt or schema makes this fail with a cassette miss: re-record
//! (docs/evals.md) and commit the new cassette and baseline together.

use serde_json::Value;

#[test]
fn the_starter_suite_replays_to_its_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_setter"))
        .args(["eval", "run", "evals/starter", "--no-progress", "--json"])
        .arg(&report)
        .env_remove("SETTER_CASSETTE")
        .env_remove("SETTER_CASSETTE_MODE")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let got: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let baseline: Value =
        serde_json::from_slice(&std::fs::read("evals/starter/baseline.json").unwrap()).unwrap();
    assert_eq!(got["summary"]["cases"], 46);
    pretty_assertions::assert_eq!(got["metrics"], baseline["metrics"]);
}
