//! Accepting webhooks: handshake, signatures, every fixture kind, batches,
//! duplicates, bursts and a message arriving during a turn.

use crate::harness::{fixture, Serve, SECRET, VERIFY};
use serde_json::json;
use setter::channels::signature::sign;

#[tokio::test]
async fn the_handshake_echoes_the_challenge_only_for_the_right_token() {
    let s = Serve::start(|_| {}).await;
    let get = |token: &str| {
        s.http.get(format!(
            "{}/webhooks/meta?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=0012345678901234567890",
            s.url
        ))
    };
    let ok = get(VERIFY).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers()["content-type"], "text/plain");
    // Raw, not re-encoded as a number: leading zeros survive.
    assert_eq!(ok.text().await.unwrap(), "0012345678901234567890");
    assert_eq!(get("wrong").send().await.unwrap().status(), 403);
}

#[tokio::test]
async fn unsigned_or_badly_signed_bodies_are_refused_and_nothing_is_stored() {
    let s = Serve::start(|_| {}).await;
    let body = serde_json::to_vec(&fixture("whatsapp_text.json", "sig")).unwrap();
    let good = sign(SECRET, &body);
    let mut changed = body.clone();
    changed[10] ^= 1;
    let wrong = sign("other-secret", &body);
    let cases: [(&[u8], Option<&str>); 4] = [
        (&body, None),
        (&body, Some("sha256=00")),
        (&body, Some(&wrong)),
        (&changed, Some(&good)),
    ];
    for (bytes, sig) in cases {
        assert_eq!(s.webhook_raw(bytes, sig).await.status(), 401, "{sig:?}");
    }
    assert_eq!(s.count("SELECT COUNT(*) FROM webhooks").await, 0);
    assert_eq!(s.count("SELECT COUNT(*) FROM messages").await, 0);
    assert_eq!(s.webhook_raw(&body, Some(&good)).await.status(), 200);
    assert_eq!(s.count("SELECT COUNT(*) FROM webhooks").await, 1);
    let metrics = s
        .http
        .get(format!("{}/metrics", s.url))
        .send()
        .await
        .unwrap();
    let text = metrics.text().await.unwrap();
    assert!(
        text.contains(r#"setter_webhooks_total{result="bad_signature"} 4"#),
        "{text}"
    );
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let s = Serve::start(|c| c.serve.max_body_bytes = 2048).await;
    let big = vec![b' '; 4096];
    let r = s.webhook_raw(&big, Some(&sign(SECRET, &big))).await;
    assert_eq!(r.status(), 413);
    assert_eq!(s.count("SELECT COUNT(*) FROM webhooks").await, 0);
}

/// Every inbound fixture is stored once; each lead whose message can be
/// answered gets exactly one reply through the Graph API.
#[tokio::test]
async fn every_fixture_kind_is_stored_once_and_answered_once_per_lead() {
    let s = Serve::start(|_| {}).await;
    let mut names: Vec<String> = std::fs::read_dir(format!(
        "{}/tests/fixtures/channels",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
    .map(|e| e.unwrap().file_name().into_string().unwrap())
    .filter(|n| n.ends_with(".json") && !n.contains("_send_") && !n.starts_with("webchat"))
    .filter(|n| n != "messenger_postback.json") // no envelope: not a webhook body
    .collect();
    names.sort();
    assert_eq!(names.len(), 38, "{names:?}");
    for (i, name) in names.iter().enumerate() {
        let body = fixture(name, &format!("f{i}"));
        let r = s.webhook(&body).await;
        assert_eq!(r.status(), 200, "{name}");
        // Redelivered: stored once.
        assert_eq!(s.webhook(&body).await.status(), 200, "{name}");
    }
    assert_eq!(
        s.count("SELECT COUNT(*) FROM webhooks").await,
        2 * names.len() as i64
    );
    let distinct = s
        .count("SELECT COUNT(DISTINCT external_id) FROM messages WHERE direction = 'in'")
        .await;
    let all = s
        .count("SELECT COUNT(*) FROM messages WHERE direction = 'in'")
        .await;
    assert_eq!(distinct, all);
    assert!(all >= 25, "{all} inbound messages stored");
    // Every answerable message is answered by a turn; every reply is sent once.
    const PENDING: &str = "SELECT COUNT(*) FROM messages m WHERE m.direction = 'in'
        AND m.kind NOT IN ('reaction', 'system')
        AND m.id > COALESCE((SELECT MAX(inbound_id) FROM turns t WHERE t.lead_id = m.lead_id), 0)";
    s.eventually("every message answered and every reply sent", async |s| {
        s.count(PENDING).await == 0
            && s.count("SELECT COUNT(*) FROM outbox WHERE state NOT IN ('sent')")
                .await
                == 0
    })
    .await;
    // Most fixtures' timestamps are from 2023: their follow-ups fall outside
    // the platform's 24 h window and are skipped, counted by reason (those
    // with placeholder timestamps count from now and are not due yet).
    s.eventually("follow-ups skipped and counted", async |s| {
        let metrics = s
            .http
            .get(format!("{}/metrics", s.url))
            .send()
            .await
            .unwrap();
        let text = metrics.text().await.unwrap();
        text.contains(r#"setter_followups_total{result="skipped_window"}"#)
            && text.contains("setter_followups_due_total ")
            && !text.contains("setter_followups_due_total 0")
    })
    .await;
    assert_eq!(
        s.count("SELECT COUNT(*) FROM jobs WHERE state = 'sent'")
            .await,
        0
    );
    let replies = s
        .count("SELECT COUNT(*) FROM turns WHERE reply_id IS NOT NULL")
        .await;
    assert_eq!(s.count("SELECT COUNT(*) FROM outbox").await, replies);
    assert_eq!(s.graph.calls().len() as i64, replies, "one send per reply");
    // A lead who only reacted gets no reply.
    let reaction = names
        .iter()
        .position(|n| n == "instagram_reaction.json")
        .unwrap();
    let sql = format!(
        "SELECT COUNT(*) FROM leads l WHERE l.external_id = 'user-f{reaction}'
         AND NOT EXISTS (SELECT 1 FROM turns t WHERE t.lead_id = l.id)"
    );
    assert_eq!(s.count(&sql).await, 1);
    // `leads show` tells who a lead is and where they came from.
    let (_, shown, _) = crate::common::setter_in(
        s.env.dir.path(),
        &[
            "leads",
            "show",
            &s.text("SELECT id FROM leads WHERE source LIKE 'click-to-WhatsApp%'")
                .await,
        ],
    );
    assert!(shown.contains("name     Test Name"), "{shown}");
    assert!(
        shown.contains("source   click-to-WhatsApp ad ADID (ad or post): AD_TITLE"),
        "{shown}"
    );
    // The click-to-WhatsApp ad is the lead's source; the profile name is kept.
    assert_eq!(
        s.count("SELECT COUNT(*) FROM leads WHERE source LIKE 'click-to-WhatsApp ad%' AND name = 'Test Name'").await,
        1
    );
}

#[tokio::test]
async fn a_batch_across_leads_answers_each_lead_in_order() {
    let s = Serve::start(|_| {}).await;
    let batch = fixture("whatsapp_batch_multi.json", "batch");
    assert_eq!(s.webhook(&batch).await.status(), 200);
    // Three messages from one lead (text, reply, image) and one status.
    assert_eq!(
        s.count("SELECT COUNT(*) FROM messages WHERE direction = 'in'")
            .await,
        3
    );
    assert_eq!(s.count("SELECT COUNT(*) FROM statuses").await, 1);
    s.eventually("the lead is answered", async |s| s.graph.calls().len() == 1)
        .await;
    // One turn read all three messages.
    assert_eq!(s.count("SELECT COUNT(*) FROM turns").await, 1);
}

#[tokio::test]
async fn a_burst_within_the_debounce_is_one_turn() {
    let s = Serve::start(|c| c.serve.debounce_ms = 400).await;
    for i in 0..3 {
        let mut m = fixture("whatsapp_text.json", &format!("burst{i}"));
        m["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] =
            json!(format!("part {i}"));
        assert_eq!(s.webhook(&m).await.status(), 200);
    }
    s.eventually("one reply", async |s| s.graph.calls().len() == 1)
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    assert_eq!(s.graph.calls().len(), 1);
    assert_eq!(s.count("SELECT COUNT(*) FROM turns").await, 1);
    // The extraction read all three parts.
    let extraction = s.stub.requests()[0]["messages"][1]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        extraction.contains("part 0\npart 1\npart 2"),
        "{extraction}"
    );
}

/// A message that lands while the model is answering the previous one: the
/// stale reply is never sent; one reply answers both.
#[tokio::test]
async fn a_message_during_a_turn_supersedes_it() {
    let s = Serve::start(|_| {}).await;
    s.stub.script.lock().unwrap().delay_ms = 300;
    let first = fixture("whatsapp_text.json", "inflight1");
    assert_eq!(s.webhook(&first).await.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let mut second = fixture("whatsapp_text.json", "inflight2");
    second["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] =
        json!("and one more thing");
    assert_eq!(s.webhook(&second).await.status(), 200);
    s.eventually("a reply", async |s| !s.graph.calls().is_empty())
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert_eq!(s.graph.calls().len(), 1, "the stale reply was not sent");
    assert_eq!(s.count("SELECT COUNT(*) FROM turns").await, 1);
    let newest: i64 = s
        .count("SELECT MAX(id) FROM messages WHERE direction = 'in'")
        .await;
    assert_eq!(s.count("SELECT inbound_id FROM turns").await, newest);
}

#[tokio::test]
async fn the_web_chat_answers_in_the_rest_shape() {
    let s = Serve::start(|_| {}).await;
    s.stub.reply("Hi! What kind of business do you run?");
    let r = s
        .http
        .post(format!("{}/webchat/messages", s.url))
        .json(&json!({"sender": "visitor-1", "message": "Hi there!"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body[0]["recipient_id"], "visitor-1");
    assert!(body[0]["text"].as_str().unwrap().contains('?'), "{body}");
    // Web chat replies are returned, not sent through a Graph API.
    assert!(s.graph.calls().is_empty());
    let bad = s
        .http
        .post(format!("{}/webchat/messages", s.url))
        .json(&json!({"sender": "", "message": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    assert!(bad.text().await.unwrap().contains("sender"));
}

/// Concurrent webhooks are group-committed; each is stored once and acked
/// only after it is durable, and each lead's burst is answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_webhooks_are_all_stored_once() {
    let s = std::sync::Arc::new(Serve::start(|c| c.serve.debounce_ms = 200).await);
    let posts: Vec<_> = (0..100)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                let mut m = fixture("whatsapp_text.json", &format!("c{i}"));
                let value = &mut m["entry"][0]["changes"][0]["value"];
                value["messages"][0]["from"] = json!(format!("1555000{}", i % 10));
                value["contacts"][0]["wa_id"] = json!(format!("1555000{}", i % 10));
                s.webhook(&m).await.status()
            })
        })
        .collect();
    for p in posts {
        assert_eq!(p.await.unwrap(), 200);
    }
    assert_eq!(s.count("SELECT COUNT(*) FROM webhooks").await, 100);
    assert_eq!(
        s.count("SELECT COUNT(*) FROM messages WHERE direction = 'in'")
            .await,
        100
    );
    s.eventually("all ten leads answered", async |s| {
        s.count("SELECT COUNT(DISTINCT lead_id) FROM outbox WHERE state = 'sent'")
            .await
            == 10
    })
    .await;
}
