//! The shipped suites replay from their recorded cassettes, offline and
//! deterministically, and reproduce their committed baselines. A change to a
//! prompt, the extraction schema or the cadence rules makes this fail (with a
//! cassette miss when the requests changed): re-record (docs/evals.md) and
//! commit the new cassette and baseline together.

use serde_json::Value;

fn replays_to_baseline(suite: &str, min_cases: u64) {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_setter"))
        .args([
            "eval",
            "run",
            &format!("evals/{suite}"),
            "--no-progress",
            "--json",
        ])
        .arg(&report)
        .env_remove("SETTER_CASSETTE")
        .env_remove("SETTER_CASSETTE_MODE")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let got: Value = serde_json::from_slice(&std::fs::read(&report).unwrap())
        .unwrap_or_else(|e| panic!("{e}\n{stdout}\n{stderr}"));
    let baseline: Value =
        serde_json::from_slice(&std::fs::read(format!("evals/{suite}/baseline.json")).unwrap())
            .unwrap();
    assert_eq!(got["summary"]["errored"], 0, "{stdout}\n{stderr}");
    assert!(got["summary"]["cases"].as_u64().unwrap() >= min_cases);
    assert_eq!(got["summary"], baseline["summary"]);
    pretty_assertions::assert_eq!(got["metrics"], baseline["metrics"]);
    let statuses = |r: &Value| -> Vec<(String, String)> {
        r["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["id"].to_string(), c["status"].to_string()))
            .collect()
    };
    pretty_assertions::assert_eq!(statuses(&got), statuses(&baseline));
    // Regenerated replies (replay, simulate) come back word for word.
    let transcripts = |r: &Value| -> Vec<Value> {
        r["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["transcript"].clone())
            .collect()
    };
    pretty_assertions::assert_eq!(transcripts(&got), transcripts(&baseline));
}

#[test]
fn the_starter_suite_replays_to_its_baseline() {
    replays_to_baseline("starter", 40);
}

#[test]
fn the_cadence_suite_replays_to_its_baseline() {
    replays_to_baseline("cadence", 10);
}

#[test]
fn the_persona_suite_replays_to_its_baseline() {
    replays_to_baseline("personas", 7);
}

#[test]
fn the_followup_suite_replays_to_its_baseline() {
    replays_to_baseline("followups", 12);
}
