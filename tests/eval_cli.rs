//! `setter eval` as a user runs it: metrics in the JSON report against
//! hand-computed numbers, JUnit counts, file:line errors that do not stop the
//! other cases, gates and exit codes, baselines; and offline `run` of the
//! starter suite against the loopback model stub (no real model).

mod common;

use common::{setter_in as setter, Env, Stub};
use pretty_assertions::assert_eq;
use serde_json::Value;
use std::path::Path;

// Three gold cases (hand-computed below) and one malformed line.
const GOLD: &str = r#"{"id":"a","channel":"webchat","turns":[{"role":"lead","text":"hi"}],"expect":{"slots":{"pain":"slow leads","budget":"2000"},"tier":"hot","disqualified":false}}
{"id":"b","expect":{"slots":{"pain":"no time","budget":null},"tier":"warm","disqualified":true}}
{"id":"broken", "expect": oops}
{"id":"c","expect":{"slots":{"pain":"ads"},"tier":"cold","fit":"low","disqualified":true}}
"#;

const PRED: &str = r#"{"id":"a","expect":{"slots":{"pain":"Slow  leads from DMs","budget":"$500"},"tier":"hot","disqualified":false}}
{"id":"b","expect":{"slots":{"budget":"1000"},"tier":"hot","disqualified":false}}
{"id":"c","expect":{"slots":{"pain":"ADS"},"tier":"cold","fit":"medium","disqualified":true}}
"#;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

fn metric(report: &Value, name: &str) -> Option<f64> {
    report["metrics"][name].as_f64()
}

fn close(actual: Option<f64>, expected: f64, what: &str) {
    let a = actual.unwrap_or_else(|| panic!("{what} is null"));
    assert!((a - expected).abs() < 1e-9, "{what}: {a} != {expected}");
}

