//! The reply rules on the replies a 1.5B model really wrote (issue 22).

use super::*;
use crate::agent::plan::Action;
use crate::config::{Config, Framework};

struct Fixture {
    config: Config,
    config_text: ConfigText,
}

fn fixture() -> Fixture {
    let config = Config::example();
    let fw = Framework::resolve("pif", &[]).unwrap();
    let instructions = vec![
        "Briefly acknowledge what they just said, then ask what made them reach out.".to_string(),
    ];
    let config_text = ConfigText::new(&config, &fw, &instructions);
    Fixture {
        config,
        config_text,
    }
}

fn plan(action: Action, question: Option<&str>) -> Plan {
    Plan {
        action,
        slot: question.map(|_| "business".into()),
        question: None,
        question_text: question.map(str::to_string),
        budget_allowed: false,
        link: None,
        link_kind: None,
        reason: String::new(),
        directives: Directives::default(),
    }
}

/// Applies the rules to `text` as the model's unguarded reply.
fn run(f: &Fixture, plan: &Plan, text: &str, recent: &[&str], lang: Lang) -> Guarded {
    let recent: Vec<String> = recent.iter().map(|s| s.to_string()).collect();
    let input = Input {
        plan,
        lead_text: "we're a roofing company, about 8 guys",
        lead_said: "we're a roofing company, about 8 guys",
        recent: &recent,
        config_text: &f.config_text,
        fallback: "Thanks for sharing that! What does your business do?",
        lang,
        persona: &f.config.persona,
        offer: &f.config.offer,
    };
    let (cleaned, earlier) = clean(text, &input);
    let guarded = Guarded {
        text: cleaned,
        fired: None,
    };
    apply(guarded, earlier, &input)
}

const ASK: &str = "What does your business do?";

#[test]
fn an_opener_sent_before_is_cut_and_the_rest_kept() {
    let f = fixture();
    let p = plan(Action::Ask, Some(ASK));
    let recent = [
        "Great! I see what you're saying. What made you reach out today?",
        "Great! I see what you're saying. When would you want this in place?",
    ];
    let g = run(
        &f,
        &p,
        "Great! I see what you're saying. How many jobs do you run a week?",
        &recent,
        Lang::Eng,
    );
    assert_eq!(g.text, "How many jobs do you run a week?");
    assert_eq!(g.fired.as_deref(), Some("repeat_cut"));
}

#[test]
fn when_only_repeats_are_left_the_plan_s_wording_is_sent() {
    let f = fixture();
    let p = plan(Action::Ask, Some(ASK));
    let recent = ["Great! I see what you're saying."];
    let g = run(
        &f,
        &p,
        "Great! I see what you're saying.",
        &recent,
        Lang::Eng,
    );
    assert_eq!(
        g.text,
        "Thanks for sharing that! What does your business do?"
    );
    assert_eq!(g.fired.as_deref(), Some("repeat_cut,static_wording"));
    // The template itself was sent last time: its fresh part, the question.
    let recent = ["Thanks for sharing that! What made you reach out today?"];
    let g = run(&f, &p, "Thanks for sharing that!", &recent, Lang::Eng);
    assert_eq!(g.text, ASK);
    // The planned question may be asked again; it is never cut as a repeat.
    let recent = ["Got it. What does your business do?"];
    let g = run(
        &f,
        &p,
        "Makes sense. What does your business do?",
        &recent,
        Lang::Eng,
    );
    assert_eq!(g.text, "Makes sense. What does your business do?");
    assert_eq!(g.fired, None);
}

#[test]
fn the_tone_setting_never_reaches_the_lead() {
    let f = fixture();
    let p = plan(Action::Ask, Some(ASK));
    let g = run(
        &f,
        &p,
        "Thanks for reaching out, I'm providing a warm, brief, plain-spoken answer. What does your business do?",
        &[],
        Lang::Eng,
    );
    assert_eq!(g.text, ASK);
    assert_eq!(g.fired.as_deref(), Some("config_copy_cut"));
    // The instructions' word for the person: read aloud, so cut.
    let g = run(
        &f,
        &p,
        "I acknowledge that the lead is asking for a quick question. What does your business do?",
        &[],
        Lang::Eng,
    );
    assert_eq!(g.text, ASK);
}

#[test]
fn the_first_reply_never_speaks_as_the_lead() {
    let f = fixture();
    let p = plan(Action::Ask, Some("What made you reach out today?"));
    let g = run(
        &f,
        &p,
        "Hi! I saw your ad and wanted to know more about the program.",
        &[],
        Lang::Eng,
    );
    assert_eq!(
        g.text,
        "Thanks for sharing that! What does your business do?"
    );
    assert_eq!(g.fired.as_deref(), Some("lead_voice_cut,static_wording"));
}

