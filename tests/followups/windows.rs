//! Windows, templates, quiet hours and the minimum gap: when a due step may
//! go out, and what it becomes when it may not.

use super::*;

#[tokio::test]
async fn outside_the_whatsapp_window_a_step_becomes_the_approved_template() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |c| {
        c.followups.whatsapp.template = Some(setter::config::Template {
            name: "checking_in".into(),
            language: "en_US".into(),
            params: vec!["{lead_name}".into()],
        });
    });
    let agent = env.agent().await;
    let lead = new_lead(&agent, "15550106").await;
    say(&agent, &lead, "hello", T0).await;
    let s = scheduler(&agent);
    assert_eq!(
        s.tick(T0 + HOUR).await.unwrap().sent,
        1,
        "inside the window: text"
    );
    assert_eq!(
        s.tick(T0 + 25 * HOUR).await.unwrap().sent,
        1,
        "outside: the template"
    );
    let outbox = agent.store().outbox(&lead.id).await.unwrap();
    assert_eq!(outbox[1].payload, None);
    assert_eq!(
        outbox[2].payload,
        Some(serde_json::json!({"type": "template", "template": {
            "name": "checking_in", "language": {"code": "en_US"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "Test"}]}]}}))
    );
    assert_eq!(outbox[2].text, "[WhatsApp template checking_in]");
}

/// WhatsApp's 131047 beats Setter's clock: the rest of the ladder takes the
/// template path until the lead writes again.
#[tokio::test]
async fn a_131047_switches_the_lead_to_the_template_path() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |c| {
        c.followups.whatsapp.template = Some(setter::config::Template {
            name: "checking_in".into(),
            language: "en_US".into(),
            params: vec![],
        });
    });
    let agent = env.agent().await;
    let lead = new_lead(&agent, "15550107").await;
    say(&agent, &lead, "hello", T0).await;
    let store = agent.store();
    let wa = [Channel::Whatsapp];
    // (The reply was queued at the wall clock's now; claim it whenever.)
    let reply = store
        .claim_due(&wa, i64::MAX / 4, 60_000, 10)
        .await
        .unwrap();
    let failure = setter::store::SendFailure {
        code: Some(131047),
        text: "Re-engagement message".into(),
    };
    store
        .mark_failed(reply[0].id, &failure, T0 + MIN)
        .await
        .unwrap();
    assert_eq!(scheduler(&agent).tick(T0 + HOUR).await.unwrap().sent, 1);
    let outbox = store.outbox(&lead.id).await.unwrap();
    assert_eq!(
        outbox[1].text, "[WhatsApp template checking_in]",
        "inside 24 h by the clock, closed by WhatsApp"
    );
    // The lead writes again: the window is open, the next ladder is text.
    say(&agent, &lead, "sorry, I was away", T0 + 2 * HOUR).await;
    assert_eq!(scheduler(&agent).tick(T0 + 3 * HOUR).await.unwrap().sent, 1);
    let outbox = store.outbox(&lead.id).await.unwrap();
    assert_eq!(outbox.last().unwrap().payload, None);
}

fn utc(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .timestamp_millis()
}

/// A step that would land at night in the lead's zone waits for the morning,
/// or is skipped when the morning is past the platform's window.
#[tokio::test]
async fn quiet_hours_move_a_step_to_the_morning_in_the_leads_zone() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {}); // quiet_hours 21:00-08:00 by default
    let agent = env.agent().await;
    let s = scheduler(&agent);
    // A Spanish number: Madrid. The lead writes at 22:30 local (21:30 UTC).
    let madrid = new_lead(&agent, "34600111222").await;
    let t = utc("2026-01-15T21:30:00Z");
    say(&agent, &madrid, "hola", t).await;
    let report = s.tick(t + HOUR).await.unwrap();
    assert_eq!((report.sent, report.deferred), (0, 1));
    let jobs = agent.store().jobs(Some(&madrid.id)).await.unwrap();
    let first = jobs.iter().find(|j| j.step == 1).unwrap();
    assert_eq!(first.due_at, utc("2026-01-16T07:00:00Z"), "08:00 in Madrid");
    assert_eq!(s.tick(utc("2026-01-16T07:00:00Z")).await.unwrap().sent, 1);
    // Instagram (no number: [followups] timezone = UTC). The +23 h step falls
    // at 21:00; the morning is past the 24 h window, so it is skipped.
    let ig = lead_on(&agent, Channel::Instagram, "ig-quiet").await;
    let t = utc("2026-01-15T22:00:00Z");
    say(&agent, &ig, "hey", t).await;
    s.tick(t + 4 * HOUR).await.unwrap(); // 02:00: deferred to 08:00
    s.tick(utc("2026-01-16T08:00:00Z")).await.unwrap(); // the soft step goes
    let report = s.tick(t + 23 * HOUR).await.unwrap();
    assert_eq!(report.sent, 0);
    assert!(
        report.skipped.iter().any(|(_, _, why)| why
            .contains("quiet hours (21:00-08:00) in UTC last past the 24 h window")),
        "{:?}",
        report.skipped
    );
}

/// No two bot messages closer than `min_gap`: a step due sooner after the
/// bot's last message waits, and is skipped when waiting leaves the window.
#[tokio::test]
async fn a_step_waits_for_the_minimum_gap_after_the_bots_last_message() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |c| {
        c.followups.quiet_hours = String::new();
        c.followups.min_gap = std::time::Duration::from_secs(12 * 3600);
        c.followups.whatsapp.steps[1].after = std::time::Duration::from_secs(23 * 3600);
    });
    let agent = env.agent().await;
    let lead = new_lead(&agent, "15550108").await;
    say(&agent, &lead, "hello, we run a bakery", T0).await;
    let s = scheduler(&agent);
    // +1 h: the reply went out at T0, so the soft step waits until T0 + 12 h.
    let report = s.tick(T0 + HOUR).await.unwrap();
    assert_eq!((report.sent, report.deferred), (0, 1));
    let due: Vec<i64> = ladder(&agent, &lead).await.iter().map(|j| j.2).collect();
    assert_eq!(due, [12 * 60, 23 * 60]);
    assert_eq!(s.tick(T0 + 12 * HOUR).await.unwrap().sent, 1);
    // +23 h: 12 h after that follow-up is past the window's last safe minute.
    let report = s.tick(T0 + 23 * HOUR).await.unwrap();
    assert_eq!(report.sent, 0);
    assert_eq!(report.skipped[0].1, JobReason::MinGap, "{report:?}");
}
