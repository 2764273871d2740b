//! Disqualifiers stated in words no keyword lists: each disqualifier's
//! check asks the model one question about a new lead's messages, and its
//! answer disqualifies the lead in code. The model here is the stub, which
//! reports no probabilities, so its answer counts in full.

mod common;

use common::{new_lead, say, with_checks, Env, Stub};
use serde_json::json;
use setter::lead::Tier;

/// The disqualifier checks among the requests the stub saw, as the
/// question each asked and the lead's words it asked about.
fn checks(stub: &Stub) -> Vec<(String, String)> {
    stub.requests()
        .iter()
        .filter(|r| r["response_format"]["json_schema"]["name"] == "dq_check")
        .map(|r| {
            let text = |i: usize| r["messages"][i]["content"].as_str().unwrap().to_string();
            (text(0), text(1))
        })
        .collect()
}

#[tokio::test]
async fn a_job_seeker_in_other_words_is_disqualified_by_the_check() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, with_checks);
    let agent = env.agent().await;
    let lead = new_lead(&agent, "+15550301").await;
    // In config order: physical products, job seeker, pre-launch.
    stub.check("service").check("job").check("running");
    let words = "Hola! Terminé la carrera de marketing y me encantaría formar parte de su equipo";
    let r = say(&agent, &lead, words, 0).await;
    let dq = r
        .assessment
        .disqualified
        .expect("disqualified by the check");
    assert_eq!(dq.id, "job_seeker");
    assert_eq!(dq.quote, words, "the evidence names the lead's message");
    assert_eq!(r.assessment.tier, Tier::Cold);
    let asked = checks(&stub);
    assert_eq!(asked.len(), 3, "one call per check: {asked:?}");
    assert!(
        asked[1].0.contains("a job for themselves"),
        "{}",
        asked[1].0
    );
    assert!(asked[1].0.contains(r#"Answer "job" or "business"."#));
    assert_eq!(asked[1].1, words);
    // Disqualified: later messages are not checked again.
    say(&agent, &lead, "Tengo experiencia en ventas", 60_000).await;
    assert_eq!(checks(&stub).len(), 3);
}

#[tokio::test]
async fn the_other_answer_leaves_the_lead_qualifying() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, with_checks);
    let agent = env.agent().await;
    let lead = new_lead(&agent, "+15550302").await;
    let r = say(&agent, &lead, "We run a cleaning company with 12 staff", 0).await;
    assert_eq!(r.assessment.disqualified, None);
    assert_eq!(checks(&stub).len(), 3);
}

#[tokio::test]
async fn checks_skip_greetings_keywords_and_leads_past_their_third_message() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, with_checks);
    let agent = env.agent().await;
    let lead = new_lead(&agent, "+15550303").await;
    say(&agent, &lead, "Hi! I saw your ad", 0).await;
    assert!(checks(&stub).is_empty(), "a greeting says nothing to check");
    // A keyword already shows pre-launch: nothing is left to check.
    let lead2 = new_lead(&agent, "+15550304").await;
    say(
        &agent,
        &lead2,
        "I run a small spa, we haven't launched yet",
        0,
    )
    .await;
    let asked = checks(&stub);
    assert_eq!(
        asked.len(),
        0,
        "a disqualified lead is not checked: {asked:?}"
    );
    // Messages 2 and 3 are checked; the 4th is not.
    say(&agent, &lead, "I own a roofing company", 60_000).await;
    say(&agent, &lead, "about 30 jobs a month", 120_000).await;
    let asked = checks(&stub);
    assert_eq!(asked.len(), 6);
    // A check reads all the lead's words so far: "about 30 jobs a month"
    // alone could be anyone's.
    assert!(
        asked[5].1.contains("I own a roofing company")
            && asked[5].1.ends_with("about 30 jobs a month"),
        "{:?}",
        asked[5]
    );
    say(&agent, &lead, "mostly from instagram", 180_000).await;
    assert_eq!(checks(&stub).len(), 6, "the fourth message is not checked");
}

#[tokio::test]
async fn a_disqualifier_the_model_quoted_is_judged_by_its_quote_not_checked() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, with_checks);
    let agent = env.agent().await;
    let lead = new_lead(&agent, "+15550305").await;
    let mut facts = common::null_instance(&json!({"properties": {
        "pain": {}, "business": {}, "desired_outcome": {}, "timeline": {}, "budget": {}}}));
    facts["disqualifiers"] = json!({"pre_launch": "opening the studio in March"});
    stub.extraction(facts);
    let r = say(&agent, &lead, "We are opening the studio in March", 0).await;
    let asked = checks(&stub);
    assert_eq!(asked.len(), 2, "{asked:?}");
    assert!(
        asked.iter().all(|(q, _)| !q.contains("launched")),
        "{asked:?}"
    );
    assert_eq!(
        r.assessment.disqualified.map(|d| d.id).as_deref(),
        Some("pre_launch")
    );
}
