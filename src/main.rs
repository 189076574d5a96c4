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
    hccc_sso::telemetry::init(config.log_format);
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
