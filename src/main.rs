use clap::Parser;

use hccc_sso::cli::{self, Cli};
use hccc_sso::config::{Config, ProcessEnv};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // A missing .env is normal; a malformed one is worth saying.
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        eprintln!("error: .env: {e}");
        return std::process::ExitCode::from(2);
    }
    let args = Cli::parse();
    let (config, notes) = match Config::load(&ProcessEnv) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    // Only the server logs to standard output; commands keep it for their own output.
    let target = match args.command {
        None | Some(cli::Command::Serve) => hccc_sso::telemetry::LogTarget::Stdout,
        Some(_) => hccc_sso::telemetry::LogTarget::Stderr,
    };
    // Held to the end of main: dropping it writes the lines still buffered.
    let _log_writer = hccc_sso::telemetry::init_to(config.log_format, target);
    if let Some(path) = notes.generated_secret_at {
        tracing::warn!(
            path = %path.display(),
            "HCCC_SSO_SECRET_KEY is not set: generated one and saved it there. Back it up; set HCCC_SSO_SECRET_KEY in production"
        );
    }
    match cli::run(args, config).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "command failed");
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
