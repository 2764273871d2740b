//! What reaches the operator's terminal: a lead's control characters
//! escaped (JSON stays exact), and colour only on a terminal.

mod common;

use common::{leads_json, setter_async, setter_in as setter, Env, Stub};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread")]
async fn leads_list_and_show_escape_control_characters() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let dir = env.dir.path();
    let hostile = "hi \u{1b}[2J\u{1b}[31mred\u{7} back\u{8}\u{0} done";
    std::fs::write(dir.join("s.txt"), format!("{hostile}\n")).unwrap();
    let (code, out, err) =
        setter_async(dir, &["chat", "--new", "--script", "s.txt", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    let id = serde_json::from_str::<Value>(&out).unwrap()["lead_id"]
        .as_str()
        .unwrap()
        .to_string();
    let raw = |s: &str| s.contains(['\u{1b}', '\u{7}', '\u{8}', '\u{0}']);
    let (_, list, _) = setter_async(dir, &["leads", "list"]).await;
    let (_, show, _) = setter_async(dir, &["leads", "show", &id]).await;
    for text in [&list, &show] {
        assert!(!raw(text), "{text:?}");
        assert!(
            text.contains("hi \\u{1b}[2J\\u{1b}[31mred\\u{7} back"),
            "{text}"
        );
    }
    assert!(show.contains("back\\u{8}\\u{0} done"), "{show}");
    // JSON keeps the lead's exact words.
    assert_eq!(leads_json(dir)[0]["first_message"], hostile);
    let (_, json, _) = setter_async(dir, &["leads", "show", &id, "--json"]).await;
    let shown: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(shown["messages"][0]["text"], hostile);
}

#[test]
fn logs_in_a_pipe_have_no_colour() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = setter(dir.path(), &["-v", "leads", "list"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("no setter.toml here"), "{err}");
    assert!(!err.contains('\u{1b}'), "{err:?}");
}
