//! Eval data that would pass silently: misspelled keys in cases, assertions
//! and `suite.toml`, duplicate predictions, a case with no lead turn, a gate
//! under the suite's own baseline. Each is an error (or a warning) that names
//! the file and line.

mod common;

use common::{setter_in as setter, Env, Stub};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A suite dir `suite` next to the env's setter.toml (pointing at the stub).
fn suite(env: &Env, suite_toml: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = env.dir.path().join("suite");
    std::fs::create_dir_all(&dir).unwrap();
    let toml = format!("config = \"../setter.toml\"\n{suite_toml}");
    std::fs::write(dir.join("suite.toml"), toml).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    env.dir.path().to_path_buf()
}

async fn run(dir: PathBuf) -> (i32, String, String, Value) {
    tokio::task::spawn_blocking(move || {
        let (code, out, err) = setter(&dir, &["eval", "run", "suite", "--json", "r.json"]);
        let report = std::fs::read_to_string(dir.join("r.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Value::Null);
        (code, out, err, report)
    })
    .await
    .unwrap()
}

fn errors(report: &Value) -> Vec<String> {
    report["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["error"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_eval_case_with_any_unknown_key_is_rejected_with_file_line_and_key() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let cases = concat!(
        r#"{"id":"top","turns":[{"role":"lead","text":"hi"}],"expcet":{"tier":"hot"}}"#,
        "\n",
        r#"{"id":"inner","turns":[{"role":"lead","text":"hi"}],"expect":{"teir":"hot"}}"#,
        "\n",
        r#"{"id":"check","turns":[{"role":"lead","text":"hi"}],"expect":{"assertions":[{"contain":"x"}]}}"#,
        "\n",
        r#"{"id":"turn","turns":[{"role":"lead","txt":"hi"}],"expect":{"tier":"hot"}}"#,
        "\n",
    );
    let (code, out, err, r) = run(suite(&env, "", &[("cases.jsonl", cases)])).await;
    assert_eq!(code, 2, "{out}\n{err}");
    assert_eq!(r["summary"]["errored"], 4, "{out}");
    assert_eq!(r["summary"]["passed"], 0, "a typo never passes: {out}");
    let found = errors(&r);
    for (line, key, path, hint) in [
        (1, "expcet", "expcet", "expect"),
        (2, "teir", "expect.teir", "tier"),
        (3, "contain", "expect.assertions[0].contain", "contains"),
        (4, "txt", "turns[0].txt", "text"),
    ] {
        let e = found
            .iter()
            .find(|e| e.starts_with(&format!("suite/cases.jsonl:{line}: ")))
            .unwrap_or_else(|| panic!("no error for line {line}: {found:?}"));
        assert!(
            e.contains(&format!("key {path}: unknown field `{key}`")),
            "{e}"
        );
        assert!(e.ends_with(&format!("did you mean `{hint}`?")), "{e}");
    }
    assert!(stub.requests().is_empty(), "no case ran");

    // A one-case TOML file (simulated personas) is located the same way.
    let persona = "[persona]\ndescription = \"You run a gym.\"\nmax_turnz = 3\n";
    let dir = suite(&env, "cases = \".\"\n", &[("gym.toml", persona)]);
    let (code, out, _, r) = run(dir).await;
    assert_eq!(code, 2, "{out}");
    let e = &errors(&r)[0];
    assert!(e.contains("gym.toml:3: "), "{e}");
    assert!(e.contains("key persona.max_turnz"), "{e}");
    assert!(e.ends_with("did you mean `max_turns`?"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_suite_toml_key_names_its_line_and_the_nearest_key() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let dir = suite(&env, "[thresholdz]\ntier_accuracy = 0.8\n", &[]);
    let (code, out, err, _) = run(dir).await;
    assert_eq!(code, 2, "{out}");
    assert!(
        err.contains("suite/suite.toml:2: unknown field `thresholdz`"),
        "{err}"
    );
    assert!(err.contains("did you mean `thresholds`?"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_case_with_no_lead_turn_names_its_file_and_line() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let cases = "\n{\"id\":\"quiet\",\"turns\":[{\"role\":\"setter\",\"text\":\"hi?\"}]}\n";
    let (code, out, _, r) = run(suite(&env, "", &[("cases.jsonl", cases)])).await;
    assert_eq!(code, 2, "{out}");
    assert_eq!(
        errors(&r),
        ["suite/cases.jsonl:2: case \"quiet\" has no lead turn (a turn with \"role\": \"lead\")"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_threshold_under_the_suites_own_baseline_is_a_warning() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let case = r#"{"id":"a","turns":[{"role":"lead","text":"hi"}],"expect":{"tier":"cold"}}"#;
    let baseline = r#"{"metrics":{"tier_accuracy":0.9,"case_pass_rate":1.0}}"#;
    let toml = "[thresholds]\ntier_accuracy = 0.5\ncase_pass_rate = 1.0\n";
    let files = [("cases.jsonl", case), ("baseline.json", baseline)];
    let (code, out, _, r) = run(suite(&env, toml, &files)).await;
    assert_eq!(code, 0, "{out}");
    let warning = "suite.toml [thresholds] tier_accuracy = 0.5 is under the suite's baseline 0.900";
    assert!(out.contains(&format!("warning: {warning}")), "{out}");
    assert_eq!(r["warnings"].as_array().unwrap().len(), 1, "{out}");
}

#[test]
fn a_duplicate_prediction_id_is_an_error_naming_both_lines() {
    let dir = tempfile::tempdir().unwrap();
    let d: &Path = dir.path();
    std::fs::write(
        d.join("gold.jsonl"),
        "{\"id\":\"a\",\"expect\":{\"tier\":\"hot\"}}\n",
    )
    .unwrap();
    let pred = "{\"id\":\"a\",\"expect\":{\"tier\":\"hot\"}}\n{\"id\":\"a\",\"expect\":{\"tier\":\"cold\"}}\n";
    std::fs::write(d.join("pred.jsonl"), pred).unwrap();
    let (code, out, _) = setter(d, &["eval", "score", "gold.jsonl", "pred.jsonl"]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("ERROR a: pred.jsonl:2: duplicate case id \"a\" (first at pred.jsonl:1)"),
        "{out}"
    );
}
