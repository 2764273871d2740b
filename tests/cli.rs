//! The `setter` binary as a user runs it: restart continuity, config errors,
//! model failures and retries, cassette record/replay.

mod common;

use common::{Env, Stub};
use serde_json::{json, Value};
use std::path::Path;

async fn setter(dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> (i32, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_setter"))
        .args(args)
        .current_dir(dir)
        .env_remove("SETTER_CASSETTE")
        .env_remove("SETTER_CONFIG")
        .envs(envs.iter().copied())
        .output()
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn a_new_process_continues_the_same_lead() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let dir = env.dir.path();
    std::fs::write(
        dir.join("a.txt"),
        "hi, we're a roofing company\nwe lose leads at night\n",
    )
    .unwrap();
    std::fs::write(dir.join("b.txt"), "we want it in 2 weeks\n").unwrap();
    stub.extraction(json!({"business": "roofing company"}));
    stub.extraction(json!({"pain": "lose leads at night"}));
    let (code, out, err) = setter(dir, &["chat", "--script", "a.txt", "--json"], &[]).await;
    assert_eq!(code, 0, "{err}");
    let first = lines(&out);
    assert_eq!(first.len(), 2);

    stub.extraction(json!({"timeline": "in 2 weeks"}));
    let (code, out, err) = setter(dir, &["chat", "--script", "b.txt", "--json"], &[]).await;
    assert_eq!(code, 0, "{err}");
    let second = lines(&out);
    assert_eq!(second[0]["lead_id"], first[0]["lead_id"]);
    assert_eq!(second[0]["turn"], 3);
    assert_eq!(
        second[0]["slots"],
        json!({"business": "roofing company", "pain": "lose leads at night", "timeline": "in 2 weeks"})
    );
    for key in [
        "reply",
        "fit",
        "intent",
        "tier",
        "score",
        "stage",
        "next_action",
        "tokens",
        "latency_ms",
        "reasons",
    ] {
        assert!(second[0].get(key).is_some(), "missing {key}");
    }

    let (code, shown, _) = setter(
        dir,
        &["leads", "show", first[0]["lead_id"].as_str().unwrap()],
        &[],
    )
    .await;
    assert_eq!(code, 0);
    assert!(
        shown.contains("timeline           in 2 weeks   (from #5)"),
        "{shown}"
    );
    let (_, exported, _) = setter(
        dir,
        &[
            "leads",
            "export",
            &first[0]["lead_id"].as_str().unwrap()[..12],
            "--format",
            "json",
        ],
        &[],
    )
    .await;
    let case: Value = serde_json::from_str(&exported).unwrap();
    assert_eq!(case["turns"].as_array().unwrap().len(), 6);
    assert_eq!(
        case["turns"][0],
        json!({"role": "lead", "text": "hi, we're a roofing company", "at": case["turns"][0]["at"]})
    );
}

#[tokio::test]
async fn several_scripts_are_several_leads_answered_in_turn() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let dir = env.dir.path();
    std::fs::write(
        dir.join("a.txt"),
        "hi, we're a roofing company
we lose leads at night
",
    )
    .unwrap();
    std::fs::write(
        dir.join("b.txt"),
        "hola, tenemos una clínica
",
    )
    .unwrap();
    let args = ["chat", "--script", "a.txt", "--script", "b.txt", "--json"];
    let (code, out, err) = setter(dir, &args, &[]).await;
    assert_eq!(code, 0, "{err}");
    let turns = lines(&out);
    let ids: Vec<&str> = turns
        .iter()
        .map(|t| t["lead_id"].as_str().unwrap())
        .collect();
    // Round robin: a1, b1, a2; two new leads.
    assert_eq!(ids.len(), 3, "{out}");
    assert_ne!(ids[0], ids[1]);
    assert_eq!(ids[0], ids[2]);
    let numbers: Vec<i64> = turns.iter().map(|t| t["turn"].as_i64().unwrap()).collect();
    assert_eq!(numbers, vec![1, 1, 2]);
    // One lead continued with several scripts is a usage error; nothing is stored.
    let lead = [
        "chat", "--lead", ids[0], "--script", "a.txt", "--script", "b.txt",
    ];
    let (code, _, err) = setter(dir, &lead, &[]).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("drop --lead"), "{err}");
}

