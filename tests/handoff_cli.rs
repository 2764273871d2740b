//! `setter handoff LEAD_ID [--format json|md]`: the packet as of now for a
//! lead not handed off yet, the frozen one for a lead that was, and a clear
//! error for an id that matches no lead.

mod common;

use common::{new_lead, say, setter_async, Env, Stub};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread")]
async fn setter_handoff_id_prints_json_and_markdown() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let agent = env.agent().await;
    let lead = new_lead(&agent, "+15550201").await;
    say(&agent, &lead, "hello there, we miss calls at night", 0).await;
    agent.store().clone().close().await;
    let dir = env.dir.path();
    stub.reply("Ask about the missed calls at night [1].");
    let (code, md, err) = setter_async(dir, &["handoff", &lead.id[..12]]).await;
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("not handed off yet"), "{err}");
    assert!(md.contains("# Handoff: Test Lead (whatsapp)"), "{md}");
    assert!(
        md.contains("## Recommended approach\nAsk about the missed calls at night [1]."),
        "{md}"
    );
    assert!(
        md.contains("**pain**: not stated — ask on the call"),
        "{md}"
    );
    assert!(md.contains("1. **lead**: hello there"), "{md}");
    // The stub's default reply cites nothing: kept nothing, said so.
    let (code, json, err) = setter_async(dir, &["handoff", &lead.id, "--format", "json"]).await;
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["lead"]["id"], lead.id.as_str());
    assert_eq!(v["budget"], Value::Null);
    assert_eq!(v["recommended_approach"]["claims"], serde_json::json!([]));
    assert_eq!(
        v["recommended_approach"]["dropped"][0]["why"],
        "cites no message"
    );
    // The old spelling still works.
    let (code, old, _) =
        setter_async(dir, &["handoff", "packet", &lead.id, "--format", "json"]).await;
    assert_eq!(code, 0);
    assert_eq!(
        serde_json::from_str::<Value>(&old).unwrap()["lead"],
        v["lead"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_handed_off_leads_packet_prints_as_it_was_delivered() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let agent = env.agent().await;
    let lead = new_lead(&agent, "+15550210").await;
    say(&agent, &lead, "we miss calls at night", 0).await;
    agent.store().clone().close().await;
    let dir = env.dir.path();
    stub.reply("Open with the calls they miss at night [1].");
    let (code, out, err) = setter_async(dir, &["handoff", "send", &lead.id]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("handed off: "), "{out}");
    let calls = stub.requests().len();
    stub.reply("A different paragraph [1].");
    let (code, md, err) = setter_async(dir, &["handoff", &lead.id]).await;
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("not handed off yet"), "{err}");
    assert!(
        md.contains("Open with the calls they miss at night [1]."),
        "{md}"
    );
    assert_eq!(stub.requests().len(), calls, "frozen: no model call");
}

#[tokio::test]
async fn an_unknown_lead_id_is_a_clear_usage_error() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    env.agent().await.store().clone().close().await;
    let (code, out, err) = setter_async(env.dir.path(), &["handoff", "no-such-lead"]).await;
    assert_eq!(code, 2, "{out}");
    assert_eq!(
        err.trim(),
        "error: no lead matches \"no-such-lead\"; `setter leads list` shows the ids"
    );
    let (code, _, err) = setter_async(env.dir.path(), &["handoff"]).await;
    assert_eq!(code, 2);
    assert!(err.contains("<LEAD_ID>"), "{err}");
    let (code, _, err) = setter_async(env.dir.path(), &["handoff", "x", "--format", "pdf"]).await;
    assert_eq!(code, 2);
    assert!(err.contains("[possible values: json, md]"), "{err}");
}

/// `setter check` renders the handoff templates against a sample packet, so
/// an edited one fails there rather than when a Hot lead is handed off.
#[tokio::test]
async fn setter_check_names_a_broken_handoff_template() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let prompts = env.dir.path().join("prompts");
    std::fs::create_dir(&prompts).unwrap();
    let (code, out, err) = setter_async(env.dir.path(), &["check"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("template handoff_approach.j2: embedded default"),
        "{out}"
    );
    for (name, text) in [
        (
            "handoff_approach.j2",
            "{% for l in transcript %}[{{ l.nubmer }}]{% endfor %}",
        ),
        ("handoff.md.j2", "{{ packet.recommended_approach.txt }}"),
    ] {
        std::fs::write(prompts.join(name), text).unwrap();
        let (code, out, _) = setter_async(env.dir.path(), &["check"]).await;
        assert_eq!(code, 2, "{out}");
        assert!(
            out.contains(&format!("error: template {name} line 1")),
            "{out}"
        );
        std::fs::remove_file(prompts.join(name)).unwrap();
    }
}
