//! `POST /api/leads/{id}/outcome`: behind the bearer token; a sale closes
//! the lead; an unknown lead is 404, a bad outcome or value 422 naming the fix.

use crate::harness::{Serve, API_TOKEN};
use serde_json::{json, Value};
use setter::lead::{Channel, LeadOutcome, OutcomeSource, Stage};
use setter::store::NewLead;

#[tokio::test]
async fn the_api_records_outcomes_and_a_payment_closes_the_lead() {
    let s = Serve::start(|_| {}).await;
    let store = s.pipeline.agent().store().clone();
    let new = NewLead {
        channel: Channel::Whatsapp,
        external_id: "15550400".into(),
        name: None,
        source: None,
        account_id: None,
    };
    let lead = store.lead_for(&new, 0).await.unwrap();
    let post = |id: &str, token: &str, body: Value| {
        s.http
            .post(format!("{}/api/leads/{id}/outcome", s.url))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    let booked = json!({"outcome": "booked", "note": "call on Tuesday"});
    assert_eq!(
        post(&lead.id, "wrong", booked.clone())
            .await
            .unwrap()
            .status(),
        401
    );
    let r = post(&lead.id, API_TOKEN, booked).await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["recorded"]["stage"], "new");
    assert_eq!(body["recorded"]["stage_changed"], false);

    let r = post(
        &lead.id,
        API_TOKEN,
        json!({"outcome": "paid", "value": 1999.5}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["recorded"]["stage"], "closed");
    assert_eq!(body["outcome"], "paid");
    assert_eq!(
        store.lead_by_id(&lead.id).await.unwrap().stage,
        Stage::Closed
    );
    let outcomes = store.outcomes(&lead.id).await.unwrap();
    let kinds: Vec<LeadOutcome> = outcomes.iter().map(|o| o.outcome).collect();
    assert_eq!(kinds, [LeadOutcome::Booked, LeadOutcome::Paid]);
    assert!(outcomes.iter().all(|o| o.source == OutcomeSource::Api));
    assert_eq!(
        (outcomes[1].value, outcomes[1].currency.as_deref()),
        (Some(1999.5), Some("USD"))
    );
    assert_eq!(outcomes[0].note.as_deref(), Some("call on Tuesday"));

    // What to fix, said plainly.
    let r = post("no-such-lead", API_TOKEN, json!({"outcome": "won"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = post(&lead.id, API_TOKEN, json!({"outcome": "refunded"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["error"],
        "\"refunded\" is not an outcome; expected one of booked, showed, won, lost, paid"
    );
    let r = post(&lead.id, API_TOKEN, json!({"outcome": "won", "value": -1}))
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("≥ 0"), "{body}");
    let r = post(&lead.id, API_TOKEN, json!({"result": "won"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("\"outcome\": \"won\""),
        "{body}"
    );
    assert_eq!(
        store.outcomes(&lead.id).await.unwrap().len(),
        2,
        "nothing bad was stored"
    );
}
