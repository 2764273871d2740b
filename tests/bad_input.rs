//! Careless input against the binary: bad scripts, failed turns in
//! `--json`, and errors printed once with consistent exit codes.

mod common;

use common::{leads_json, setter_async, Env, Stub};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_script_creates_no_lead_and_names_the_line() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let dir = env.dir.path();
    std::fs::write(dir.join("empty.txt"), "\n   \n").unwrap();
    std::fs::write(dir.join("latin1.txt"), b"hello\nse\xf1or, how much?\n").unwrap();
    for (script, message) in [
        ("missing.txt", "error: cannot read script missing.txt: "),
        ("empty.txt", "error: empty.txt: no lead messages"),
        (
            "latin1.txt",
            "error: latin1.txt:2: not valid UTF-8 (byte 3)",
        ),
    ] {
        let (code, _, err) =
            setter_async(dir, &["chat", "--new", "--script", script, "--json"]).await;
        assert_eq!(code, 2, "{script}: {err}");
        assert!(err.starts_with(message), "{script}: {err}");
    }
    assert_eq!(leads_json(dir), Vec::<Value>::new(), "no lead was created");
    assert!(stub.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn json_mode_prints_one_error_object_per_failed_turn() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let dir = env.dir.path();
    std::fs::write(dir.join("s.txt"), "hello\nare you there?\n").unwrap();
    stub.fail(401);
    let (code, out, err) =
        setter_async(dir, &["chat", "--new", "--script", "s.txt", "--json"]).await;
    assert_eq!(code, 1, "a failed turn fails the run: {err}");
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{out}");
    let failed = lines[0].as_object().unwrap();
    let keys: Vec<&str> = failed.keys().map(String::as_str).collect();
    assert_eq!(keys, ["error", "lead_id", "turn"]);
    assert!(
        failed["error"].as_str().unwrap().contains("HTTP 401"),
        "{out}"
    );
    assert_eq!(failed["turn"], 1);
    assert_eq!(failed["lead_id"], lines[1]["lead_id"]);
    assert_eq!(lines[1]["turn"], 1, "the next message retries the reply");
    assert_eq!(err.matches("HTTP 401").count(), 1, "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_are_printed_once_and_exit_2_for_config_1_for_runtime() {
    let stub = Stub::start().await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    let (code, _, err) = setter_async(d, &["--config", "nope.toml", "leads", "list"]).await;
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(err.matches("No such file").count(), 1, "{err}");

    let env = Env::new(&stub, |c| {
        c.storage.url = "sqlite:///no/such/dir/x.db".into()
    });
    let (code, _, err) = setter_async(env.dir.path(), &["leads", "list"]).await;
    assert_eq!(code, 1, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(
        err.matches("unable to open database file").count(),
        1,
        "{err}"
    );

    let env = Env::new(&stub, |_| {});
    let prompts = env.dir.path().join("prompts");
    std::fs::create_dir(&prompts).unwrap();
    std::fs::write(prompts.join("system.j2"), "You are {{ persona.nmae }}.").unwrap();
    std::fs::write(env.dir.path().join("s.txt"), "hi\n").unwrap();
    let (code, _, err) = setter_async(env.dir.path(), &["chat", "--script", "s.txt"]).await;
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(
        err.matches("`persona.nmae` is undefined").count(),
        1,
        "{err}"
    );
    assert!(stub.requests().is_empty());
}
