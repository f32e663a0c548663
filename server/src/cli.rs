//! The command line: `heimdall serve | migrate | config check | vault rotate`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "heimdall",
    version,
    about = "Heimdall, the platform operations console"
)]
pub struct Cli {
    /// A TOML or YAML configuration file, layered between the defaults and HEIMDALL_* variables.
    #[arg(long, global = true, env = "HEIMDALL_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database and serve the console (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Configuration tools.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Token-vault tools.
    Vault {
        #[command(subcommand)]
        command: VaultCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum VaultCommand {
    /// Re-seal every stored token under `vault.active_key`; safe while servers run.
    Rotate,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate the configuration and print the effective values, secrets redacted.
    Check,
}
