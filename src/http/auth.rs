//! Tokens and roles: `Authorization: Bearer <token>`; only a SHA-256 of each secret is stored.
//!
//! Roles: `admin` (everything, including publishing over validation errors), `planner` (uploads
//! and publishes drafts touching only its streets), `intake` (submits cases). A planner token
//! with no streets may touch no street.

use super::AppState;
use super::error::ApiError;
use crate::store::Token;
use axum::http::{HeaderMap, header};
use rand::RngCore;

/// A role a token can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    /// Everything, including overrides.
    Admin,
    /// Drafts and publishing for its streets.
    Planner,
    /// Case intake.
    Intake,
}

impl Role {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Planner => "planner",
            Role::Intake => "intake",
        }
    }
}

/// The caller, once its token is verified.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The stored token.
    pub token: Token,
}

impl Caller {
    /// Whether the caller has `role` (admins have every role).
    pub fn has(&self, role: Role) -> bool {
        self.token.role == "admin" || self.token.role == role.as_str()
    }

    /// Whether the caller is an admin.
    pub fn is_admin(&self) -> bool {
        self.token.role == "admin"
    }

    /// Who, for the record.
    pub fn name(&self) -> String {
        format!("token:{} ({})", self.token.id, self.token.role)
    }

    /// Checks that the caller may act on every street in `streets`; 403 names those it may not.
    pub fn check_streets<'a>(
        &self,
        streets: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), ApiError> {
        if self.is_admin() {
            return Ok(());
        }
        let mut outside: Vec<&str> = streets
            .into_iter()
            .filter(|s| !self.token.streets.iter().any(|t| t == s))
            .collect();
        outside.sort_unstable();
        outside.dedup();
        if outside.is_empty() {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this token is scoped to street(s) {} and may not change street(s) {}",
                if self.token.streets.is_empty() {
                    "(none)".to_owned()
                } else {
                    self.token.streets.join(", ")
                },
                outside.join(", ")
            ))
            .with_extra(serde_json::json!({"streets": outside})))
        }
    }
}

/// Verifies the bearer token of a request and that it has `role`.
pub async fn require(
    state: &AppState,
    headers: &HeaderMap,
    role: Role,
) -> Result<Caller, ApiError> {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::unauthorized("this request needs `Authorization: Bearer <token>` (create one with `gridatlas token create`)"))?;
    let secret = bearer_secret(auth)
        .ok_or_else(|| ApiError::unauthorized("the Authorization header must be `Bearer <token>`"))?
        .to_owned();
    let store = state.store()?;
    let token = tokio::task::spawn_blocking(move || {
        let now = chrono::Utc::now();
        let token = store.token_by_secret(&secret)?;
        if let Some(t) = token.as_ref().filter(|t| !t.revoked && !t.expired(now)) {
            // At most a write a minute per token; a failure to record it refuses nothing.
            if t.last_used_at.is_none_or(|u| now - u > chrono::Duration::seconds(60)) {
                if let Err(e) = store.touch_token(t.id, now) {
                    tracing::warn!(error = %e, token = t.id, "could not record the token's last use");
                }
            }
        }
        Ok::<_, crate::store::StoreError>(token)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?
    .filter(|t| !t.revoked)
    .ok_or_else(|| ApiError::unauthorized("unknown or revoked token"))?;
    if token.expired(chrono::Utc::now()) {
        return Err(ApiError::unauthorized(format!(
            "token {} expired at {}; create a new one with `gridatlas token create`",
            token.id,
            token.expires_at.map(|e| e.to_rfc3339()).unwrap_or_default()
        )));
    }
    let caller = Caller { token };
    if caller.has(role) {
        Ok(caller)
    } else {
        Err(ApiError::forbidden(format!(
            "this needs a token with role {} (or admin); this token has role {}",
            role.as_str(),
            caller.token.role
        )))
    }
}

/// The secret of an `Authorization` value `Bearer <token>`: the scheme in any case (RFC 7235
/// §2.1), one or more spaces, a non-empty token.
fn bearer_secret(value: &str) -> Option<&str> {
    let (scheme, rest) = value.trim_start().split_once(' ')?;
    let secret = rest.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !secret.is_empty()).then_some(secret)
}

/// A new random secret: 32 bytes, hex.
pub fn new_secret() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

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
        /// Role.
        #[arg(long, value_enum)]
        role: Role,
        /// A street the token may act on (planners; repeat for several).
        #[arg(long = "street")]
        streets: Vec<String>,
        /// Days until the token stops working.
        #[arg(long, default_value_t = 90, conflicts_with = "no_expiry",
              value_parser = clap::value_parser!(u32).range(1..=3650))]
        expires_in_days: u32,
        /// A token that never expires (for a service account; rotate it by hand).
        #[arg(long)]
        no_expiry: bool,
        #[command(flatten)]
        db: crate::store::cli::DatabaseArgs,
    },
    /// List tokens (without secrets), with their expiry and last use.
    List {
        #[command(flatten)]
        db: crate::store::cli::DatabaseArgs,
    },
    /// Revoke a token.
    Revoke {
        /// Token id.
        id: i64,
        #[command(flatten)]
        db: crate::store::cli::DatabaseArgs,
    },
}

/// Runs `gridatlas token …`.
pub fn run(args: TokenArgs, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
    match args.command {
        TokenCommand::Create {
            role,
            streets,
            expires_in_days,
            no_expiry,
            db,
        } => {
            let store = db.open()?;
            let secret = new_secret();
            let expires_at = if no_expiry {
                None
            } else {
                Some(chrono::Utc::now() + chrono::Duration::days(i64::from(expires_in_days)))
            };
            let id = store.create_token_until(role.as_str(), &streets, &secret, expires_at)?;
            eprintln!(
                "token {id} ({}) created, {}; the secret is shown once:",
                role.as_str(),
                expires_at.map_or("never expires".to_owned(), |e| format!(
                    "expires {}",
                    e.to_rfc3339()
                ))
            );
            writeln!(out, "{secret}")?;
        }
        TokenCommand::List { db } => {
            let store = db.open()?;
            for t in store.list_tokens()? {
                writeln!(out, "{}", serde_json::to_string(&t)?)?;
            }
        }
        TokenCommand::Revoke { id, db } => {
            let store = db.open()?;
            store.revoke_token(id)?;
            writeln!(out, "revoked {id}")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::bearer_secret;

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        for v in [
            "Bearer abc",
            "bearer abc",
            "BEARER abc",
            "BeArEr   abc ",
            " Bearer abc",
        ] {
            assert_eq!(bearer_secret(v), Some("abc"), "{v:?}");
        }
        for v in [
            "Basic abc",
            "Bearer",
            "Bearer ",
            "Bearerabc",
            "",
            "Token abc",
        ] {
            assert_eq!(bearer_secret(v), None, "{v:?}");
        }
    }
}