#[test]
fn score_mode_reports_hand_computed_metrics_and_locates_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "gold.jsonl", GOLD);
    write(d, "pred.jsonl", PRED);
    let (code, stdout, _) = setter(
        d,
        &[
            "eval",
            "score",
            "gold.jsonl",
            "pred.jsonl",
            "--json",
            "r.json",
            "--junit",
            "r.xml",
            "--markdown",
            "r.md",
            "--html",
            "r.html",
        ],
    );
    // A malformed line is a data error: exit 2, but every report is written.
    assert_eq!(code, 2, "{stdout}");
    let r: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("r.json")).unwrap()).unwrap();

    assert_eq!(
        r["summary"],
        serde_json::json!({"cases": 4, "passed": 0, "failed": 3, "errored": 1})
    );
    // pain: a ✓ (containment), b missed, c ✓ → tp 2 fn 1. budget: a wrong
    // (fp+fn), b null but predicted (fp) → tp 0 fp 2 fn 1. Micro tp 2 fp 2 fn 2.
    close(metric(&r, "slot_micro_precision"), 0.5, "micro P");
    close(metric(&r, "slot_micro_recall"), 0.5, "micro R");
    close(metric(&r, "slot_micro_f1"), 0.5, "micro F1");
    close(metric(&r, "slot_macro_f1"), 0.4, "macro F1 = (0.8 + 0) / 2");
    close(metric(&r, "joint_goal_accuracy"), 1.0 / 3.0, "joint goal");
    close(metric(&r, "tier_accuracy"), 2.0 / 3.0, "tier accuracy");
    close(
        metric(&r, "tier_macro_f1"),
        5.0 / 9.0,
        "tier macro F1 = (2/3 + 0 + 1) / 3",
    );
    close(metric(&r, "tier_kappa"), 0.5, "kappa = (2/3 - 1/3) / (2/3)");
    close(metric(&r, "fit_accuracy"), 0.0, "fit accuracy");
    assert_eq!(metric(&r, "intent_accuracy"), None, "no intent labels: n/a");
    close(metric(&r, "disqualifier_recall"), 0.5, "dq recall");
    close(metric(&r, "disqualifier_precision"), 1.0, "dq precision");
    close(
        metric(&r, "case_pass_rate"),
        0.0,
        "every scored case differs somewhere",
    );
    assert_eq!(
        r["detail"]["tier"]["confusion"],
        serde_json::json!([[1, 0, 0], [1, 0, 0], [0, 0, 1]])
    );
    assert_eq!(
        r["detail"]["disqualifier"]["missed"],
        serde_json::json!(["b"])
    );

    // The malformed line names file:line; the cases after it still counted.
    let broken = r["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["status"] == "error")
        .unwrap();
    assert_eq!(broken["id"], "gold.jsonl:3");
    assert_eq!(broken["location"], "gold.jsonl:3");
    assert!(
        broken["error"]
            .as_str()
            .unwrap()
            .starts_with("gold.jsonl:3: not valid JSON"),
        "{broken}"
    );
    assert!(
        stdout.contains("ERROR gold.jsonl:3: not valid JSON"),
        "{stdout}"
    );

    // Every failing case lists what differed, in the terminal and in JUnit.
    let b = r["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "b")
        .unwrap();
    assert_eq!(
        b["diffs"],
        serde_json::json!([
            "disqualified: expected true, got false (MISSED DISQUALIFIER)",
            "tier: expected warm, got hot",
            "slot pain: expected \"no time\", got null",
            "slot budget: expected null, got \"1000\"",
        ])
    );
    assert!(
        stdout.contains("!! MISSED DISQUALIFIERS (1): b"),
        "{stdout}"
    );
    assert!(
        stdout.contains("        - slot budget: expected \"2000\", got \"$500\""),
        "{stdout}"
    );

    let xml = std::fs::read_to_string(d.join("r.xml")).unwrap();
    validate_junit(&xml);
    assert_eq!(xml.matches("<testcase ").count(), 4);
    assert_eq!(xml.matches("<failure ").count(), 3);
    assert_eq!(xml.matches("<error ").count(), 1);
    assert!(
        xml.contains(r#"<testsuite name="gold" tests="4" failures="3" errors="1""#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"message="disqualified: expected true, got false (MISSED DISQUALIFIER); tier: expected warm, got hot; slot pain: expected &quot;no time&quot;, got null; slot budget: expected null, got &quot;1000&quot;""#),
        "{xml}"
    );
    let html = std::fs::read_to_string(d.join("r.html")).unwrap();
    assert!(html.starts_with("<!doctype html>") && html.ends_with("</html>\n"));
    assert!(
        html.contains("<li>slot budget: expected null, got &quot;1000&quot;</li>"),
        "{html}"
    );
    assert!(
        !html.contains("<script") && !html.contains("http"),
        "self-contained"
    );
    let md = std::fs::read_to_string(d.join("r.md")).unwrap();
    assert!(md.contains("| tier_accuracy | 0.667 |"), "{md}");
}

#[test]
fn gates_set_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Without the malformed line: no data errors.
    let clean: String = GOLD
        .lines()
        .filter(|l| !l.contains("oops"))
        .map(|l| format!("{l}\n"))
        .collect();
    write(d, "gold.jsonl", &clean);
    write(d, "pred.jsonl", PRED);
    let score = ["eval", "score", "gold.jsonl", "pred.jsonl"];
    let run = |extra: &[&str]| setter(d, &[&score[..], extra].concat());

    assert_eq!(
        run(&[]).0,
        0,
        "no gates: failing cases alone do not fail the run"
    );
    assert_eq!(
        run(&[
            "--fail-under",
            "tier_accuracy=0.6",
            "--fail-under",
            "slot_micro_f1=0.5"
        ])
        .0,
        0
    );
    let (code, stdout, _) = run(&[
        "--fail-under",
        "tier_accuracy=0.6",
        "--fail-under",
        "disqualifier_recall=0.9",
    ]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("FAIL disqualifier_recall 0.500 is under 0.9"),
        "{stdout}"
    );
    // A metric that cannot be computed fails its gate rather than passing silently.
    assert_eq!(run(&["--fail-under", "intent_accuracy=0.1"]).0, 1);
    // Usage errors: exit 2.
    let (code, _, stderr) = run(&["--fail-under", "tier_acc=0.5"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown metric \"tier_acc\""), "{stderr}");
    assert_eq!(
        run(&["--max-regression", "tier_accuracy=0.1"]).0,
        2,
        "--max-regression needs --baseline"
    );
    assert_eq!(
        setter(d, &["eval", "score", "nope.jsonl", "pred.jsonl"]).0,
        2
    );
    // An unknown slot name is a data error naming the case and the slot.
    write(
        d,
        "bad.jsonl",
        "{\"id\":\"z\",\"expect\":{\"slots\":{\"budgett\":\"1\"}}}\n",
    );
    let (code, stdout, _) = setter(d, &["eval", "score", "bad.jsonl", "pred.jsonl"]);
    assert_eq!(code, 2);
    assert!(
        stdout.contains("case \"z\": unknown slot \"budgett\""),
        "{stdout}"
    );
}

#[test]
fn a_baseline_shows_deltas_fixed_and_broken_cases() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let clean: String = GOLD
        .lines()
        .filter(|l| !l.contains("oops"))
        .map(|l| format!("{l}\n"))
        .collect();
    write(d, "gold.jsonl", &clean);
    // In the baseline c passes (fit right); a and b fail.
    let old = PRED.replace(r#""fit":"medium""#, r#""fit":"low""#);
    write(d, "pred.jsonl", &old);
    assert_eq!(
        setter(
            d,
            &[
                "eval",
                "score",
                "gold.jsonl",
                "pred.jsonl",
                "--json",
                "old.json"
            ]
        )
        .0,
        0
    );
    // Now a is fixed (right budget) and c broken (tier wrong).
    let better = old
        .replace("\"$500\"", "\"2k\"")
        .replace(r#""tier":"cold","fit""#, r#""tier":"warm","fit""#);
    write(d, "pred2.jsonl", &better);
    let args = [
        "eval",
        "score",
        "gold.jsonl",
        "pred2.jsonl",
        "--baseline",
        "old.json",
        "--json",
        "new.json",
    ];
    let (code, stdout, _) = setter(d, &args);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("fixed  (1): a"), "{stdout}");
    assert!(stdout.contains("broken (1): c"), "{stdout}");
    let r: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("new.json")).unwrap()).unwrap();
    let delta = r["comparison"]["deltas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["metric"] == "tier_accuracy")
        .unwrap();
    close(
        delta["delta"].as_f64(),
        1.0 / 3.0 - 2.0 / 3.0,
        "tier accuracy delta",
    );
    let (code, stdout, _) = setter(
        d,
        &[&args[..], &["--max-regression", "tier_accuracy=0.2"]].concat(),
    );
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("FAIL tier_accuracy dropped 0.333"),
        "{stdout}"
    );
    assert_eq!(
        setter(
            d,
            &[&args[..], &["--max-regression", "tier_accuracy=0.5"]].concat()
        )
        .0,
        0
    );
}