#[test]
fn a_price_question_gets_the_configured_price() {
    let f = fixture();
    let mut p = plan(Action::Close, None);
    p.link = Some("https://pay.example.com/growthpilot".into());
    p.directives.answer_price = true;
    // The reply the issue saw: a link, no price.
    let g = run(
        &f,
        &p,
        "Sure, I'm ready! https://pay.example.com/growthpilot",
        &[],
        Lang::Eng,
    );
    assert_eq!(
        g.text,
        "Sure, I'm ready! It starts at 2000 USD. https://pay.example.com/growthpilot"
    );
    assert_eq!(g.fired.as_deref(), Some("price_added"));
    // Stated already (in any format): nothing added.
    let g = run(
        &f,
        &p,
        "It's $2,000 a month. https://pay.example.com/growthpilot",
        &[],
        Lang::Eng,
    );
    assert_eq!(g.fired, None);
    // An invented amount is cut, the real one said, in the lead's language.
    let mut ask = plan(Action::Ask, Some("¿A qué se dedica tu negocio?"));
    ask.directives.answer_price = true;
    let g = run(
        &f,
        &ask,
        "¡Claro! Cuesta solo 500 USD al mes. ¿A qué se dedica tu negocio?",
        &[],
        Lang::Spa,
    );
    assert_eq!(
        g.text,
        "¡Claro! El precio es desde 2000 USD. ¿A qué se dedica tu negocio?"
    );
    assert_eq!(g.fired.as_deref(), Some("wrong_price_cut,price_added"));
    // A link the plan did not give is cut (here the plan asks a question).
    let g = run(
        &f,
        &ask,
        "¡Claro! Paga aquí: https://pay.example.com/growthpilot. ¿A qué se dedica tu negocio?",
        &[],
        Lang::Spa,
    );
    assert_eq!(
        g.text,
        "¡Claro! El precio es desde 2000 USD. ¿A qué se dedica tu negocio?"
    );
    assert_eq!(g.fired.as_deref(), Some("unplanned_link_cut,price_added"));
}

#[test]
fn asked_if_it_is_a_bot_the_reply_says_it_is_an_assistant() {
    let f = fixture();
    let mut p = plan(Action::Ask, Some(ASK));
    p.directives.say_assistant = true;
    let said = run(
        &f,
        &p,
        "Yes, I'm Maya, an AI assistant. What does your business do?",
        &[],
        Lang::Eng,
    );
    assert_eq!(said.fired, None);
    for (lang, reply, expected) in [
        (
            Lang::Eng,
            "No, I'm a real person! What does your business do?",
            "I'm Maya, GrowthPilot's virtual assistant. What does your business do?",
        ),
        (
            Lang::Deu,
            "Was macht Ihr Unternehmen?",
            "Ich bin Maya, die virtuelle Assistentin von GrowthPilot. Was macht Ihr Unternehmen?",
        ),
        (
            Lang::Ita,
            "Di cosa si occupa la tua attività?",
            "Sono Maya, l'assistente virtuale di GrowthPilot. Di cosa si occupa la tua attività?",
        ),
    ] {
        let g = run(&f, &p, reply, &[], lang);
        assert_eq!(g.text, expected);
        let fired = g.fired.unwrap_or_default();
        assert!(fired.ends_with("assistant_added"), "{fired}");
        assert_eq!(
            fired.contains("bot_denial_cut"),
            reply.contains("real person")
        );
    }
}

#[test]
fn a_question_the_plan_wants_is_added_in_the_lead_s_language() {
    let f = fixture();
    let p = plan(
        Action::Ask,
        Some("When would you ideally want this in place?"),
    );
    let recent =
        ["Hallo! Danke für Ihre Nachricht. Was hat Sie dazu gebracht, uns heute zu schreiben?"];
    let g = run(
        &f,
        &p,
        "Hallo! Danke für Ihre Nachricht. Sie bekommen also viele Anfragen über Instagram.",
        &recent,
        Lang::Deu,
    );
    assert_eq!(
        g.text,
        "Sie bekommen also viele Anfragen über Instagram. Wann möchten Sie das idealerweise umgesetzt haben?"
    );
    assert_eq!(g.fired.as_deref(), Some("repeat_cut,question_added"));
}

#[test]
fn an_added_question_stays_under_the_length_cap() {
    let f = fixture();
    let p = plan(
        Action::Ask,
        Some("When would you ideally want this in place?"),
    );
    let g = run(
        &f,
        &p,
        "Ja, danke. Sie haben viele Anfragen. Wir helfen gern dabei.",
        &[],
        Lang::Deu,
    );
    assert_eq!(
        g.text,
        "Ja, danke. Sie haben viele Anfragen. Wann möchten Sie das idealerweise umgesetzt haben?"
    );
}

#[test]
fn a_nurture_never_sends_the_same_stand_in_twice_in_a_row() {
    let f = fixture();
    let p = plan(Action::Nurture, None);
    let fallback = "Thanks for sharing that, it helps me point you to the right thing.";
    let recent: Vec<String> = vec![fallback.into()];
    let input = Input {
        plan: &p,
        lead_text: "ok",
        lead_said: "ok",
        recent: &recent,
        config_text: &f.config_text,
        fallback,
        lang: Lang::Eng,
        persona: &f.config.persona,
        offer: &f.config.offer,
    };
    let g = apply(
        Guarded {
            text: fallback.into(),
            fired: None,
        },
        Vec::new(),
        &input,
    );
    assert_eq!(g.text, "Got it, thanks for telling me.");
    assert_eq!(g.fired.as_deref(), Some("repeat_cut,static_wording"));
}

#[test]
fn small_talk_is_no_question_when_one_is_planned() {
    let f = fixture();
    let p = plan(Action::Ask, Some(ASK));
    // What a 1.5B model's German reply came to once its repeated opener was cut.
    let g = run(&f, &p, "Wie geht es Ihnen?", &[], Lang::Deu);
    assert!(!g.text.contains("Wie geht es"), "{}", g.text);
    assert!(g.text.ends_with('?'), "{}", g.text);
    assert!(g.fired.as_deref().unwrap_or("").contains("small_talk_cut"));
    // A real question beside it stays.
    let g = run(
        &f,
        &p,
        "How are you? What does your roofing business do?",
        &[],
        Lang::Eng,
    );
    assert_eq!(g.text, "What does your roofing business do?");
    // Without a planned question, small talk is left alone.
    let close = plan(Action::Close, None);
    let g = run(
        &f,
        &close,
        "Great, here is the link. How are you today?",
        &[],
        Lang::Eng,
    );
    assert!(g.text.contains("How are you today?"), "{}", g.text);
}
