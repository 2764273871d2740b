//! Human takeover: an echo of a message Setter did not send, or the API,
//! silences the bot for that lead; messages are still stored and scored.

use crate::harness::{fixture, Serve, API_TOKEN, APP_ID};
use serde_json::json;

fn echo(tag: &str, app_id: Option<&str>) -> serde_json::Value {
    let mut body = fixture("messenger_echo_text.json", tag);
    let item = &mut body["entry"][0]["messaging"][0];
    item["recipient"]["id"] = json!("psid-lead");
    match app_id {
        Some(app) => item["message"]["app_id"] = json!(app),
        None => {
            item["message"].as_object_mut().unwrap().remove("app_id");
        }
    }
    body
}

fn lead_message(tag: &str, text: &str) -> serde_json::Value {
    let mut body = fixture("messenger_text_quick_reply.json", tag);
    let item = &mut body["entry"][0]["messaging"][0];
    item["sender"]["id"] = json!("psid-lead");
    item["message"]["text"] = json!(text);
    item["message"]
        .as_object_mut()
        .unwrap()
        .remove("quick_reply");
    body
}

#[tokio::test]
async fn a_human_echo_silences_the_bot_until_resumed() {
    let s = Serve::start(|_| {}).await;
    // Setter's own echo (its app id) changes nothing.
    assert_eq!(s.webhook(&echo("own", Some(APP_ID))).await.status(), 200);
    assert_eq!(
        s.count("SELECT COUNT(*) FROM leads WHERE paused_until IS NOT NULL")
            .await,
        0
    );
    // A human writes from the Page inbox.
    assert_eq!(s.webhook(&echo("human", None)).await.status(), 200);
    assert_eq!(
        s.count("SELECT COUNT(*) FROM leads WHERE paused_until IS NOT NULL")
            .await,
        1
    );
    // The lead answers the human: stored and scored, never answered by the bot.
    assert_eq!(
        s.webhook(&lead_message("m1", "we run an agency, what's the price?"))
            .await
            .status(),
        200
    );
    s.eventually("the message is scored", async |s| {
        s.count("SELECT COUNT(*) FROM turns").await == 1
    })
    .await;
    assert_eq!(
        s.count("SELECT COUNT(*) FROM turns WHERE reply_id IS NULL")
            .await,
        1
    );
    assert_eq!(s.count("SELECT COUNT(*) FROM scores").await, 1);
    assert!(s.graph.calls().is_empty(), "the bot talked over a human");
    // The operator sees who is paused, and why.
    let (code, list, _) = crate::common::setter_in(s.env.dir.path(), &["leads", "list"]);
    assert_eq!(code, 0);
    assert!(
        list.lines()
            .any(|l| l.contains("messenger") && l.contains("paused")),
        "{list}"
    );
    // The operator hands the lead back; the next message is answered.
    let lead_id: String = s.text("SELECT id FROM leads").await;
    let resume = |token: &str| {
        s.http
            .post(format!("{}/api/leads/{lead_id}/resume", s.url))
            .bearer_auth(token)
            .send()
    };
    let (_, shown, _) = crate::common::setter_in(s.env.dir.path(), &["leads", "show", &lead_id]);
    assert!(shown.contains("bot      paused until"), "{shown}");
    assert!(
        shown.contains("a human replied from the business inbox"),
        "{shown}"
    );
    assert!(shown.contains("human   hello, world!"), "{shown}");
    assert_eq!(resume("wrong").await.unwrap().status(), 401);
    assert_eq!(resume(API_TOKEN).await.unwrap().status(), 200);
    assert_eq!(
        s.webhook(&lead_message("m2", "ok thanks")).await.status(),
        200
    );
    s.eventually("the bot answers again", async |s| {
        s.graph.calls().len() == 1
    })
    .await;
    assert_eq!(s.graph.calls()[0].body["messaging_type"], "RESPONSE");
}

#[tokio::test]
async fn the_api_takes_over_a_lead() {
    let s = Serve::start(|_| {}).await;
    // The Graph API is slow to accept, so a reply waits in the outbox.
    assert_eq!(s.webhook(&lead_message("a1", "hello")).await.status(), 200);
    s.eventually("answered", async |s| {
        s.count("SELECT COUNT(*) FROM outbox").await == 1
    })
    .await;
    let lead_id: String = s.text("SELECT id FROM leads").await;
    let r = s
        .http
        .post(format!("{}/api/leads/{lead_id}/takeover", s.url))
        .bearer_auth(API_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let missing = s
        .http
        .post(format!("{}/api/leads/nope/takeover", s.url))
        .bearer_auth(API_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(
        s.webhook(&lead_message("a2", "are you there?"))
            .await
            .status(),
        200
    );
    s.eventually("scored", async |s| {
        s.count("SELECT COUNT(*) FROM turns").await == 2
    })
    .await;
    let sent_after = s.count("SELECT COUNT(*) FROM outbox").await;
    assert_eq!(
        sent_after, 1,
        "no reply is queued while a human has the lead"
    );
}

/// Every `/api` route needs the bearer token, checked before the handler runs.
#[tokio::test]
async fn the_api_refuses_callers_without_the_token() {
    let s = Serve::start(|_| {}).await;
    for action in ["takeover", "resume", "handoff"] {
        let url = format!("{}/api/leads/some-lead/{action}", s.url);
        let anonymous = s.http.post(&url).send().await.unwrap();
        assert_eq!(anonymous.status(), 401, "{action}");
        let wrong = s.http.post(&url).bearer_auth("nope").send().await.unwrap();
        assert_eq!(wrong.status(), 401, "{action}");
        let known = s
            .http
            .post(&url)
            .bearer_auth(API_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(
            known.status(),
            404,
            "{action}: past the token, the lead is unknown"
        );
    }
}