/// The starter suite loads cleanly and runs offline end to end against the
/// loopback stub (all-null extractions: only keyword evidence counts).
#[tokio::test(flavor = "multi_thread")]
async fn the_starter_suite_runs_offline_against_the_stub() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let suite = env.dir.path().join("suite");
    std::fs::create_dir(&suite).unwrap();
    let starter = Path::new(env!("CARGO_MANIFEST_DIR")).join("evals/starter");
    std::fs::copy(starter.join("cases.jsonl"), suite.join("cases.jsonl")).unwrap();
    std::fs::write(
        suite.join("suite.toml"),
        "name = \"starter-stub\"\nconfig = \"../setter.toml\"\n",
    )
    .unwrap();
    let dir = env.dir.path().to_path_buf();
    let (code, stdout, stderr) = tokio::task::spawn_blocking(move || {
        setter(&dir, &["eval", "run", "suite", "--json", "r.json"])
    })
    .await
    .unwrap();
    assert!(code == 0, "exit {code}\n{stdout}\n{stderr}");
    let r: Value =
        serde_json::from_str(&std::fs::read_to_string(env.dir.path().join("r.json")).unwrap())
            .unwrap();
    let cases = r["summary"]["cases"].as_u64().unwrap();
    assert!(cases >= 40, "{cases} starter cases");
    assert_eq!(r["summary"]["errored"], 0, "{stdout}");
    assert_eq!(r["mode"], "offline");
    // One extraction call per lead turn, 100 prompt tokens each from the stub;
    // the reply model is never called (recorded setter replies are used).
    let turns = r["usage"]["turns"].as_u64().unwrap();
    assert_eq!(r["usage"]["prompt_tokens"].as_u64().unwrap(), 100 * turns);
    let requests = stub.requests();
    assert_eq!(requests.len() as u64, turns);
    assert!(requests
        .iter()
        .all(|q| q["response_format"]["type"] == "json_schema"));
    // Keyword disqualifiers are caught even with a model that finds nothing.
    let caught = r["detail"]["disqualifier"]["tp"].as_u64().unwrap();
    assert!(caught >= 5, "{caught} disqualifiers caught by keyword");
}