#[tokio::test]
async fn check_names_the_bad_key_and_exits_2() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |c| {
        c.icp.disqualifiers[1].text = String::new();
        c.qualification.framework = "spin".into();
    });
    let (code, out, _) = setter(env.dir.path(), &["check"], &[]).await;
    assert_eq!(code, 2);
    assert!(
        out.contains("error: icp.disqualifiers[1].text: must not be empty\n"),
        "{out}"
    );
    assert!(out.contains("error: qualification.framework: unknown framework \"spin\"; choose one of pif, bant, gpct, champ, meddic, faint, gpctba-ci, or custom\n"), "{out}");

    let good = Env::new(&stub, |_| {});
    let (code, out, _) = setter(good.dir.path(), &["check"], &[]).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("setter.toml: ok (framework pif with 5 slots, 5 traits, 3 disqualifiers)"),
        "{out}"
    );
}

#[tokio::test]
async fn server_errors_are_retried_and_client_errors_are_not() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let dir = env.dir.path();
    std::fs::write(dir.join("s.txt"), "hello\n").unwrap();
    stub.fail(503).fail(429);
    let (code, out, err) =
        setter(dir, &["chat", "--new", "--script", "s.txt", "--json"], &[]).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(lines(&out).len(), 1);
    assert_eq!(stub.requests().len(), 4, "2 failures + extraction + reply");

    stub.fail(401);
    let (code, _, err) = setter(dir, &["chat", "--new", "--script", "s.txt", "--json"], &[]).await;
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!("openai-compatible ({}) model \"stub-model\" failed after 1 attempt(s): HTTP 401: scripted 401", stub.url)),
        "{err}"
    );
}

#[tokio::test]
async fn a_cassette_replays_without_the_model_and_names_a_miss() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let dir = env.dir.path();
    std::fs::write(dir.join("s.txt"), "hi there\n").unwrap();
    let cassette = dir.join("cassette.jsonl");
    let cassette = cassette.to_str().unwrap();
    stub.reply("Hi! What made you reach out today?");
    let record = [
        ("SETTER_CASSETTE", cassette),
        ("SETTER_CASSETTE_MODE", "record"),
    ];
    let (code, out, err) = setter(
        dir,
        &["chat", "--new", "--script", "s.txt", "--json"],
        &record,
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let recorded = stub.requests().len();

    let replay = [
        ("SETTER_CASSETTE", cassette),
        ("SETTER_CASSETTE_MODE", "replay"),
    ];
    let (code, again, err) = setter(
        dir,
        &["chat", "--new", "--script", "s.txt", "--json"],
        &replay,
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        stub.requests().len(),
        recorded,
        "replay must not call the model"
    );
    assert_eq!(lines(&again)[0]["reply"], lines(&out)[0]["reply"]);

    std::fs::write(dir.join("other.txt"), "something new\n").unwrap();
    let (code, _, err) = setter(dir, &["chat", "--new", "--script", "other.txt"], &replay).await;
    assert_eq!(code, 1);
    assert!(err.contains("has no recording for request key"), "{err}");
}

/// Several processes opening one new database at once all migrate it (they
/// used to fail with "table leads already exists").
#[tokio::test(flavor = "multi_thread")]
async fn processes_creating_one_database_at_once_all_succeed() {
    let stub = Stub::start().await;
    for round in 0..3 {
        let env = common::Env::new(&stub, |_| {});
        let children: Vec<_> = (0..6)
            .map(|_| {
                std::process::Command::new(env!("CARGO_BIN_EXE_setter"))
                    .args(["leads", "list", "--json"])
                    .current_dir(env.dir.path())
                    .env_remove("SETTER_CONFIG")
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}
