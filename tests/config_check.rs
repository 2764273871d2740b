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
    });
    let (code, out) = check(&env, &[]);
    assert_eq!(code, 2, "{out}");
    for key in [
        "error: persona.language: language \"klingon\" is not supported",
        "error: scoring.next_actions.hot: must not be empty",
        "error: icp.traits[1].weight: must be at most 100",
        "error: offer.price: must be at most 1000000000",
        "error: prompts_dir: directory ",
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