/// Checks JUnit XML against the rules of the JUnit schema CI servers read
/// (Jenkins' junit-10.xsd): allowed children, required attributes, number
/// and timestamp formats, and counts that match the test cases.
fn validate_junit(xml: &str) {
    let doc = roxmltree::Document::parse(xml).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let children = |n: roxmltree::Node<'_, '_>| -> Vec<String> {
        n.children()
            .filter(|c| c.is_element())
            .map(|c| c.tag_name().name().to_string())
            .collect()
    };
    let int = |n: roxmltree::Node<'_, '_>, a: &str| -> Option<u32> {
        n.attribute(a).map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{a}=\"{v}\" is not an integer"))
        })
    };
    let decimal = |n: roxmltree::Node<'_, '_>| {
        if let Some(t) = n.attribute("time") {
            assert!(t.parse::<f64>().is_ok(), "time=\"{t}\" is not a decimal");
        }
    };
    decimal(root);
    for suite in root.children().filter(|c| c.is_element()) {
        assert_eq!(suite.tag_name().name(), "testsuite");
        assert!(suite.attribute("name").is_some(), "testsuite needs a name");
        let tests = int(suite, "tests").expect("testsuite needs tests");
        decimal(suite);
        if let Some(ts) = suite.attribute("timestamp") {
            let ok = ts.len() == 19
                && ts.char_indices().all(|(i, c)| match i {
                    4 | 7 => c == '-',
                    10 => c == 'T',
                    13 | 16 => c == ':',
                    _ => c.is_ascii_digit(),
                });
            assert!(ok, "timestamp \"{ts}\" is not yyyy-mm-ddThh:mm:ss");
        }
        let (mut cases, mut failures, mut errors) = (0, 0, 0);
        for child in suite.children().filter(|c| c.is_element()) {
            match child.tag_name().name() {
                "properties" => {
                    for p in child.children().filter(|c| c.is_element()) {
                        assert_eq!(p.tag_name().name(), "property");
                        assert!(p.attribute("name").is_some() && p.attribute("value").is_some());
                    }
                }
                "testcase" => {
                    cases += 1;
                    assert!(child.attribute("name").is_some(), "testcase needs a name");
                    decimal(child);
                    for k in children(child) {
                        match k.as_str() {
                            "failure" => failures += 1,
                            "error" => errors += 1,
                            "skipped" | "system-out" | "system-err" => {}
                            other => panic!("<{other}> is not allowed in <testcase>"),
                        }
                    }
                }
                "system-out" | "system-err" => {}
                other => panic!("<{other}> is not allowed in <testsuite>"),
            }
        }
        assert_eq!(tests, cases, "tests attribute");
        assert_eq!(
            int(suite, "failures").unwrap_or(0),
            failures,
            "failures attribute"
        );
        assert_eq!(
            int(suite, "errors").unwrap_or(0),
            errors,
            "errors attribute"
        );
    }
}
