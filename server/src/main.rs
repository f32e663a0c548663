//! `heimdall`: parse the command line, load the configuration, run the command. Every failure
//! ends as one line on stderr and a non-zero exit, never a panic backtrace.

use std::process::ExitCode;

use clap::Parser;
use secrecy::ExposeSecret;

use heimdall::cli::{Cli, Command, ConfigCommand, VaultCommand};
use heimdall::config::Config;
use heimdall::startup::{Application, BootstrapAdmin, connect_database, rotate_vault};
use heimdall::{shutdown_signal, telemetry};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("heimdall: {e}");
            return ExitCode::from(2);
        }
    };
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Config {
        command: ConfigCommand::Check,
    } = command
    {
        #[allow(clippy::print_stdout, reason = "the command's output is the configuration")]
        {
            println!("# configuration is valid; effective values (secrets redacted):");
            print!("{}", config.to_redacted_toml());
        }
        return ExitCode::SUCCESS;
    }
    telemetry::init(&config.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("heimdall: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(command, &config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("heimdall: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: &Config) -> anyhow::Result<()> {
    match command {
        Command::Migrate => {
            connect_database(config).await?.close().await;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Vault {
            command: VaultCommand::Rotate,
        } => {
            let rotated = rotate_vault(config).await?;
            tracing::info!(rotated, "vault rotation done");
            Ok(())
        }
        Command::Serve | Command::Config { .. } => {
            let mut app = Application::build(config).await?;
            if let Some(admin) = app.bootstrap_admin.take() {
                announce_bootstrap_admin(&admin);
            }
            tracing::info!("listening on http://{}", app.local_addr()?);
            app.run_until_stopped(shutdown_signal()).await
        }
    }
}

/// The one place a secret is printed: the first admin's password, once, to the operator's
/// terminal. It goes to stderr directly, not through `tracing`, so it never reaches a log
/// shipper.
fn announce_bootstrap_admin(admin: &BootstrapAdmin) {
    eprintln!(
        "\n  First start: created the admin account. Its password is shown only this once:\n\n    \
         username: {}\n    password: {}\n",
        admin.username,
        admin.password.expose_secret()
    );
}
