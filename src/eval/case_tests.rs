use super::*;

#[test]
fn bad_lines_are_located_and_good_ones_kept() {
    let text = concat!(
        "{\"id\":\"a\",\"turns\":[{\"role\":\"lead\",\"text\":\"hi\"}],\"expect\":{\"tier\":\"hot\"}}\n",
        "\n",
        "{\"id\":\"b\", oops\n",
        "{\"id\":\"c\",\"expect\":{\"tier\":\"tepid\"}}\n",
        "{\"id\":\"a\"}\n",
    );
    let f = parse_cases("x.jsonl", text);
    assert_eq!(f.cases.len(), 1);
    assert_eq!(f.cases[0].1, "x.jsonl:1");
    assert_eq!(f.errors.len(), 3);
    assert_eq!(f.errors[0].location, "x.jsonl:3");
    assert_eq!(f.errors[0].id, "x.jsonl:3");
    assert_eq!(f.errors[1].id, "c");
    assert!(
        f.errors[1].message.contains("tepid"),
        "{}",
        f.errors[1].message
    );
    assert!(f.errors[2].message.contains("duplicate"));
}

#[test]
fn export_shape_parses_and_unknown_slots_are_named() {
    let line = r#"{"id":"l1","channel":"whatsapp","turns":[{"role":"lead","text":"hi","at":1},{"role":"setter","text":"hey","at":2}],
        "expect":{"slots":{"pain":"x","budgett":null},"fit":null,"intent":"low","tier":"cold","disqualified":false}}"#;
    let f = parse_cases("e.jsonl", &line.replace('\n', " "));
    assert!(f.errors.is_empty(), "{:?}", f.errors);
    let (case, loc) = &f.cases[0];
    assert_eq!(case.channel, Some(Channel::Whatsapp));
    let err = check_slots(case, &["pain".into(), "budget".into()], loc, "expect").unwrap_err();
    assert_eq!(
        err.message,
        "case \"l1\": unknown slot \"budgett\" in expect.slots (the framework's slots are pain, budget)"
    );
}

#[test]
fn times_that_go_backwards_or_clash_are_errors_naming_the_turn() {
    let text = concat!(
        "{\"id\":\"back\",\"turns\":[{\"role\":\"lead\",\"text\":\"a\",\"offset\":\"+2h\"},{\"role\":\"lead\",\"text\":\"b\",\"offset\":\"+1h\"}]}\n",
        "{\"id\":\"both\",\"turns\":[{\"role\":\"lead\",\"text\":\"a\",\"offset\":\"+2h\",\"at\":5}]}\n",
        "{\"id\":\"early\",\"until\":\"+1h\",\"turns\":[{\"role\":\"lead\",\"text\":\"a\",\"offset\":\"+2h\"}]}\n",
        "{\"id\":\"typo\",\"turns\":[{\"role\":\"lead\",\"text\":\"a\",\"offset\":\"2 hours\"}]}\n",
        "{\"id\":\"ok\",\"until\":\"+3d\",\"turns\":[{\"role\":\"lead\",\"text\":\"a\",\"offset\":\"+0s\"},{\"role\":\"lead\",\"text\":\"b\",\"offset\":\"+3s\"}],\"expect\":{\"followups\":[]}}\n",
    );
    let f = parse_cases("t.jsonl", text);
    let messages: Vec<&str> = f.errors.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(f.cases.len(), 1, "{messages:?}");
    assert!(
        messages[0].contains("turn 2's offset +1h is before"),
        "{}",
        messages[0]
    );
    assert!(messages[1].contains("turn 1 has both"), "{}", messages[1]);
    assert!(
        messages[2].contains("\"until\" +1h is before"),
        "{}",
        messages[2]
    );
    assert!(messages[3].contains("not an offset"), "{}", messages[3]);
}

#[test]
fn a_config_patch_is_merged_over_the_suite_and_checked() {
    let suite = crate::config::finish(
        crate::config::Config::example(),
        Path::new("setter.toml"),
        PathBuf::from("."),
    )
    .unwrap();
    let case: Case = serde_json::from_str(
        r#"{"id":"p","config":{"followups":{"timezone":"Asia/Tokyo","quiet_hours":""}}}"#,
    )
    .unwrap();
    let patched = case.config(&suite).unwrap();
    assert_eq!(patched.config.followups.timezone, "Asia/Tokyo");
    assert!(patched.config.followups.quiet().is_none());
    assert_eq!(
        patched.config.offer.name, suite.config.offer.name,
        "the rest is kept"
    );
    let bad: Case =
        serde_json::from_str(r#"{"id":"p","config":{"followups":{"quiet_hour":""}}}"#).unwrap();
    let err = bad.config(&suite).unwrap_err();
    assert!(err.contains("quiet_hour"), "{err}");
    let bad: Case =
        serde_json::from_str(r#"{"id":"p","config":{"followups":{"timezone":"Mars/Base"}}}"#)
            .unwrap();
    assert!(bad.config(&suite).unwrap_err().contains("Mars/Base"));
}
