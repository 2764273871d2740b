//! `setter check` refuses config values that cannot be meant and warns
//! about what would only fail at the first turn.

mod common;

use common::{Env, Stub};

fn check(env: &Env, envs: &[(&str, &str)]) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_setter"))
        .arg("check")
        .current_dir(env.dir.path())
        .env_remove("SETTER_CONFIG")
        .envs(envs.iter().copied())
        .output()
        .unwrap();
    let code = out.status.code().unwrap_or(-1);
    (code, String::from_utf8_lossy(&out.stdout).into_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn check_refuses_values_that_cannot_be_meant() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |c| {
        c.persona.language = "klingon".into();
        c.scoring.next_actions.hot = String::new();
        c.icp.traits[1].weight = 1e9;
        c.offer.price = 1e308;
        c.prompts_dir = "my_prompts".into();
        c.icp.disqualifiers[1].check = Some(setter::config::DqCheck {
            question: " ".into(),
            disqualifying: "job".into(),
            otherwise: "Job".into(),
            min: 0.0,
            examples: vec![setter::config::CheckExample {
                text: "I just finished my degree".into(),
                answer: "maybe".into(),
            }],
        });
    });
    let (code, out) = check(&env, &[]);
    assert_eq!(code, 2, "{out}");
    for key in [
        "error: persona.language: language \"klingon\" is not supported",
        "error: scoring.next_actions.hot: must not be empty",
        "error: icp.traits[1].weight: must be at most 100",
        "error: offer.price: must be at most 1000000000",
        "error: prompts_dir: directory ",
        "error: icp.disqualifiers[1].check.question: must not be empty",
        "error: icp.disqualifiers[1].check.otherwise: must differ from `disqualifying`",
        "error: icp.disqualifiers[1].check.min: must be more than 0 and at most 1",
        "error: icp.disqualifiers[1].check.examples[0].answer: must be \"job\" or \"Job\", the check's two answers",
        "warning: icp.disqualifiers[1].check.examples: show both answers",
    ] {
        assert!(out.contains(key), "{key}\n{out}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn check_warns_on_an_empty_system_prompt_and_an_unset_key() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |c| {
        c.llm.base_url = "https://api.example.com/v1".into();
        c.llm.api_key_env = "SETTER_TEST_NO_SUCH_KEY".into();
    });
    let prompts = env.dir.path().join("prompts");
    std::fs::create_dir(&prompts).unwrap();
    std::fs::write(prompts.join("system.j2"), "\n").unwrap();
    let (code, out) = check(&env, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("system.j2: is empty: replies get no persona"),
        "{out}"
    );
    assert!(
        out.contains(
            "warning: llm.api_key_env: environment variable SETTER_TEST_NO_SUCH_KEY is not set"
        ),
        "{out}"
    );
    let (_, out) = check(&env, &[("SETTER_TEST_NO_SUCH_KEY", "sk-test")]);
    assert!(!out.contains("api_key_env"), "{out}");
}

/// `[channels.*]` and `[serve]` are validated key by key, and `check` says
/// which secrets `setter serve` would miss in this shell.
#[tokio::test(flavor = "multi_thread")]
async fn check_validates_the_serve_and_channel_settings() {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |c| {
        c.serve.addr = "localhost".into();
        c.serve.max_concurrent_turns = 0;
        c.channels.whatsapp = Some(setter::config::MetaChannel {
            account_id: "106540352242922".into(),
            access_token_env: "EAAGsecret-token".into(),
            app_secret_env: "SETTER_CHECK_TEST_UNSET_SECRET".into(),
            verify_token_env: "SETTER_CHECK_TEST_VERIFY".into(),
            graph_base_url: "graph.facebook.com".into(),
            api_version: "21".into(),
            app_id: String::new(),
            sends_per_second: 0.0,
            send_timeout_secs: 15,
            max_send_attempts: 5,
            retry_min_ms: 1000,
        });
    });
    let (code, out) = check(&env, &[("SETTER_CHECK_TEST_VERIFY", "x")]);
    assert_eq!(code, 2, "{out}");
    for line in [
        "error: serve.addr: must be an address like \"127.0.0.1:8080\"",
        "error: serve.max_concurrent_turns: must be at least 1",
        "error: channels.whatsapp.access_token_env: must be the NAME of an environment variable",
        "error: channels.whatsapp.graph_base_url: must start with https://",
        "error: channels.whatsapp.api_version: must look like \"v21.0\"",
        "error: channels.whatsapp.sends_per_second: must be a number > 0",
        "warning: channels.whatsapp.app_secret_env: environment variable SETTER_CHECK_TEST_UNSET_SECRET is not set",
    ] {
        assert!(out.contains(line), "{line}\n{out}");
    }
    assert!(!out.contains("verify_token_env"), "{out}");
}
