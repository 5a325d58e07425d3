//! The `gridpatrol` binary: parses the command line, starts logging and hands
//! over to the library.

use clap::Parser;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = gridpatrol::cli::Cli::parse();
    match gridpatrol::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // one readable line: the error and its causes
            let mut chain: Vec<String> = e.chain().map(ToString::to_string).collect();
            // a cause that its error already quotes is said once
            chain.dedup_by(|cause, error| error.ends_with(cause.as_str()));
            eprintln!("error: {}", chain.join(": "));
            std::process::ExitCode::FAILURE
        }
    }
}
