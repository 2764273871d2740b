//! The `setter` binary: parse the command line and hand over to `setter::cli`.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = setter::cli::Cli::parse();
    setter::cli::init_tracing(cli.verbose);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(setter::cli::run(cli)) {
        Ok(code) => code,
        Err(e) => setter::cli::fail(&e),
    }
}
