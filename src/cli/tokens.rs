//! `gridatlas token create|list|revoke`: API tokens.

use super::db::DatabaseArgs;
use crate::service::access::{self, Role};
use std::io::Write;

/// Arguments of `gridatlas token`.
#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    command: TokenCommand,
}

#[derive(Debug, clap::Subcommand)]
enum TokenCommand {
    /// Create a token and print its secret (shown once; only a hash is stored).
    Create {
        /// Role: admin, planner, intake, dispatcher, department, grid_worker, supervisor or
        /// reviewer (a reviewer needs its one `--street` and `--subject`).
        #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(Role::ALL.map(Role::as_str)))]
        role: String,
        /// A street the token may act on (planners, dispatchers; repeat for several; `*`: every
        /// street of the district); a reviewer's own street.
        #[arg(long = "street")]
        streets: Vec<String>,
        /// A grid a grid worker works in (repeat for several).
        #[arg(long = "grid")]
        grids: Vec<String>,
        /// The department (or management unit) a department token acts for.
        #[arg(long)]
        department: Option<String>,
        /// The person holding the token, recorded on every case event it makes.
        #[arg(long)]
        subject: Option<String>,
        /// Days until the token stops working.
        #[arg(long, default_value_t = 90, conflicts_with = "no_expiry",
              value_parser = clap::value_parser!(u32).range(1..=3650))]
        expires_in_days: u32,
        /// A token that never expires (for a service account; rotate it by hand).
        #[arg(long)]
        no_expiry: bool,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// List tokens (without secrets), with their expiry and last use.
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Revoke a token.
    Revoke {
        /// Token id.
        id: i64,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

/// Runs `gridatlas token …`.
pub fn run(args: TokenArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    match args.command {
        TokenCommand::Create {
            role,
            streets,
            grids,
            department,
            subject,
            expires_in_days,
            no_expiry,
            db,
        } => {
            let expires_at = (!no_expiry)
                .then(|| chrono::Utc::now() + chrono::Duration::days(i64::from(expires_in_days)));
            let spec = crate::store::TokenSpec {
                role: role.clone(),
                streets,
                grids,
                department,
                subject,
                expires_at,
            };
            let t = access::create_token(db.open()?.as_ref(), &spec)?;
            eprintln!(
                "token {} ({}) created, {}; the secret is shown once:",
                t.id,
                role,
                t.expires_at.map_or("never expires".to_owned(), |e| format!(
                    "expires {}",
                    e.to_rfc3339()
                ))
            );
            writeln!(out, "{}", t.secret)?;
        }
        TokenCommand::List { db } => {
            for t in access::list_tokens(db.open()?.as_ref())? {
                writeln!(out, "{}", serde_json::to_string(&t)?)?;
            }
        }
        TokenCommand::Revoke { id, db } => {
            access::revoke_token(db.open()?.as_ref(), id)?;
            writeln!(out, "revoked {id}")?;
        }
    }
    Ok(())
}
