//! Sending through the fake Graph API: success, retries, permanent errors,
//! statuses, and a restart between storing a reply and sending it.

use crate::harness::{fixture, graph_error, Serve, PHONE_ID};
use serde_json::json;

const LEAD: &str = "16505551234"; // `from` in whatsapp_text.json

async fn one_message(s: &Serve, tag: &str) {
    assert_eq!(
        s.webhook(&fixture("whatsapp_text.json", tag))
            .await
            .status(),
        200
    );
}

async fn outbox_state(s: &Serve) -> (String, Option<i64>) {
    let path = s.env.dir.path().join("setter.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let row: (String, Option<i64>) =
        sqlx::query_as("SELECT state, error_code FROM outbox ORDER BY id DESC LIMIT 1")
            .fetch_one(&pool)
            .await
            .unwrap();
    pool.close().await;
    row
}

async fn settled(s: &Serve) -> (String, Option<i64>) {
    s.eventually("the send settled", async |s| {
        s.count("SELECT COUNT(*) FROM outbox WHERE state IN ('sent', 'failed')")
            .await
            == 1
    })
    .await;
    outbox_state(s).await
}

#[tokio::test]
async fn a_reply_goes_to_the_lead_from_the_receiving_number() {
    let s = Serve::start(|_| {}).await;
    one_message(&s, "ok").await;
    assert_eq!(settled(&s).await, ("sent".into(), None));
    let calls = s.graph.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].path, format!("/v21.0/{PHONE_ID}/messages"));
    assert_eq!(calls[0].auth, "Bearer graph-token");
    assert_eq!(calls[0].body["messaging_product"], "whatsapp");
    assert_eq!(calls[0].body["to"], LEAD);
    assert!(calls[0].body["biz_opaque_callback_data"]
        .as_str()
        .unwrap()
        .starts_with("reply:"));
    // The platform id is on the bot's message: its statuses find the row.
    assert_eq!(
        s.count("SELECT COUNT(*) FROM outbox WHERE platform_id LIKE 'wamid.out.%'")
            .await,
        1
    );
}

#[tokio::test]
async fn throttling_is_retried_and_honours_retry_after() {
    let s = Serve::start(|_| {}).await;
    s.graph.script(vec![
        (429, graph_error(130429, "Rate limit hit"), Some(0)),
        (400, graph_error(131056, "pair rate limit"), None),
    ]);
    one_message(&s, "429").await;
    assert_eq!(settled(&s).await, ("sent".into(), None));
    assert_eq!(s.graph.calls().len(), 3);
}

#[tokio::test]
async fn permanent_errors_are_recorded_once_and_not_retried() {
    for (code, status) in [(131047, 400), (190, 401), (100, 400), (131026, 400)] {
        let s = Serve::start(|_| {}).await;
        s.graph
            .script(vec![(status, graph_error(code, "nope"), None)]);
        one_message(&s, &format!("perm{code}")).await;
        assert_eq!(settled(&s).await, ("failed".into(), Some(code)), "{code}");
        assert_eq!(s.graph.calls().len(), 1, "{code} was retried");
        let text = s
            .count(&format!(
                "SELECT COUNT(*) FROM outbox WHERE error_text = 'HTTP {status}: nope'"
            ))
            .await;
        assert_eq!(text, 1);
    }
}

#[tokio::test]
async fn server_errors_stop_after_max_attempts() {
    let s = Serve::start(|_| {}).await;
    s.graph.script(vec![(500, json!({}), None); 5]);
    one_message(&s, "500").await;
    assert_eq!(settled(&s).await, ("failed".into(), Some(500)));
    assert_eq!(s.graph.calls().len(), 3, "max_send_attempts = 3");
}

#[tokio::test]
async fn status_callbacks_move_the_row_forward_only() {
    let s = Serve::start(|_| {}).await;
    one_message(&s, "status").await;
    assert_eq!(settled(&s).await.0, "sent");
    let pid = s.text("SELECT platform_id FROM outbox").await;
    let status = |name: &str| {
        let mut body = fixture(&format!("whatsapp_status_{name}.json"), name);
        body["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = json!(pid);
        body
    };
    for name in ["read", "delivered", "read"] {
        assert_eq!(s.webhook(&status(name)).await.status(), 200);
    }
    assert_eq!(
        outbox_state(&s).await.0,
        "read",
        "delivered after read is ignored"
    );
    assert_eq!(
        s.count("SELECT COUNT(*) FROM statuses").await,
        2,
        "a repeated status is stored once"
    );
}

#[tokio::test]
async fn a_failed_status_records_the_window_error() {
    let s = Serve::start(|_| {}).await;
    one_message(&s, "fail131047").await;
    assert_eq!(settled(&s).await.0, "sent");
    let pid = s.text("SELECT platform_id FROM outbox").await;
    let mut body = fixture("whatsapp_status_failed_131047.json", "f");
    body["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] = json!(pid);
    assert_eq!(s.webhook(&body).await.status(), 200);
    assert_eq!(outbox_state(&s).await, ("failed".into(), Some(131047)));
}

/// The reply is committed while the Graph API is down; the server stops;
/// a new server sends it exactly once.
#[tokio::test]
async fn a_restart_between_storing_and_sending_sends_once() {
    let s = Serve::start(|_| {}).await;
    // Every attempt fails slowly enough for the stop to catch it mid-send.
    s.graph.script(vec![(503, json!({}), Some(30)); 1]);
    one_message(&s, "restart").await;
    s.eventually("the send started", async |s| s.graph.calls().len() == 1)
        .await;
    let (env, stub, graph) = s.stop().await;
    assert_eq!(graph.calls().len(), 1);
    let s = Serve::start_on(env, stub, graph).await;
    s.eventually("sent after restart", async |s| {
        s.count("SELECT COUNT(*) FROM outbox WHERE state = 'sent'")
            .await
            == 1
    })
    .await;
    assert_eq!(s.graph.calls().len(), 2);
    assert_eq!(
        s.count("SELECT COUNT(*) FROM turns").await,
        1,
        "not answered twice"
    );
}
