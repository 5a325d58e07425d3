//! `user`: adding users, issuing and revoking their tokens, listing them.

use super::redact;
use crate::auth::{Caller, Grant, Role};
use crate::service::users;
use crate::store::{self};
use anyhow::Context;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user and print their API token, once, alone on standard output.
    Add {
        name: String,
        /// `admin`, `town`, `grid_manager`, `officer` or `viewer`.
        #[arg(long)]
        role: Role,
        /// district, town:CODE, zone:CODE or grid:CODE (several allowed).
        #[arg(long, num_args = 1..)]
        scope: Vec<Grant>,
        /// Days until the token expires (0: never).
        #[arg(long, default_value_t = users::DEFAULT_EXPIRY_DAYS)]
        expires_days: u32,
        /// The name people read in lists, routes and exports (e.g. 夏卫国).
        #[arg(long = "name")]
        display_name: Option<String>,
    },
    /// Issue another token for a user and print it alone on standard output.
    Token {
        name: String,
        /// Days until the token expires (0: never).
        #[arg(long, default_value_t = users::DEFAULT_EXPIRY_DAYS)]
        expires_days: u32,
    },
    /// Revoke every token of a user.
    Revoke { name: String },
    /// List users, roles, scopes and live tokens.
    List,
}

/// Prints a new token alone on standard output, the one thing a script
/// reads from these commands.
#[expect(
    clippy::print_stdout,
    reason = "the token is shown once, on stdout, so that it can be piped"
)]
pub(super) fn print_token(token: &str) {
    println!("{token}");
}

pub(super) async fn user(url: &str, cmd: UserCommand) -> anyhow::Result<()> {
    let store = store::open(url)
        .await
        .with_context(|| format!("cannot open the database at {}", redact(url)))?;
    let actor = Caller::system(&format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    ));
    match cmd {
        UserCommand::Add {
            name,
            role,
            scope,
            expires_days,
            display_name,
        } => {
            let (user, token) =
                users::add_user(&store, &actor, &name, role, scope, expires_days).await?;
            if let Some(shown) = display_name {
                users::set_display_name(&store, &actor, &name, &shown).await?;
            }
            eprintln!(
                "created {} ({}, scope {}); its token follows and is not shown again",
                user.name, user.role, user.grants
            );
            print_token(&token);
        }
        UserCommand::Token { name, expires_days } => {
            let user = users::find_user(&store, &name).await?;
            let token = users::issue_token(&store, &actor, &user, expires_days).await?;
            eprintln!("new token for {name}; it is not shown again");
            print_token(&token);
        }
        UserCommand::Revoke { name } => {
            let n = users::revoke_user(&store, &actor, &name).await?;
            eprintln!("revoked {n} token(s) of {name}");
        }
        UserCommand::List => {
            for s in users::list_users(&store).await? {
                let expiry = match (s.active_tokens, s.expires_at) {
                    (0, _) => "no live token".to_owned(),
                    (_, None) => "never expires".to_owned(),
                    (_, Some(t)) => format!("until {}", t.format("%Y-%m-%d")),
                };
                // the display name last, so the columns before it stay as scripts read them
                let display = if s.user.display_name.is_empty() {
                    String::new()
                } else {
                    format!("\t{}", s.user.display_name)
                };
                eprintln!(
                    "{}\t{}\t{}\t{} live token(s), {expiry}{display}",
                    s.user.name, s.user.role, s.user.grants, s.active_tokens
                );
            }
        }
    }
    Ok(())
}
