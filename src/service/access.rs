//! Access: roles, the verified caller and its street scope, and API tokens (create, list, revoke,
//! authenticate). Only a SHA-256 of each secret is stored (see [`crate::store::secret_hash`]).
//!
//! Roles: `admin` (everything, including publishing over validation errors), `planner` (uploads
//! and publishes drafts touching only its streets), `intake` (submits cases, reads them),
//! `dispatcher` (the district centre or a street sub-centre: accepts, opens, dispatches,
//! transfers, closes, voids and decides extensions for cases of its streets), `department` (a
//! named department or management unit: disposes of, returns and asks extensions for the cases
//! dispatched to it, and sees only those), `grid_worker` (verifies, checks and disposes of
//! front-end cases of its grids, reports patrol cases), `supervisor` (督办; reads everything;
//! draws quality reviews), `reviewer` (a person of one street who scores the sampled cases of
//! other streets assigned to them in a quality review, 质量考评).
//! A street-scoped token with no streets may touch no street; `*` is every street of the
//! district. A token may name its holder (`subject`), recorded on every case event it makes.

use super::error::{Error, Result};
use crate::store::{Store, Token, TokenSpec};
use chrono::{DateTime, Utc};
use rand::RngCore;

/// A role a token can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything, including overrides.
    Admin,
    /// Drafts and publishing for its streets.
    Planner,
    /// Case intake.
    Intake,
    /// Case dispatch for its streets.
    Dispatcher,
    /// A department or management unit disposing of cases dispatched to it.
    Department,
    /// A grid worker of its grids.
    GridWorker,
    /// The district's supervision (督办).
    Supervisor,
    /// A reviewer of the quality review (质量考评): one person (`subject`) of one street.
    Reviewer,
}

impl Role {
    /// Every role, in the order they are listed.
    pub const ALL: [Role; 8] = [
        Role::Admin,
        Role::Planner,
        Role::Intake,
        Role::Dispatcher,
        Role::Department,
        Role::GridWorker,
        Role::Supervisor,
        Role::Reviewer,
    ];

    /// The roles that read cases.
    pub const CASE_READERS: [Role; 5] = [
        Role::Intake,
        Role::Dispatcher,
        Role::Department,
        Role::GridWorker,
        Role::Supervisor,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Planner => "planner",
            Role::Intake => "intake",
            Role::Dispatcher => "dispatcher",
            Role::Department => "department",
            Role::GridWorker => "grid_worker",
            Role::Supervisor => "supervisor",
            Role::Reviewer => "reviewer",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "{s:?} is not a role ({})",
                    Role::ALL.map(Role::as_str).join(", ")
                )
            })
    }
}

/// Who is calling, once verified: a stored token, or the operator at the command line (who has
/// the database itself and so every right).
#[derive(Debug, Clone)]
pub struct Caller {
    /// The stored token; `None` for the operator.
    pub token: Option<Token>,
    /// The operator's name (`--by`), when there is no token.
    operator: Option<String>,
}

impl Caller {
    /// A caller holding `token`.
    pub fn with_token(token: Token) -> Caller {
        Caller {
            token: Some(token),
            operator: None,
        }
    }

    /// The operator at the command line, named `by`.
    pub fn operator(by: impl Into<String>) -> Caller {
        Caller {
            token: None,
            operator: Some(by.into()),
        }
    }

    /// The caller's role's name (`admin` for the operator).
    pub fn role(&self) -> &str {
        self.token.as_ref().map_or("admin", |t| t.role.as_str())
    }

    /// The person acting, for the record: the token's subject, else `by`, else the token.
    pub fn person(&self, by: Option<&str>) -> String {
        let named = self
            .token
            .as_ref()
            .and_then(|t| t.subject.as_deref())
            .or(by)
            .map(str::trim)
            .filter(|s| !s.is_empty());
        match named {
            Some(name) if self.token.is_some() => format!("{name} via {}", self.name()),
            Some(name) => name.to_owned(),
            None => self.name(),
        }
    }

    /// Whether the token's streets include `street` (`*`: every street; admins: everything).
    pub fn has_street(&self, street: Option<&str>) -> bool {
        match self.token.as_ref().filter(|_| !self.is_admin()) {
            None => true,
            Some(t) => t
                .streets
                .iter()
                .any(|s| s == "*" || Some(s.as_str()) == street),
        }
    }

    /// Whether the token's grids include `grid`.
    pub fn has_grid(&self, grid: Option<&str>) -> bool {
        match self.token.as_ref().filter(|_| !self.is_admin()) {
            None => true,
            Some(t) => grid.is_some_and(|g| t.grids.iter().any(|x| x == g)),
        }
    }

    /// Whether the token acts for `department`.
    pub fn is_department(&self, department: Option<&str>) -> bool {
        match self.token.as_ref().filter(|_| !self.is_admin()) {
            None => true,
            Some(t) => department.is_some() && t.department.as_deref() == department,
        }
    }

    /// Checks that the caller has one of `roles`; 403 naming them otherwise.
    pub fn require_any(&self, roles: &[Role]) -> Result<()> {
        if roles.iter().any(|r| self.has(*r)) {
            return Ok(());
        }
        Err(Error::forbidden(format!(
            "this needs a token with role {} (or admin); this token has role {}",
            roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(" or "),
            self.role()
        )))
    }

    /// Whether the caller has `role` (admins have every role).
    pub fn has(&self, role: Role) -> bool {
        self.is_admin() || self.role() == role.as_str()
    }

    /// What the caller's token is and may do (`GET /api/v1/tokens/self`); `None` for the operator.
    pub fn describe(&self) -> Option<crate::wire::meta::TokenSelf> {
        let t = self.token.as_ref()?;
        Some(crate::wire::meta::TokenSelf {
            id: t.id,
            role: t.role.clone(),
            streets: t.streets.clone(),
            grids: t.grids.clone(),
            department: t.department.clone(),
            subject: t.subject.clone(),
            expires_at: t.expires_at,
            may_publish_over_errors: self.is_admin(),
            may_publish: self.has(Role::Planner),
        })
    }

    /// Whether the caller is an admin (the operator is).
    pub fn is_admin(&self) -> bool {
        self.role() == "admin"
    }

    /// Who, for the record.
    pub fn name(&self) -> String {
        match (&self.token, &self.operator) {
            (Some(t), _) => format!("token:{} ({})", t.id, t.role),
            (None, Some(by)) => by.clone(),
            (None, None) => "operator".to_owned(),
        }
    }

    /// Checks that the caller may act on every street in `streets`; 403 names those it may not.
    pub fn check_streets<'a>(&self, streets: impl IntoIterator<Item = &'a str>) -> Result<()> {
        let Some(token) = self.token.as_ref().filter(|_| !self.is_admin()) else {
            return Ok(());
        };
        let mut outside: Vec<&str> = streets
            .into_iter()
            .filter(|s| !token.streets.iter().any(|t| t == s || t == "*"))
            .collect();
        outside.sort_unstable();
        outside.dedup();
        if outside.is_empty() {
            return Ok(());
        }
        Err(Error::forbidden(format!(
            "this token is scoped to street(s) {} and may not change street(s) {}",
            if token.streets.is_empty() {
                "(none)".to_owned()
            } else {
                token.streets.join(", ")
            },
            outside.join(", ")
        ))
        .with_extra(serde_json::json!({"streets": outside})))
    }

    /// Checks that the caller has `role`; 403 naming both roles otherwise.
    pub fn require(&self, role: Role) -> Result<()> {
        self.require_any(&[role])
    }
}

/// Token uses not written yet: [`authenticate`] notes a use here (when the stored last use is
/// more than a minute old) and [`TokenUses::flush`] writes them all in one transaction — so that
/// checking a token never waits on a write (on SQLite, a write waits for the one writer).
#[derive(Debug, Default)]
pub struct TokenUses {
    pending: std::sync::Mutex<std::collections::BTreeMap<i64, DateTime<Utc>>>,
}

impl TokenUses {
    /// Notes that token `id` was used at `at` (the latest use of each token is kept).
    fn note(&self, id: i64, at: DateTime<Utc>) {
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let e = pending.entry(id).or_insert(at);
        *e = (*e).max(at);
    }

    /// Uses noted and not written yet.
    pub fn pending(&self) -> usize {
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    /// Writes the uses noted since the last flush; on failure they are kept for the next one.
    pub fn flush(&self, store: &dyn Store) -> Result<usize> {
        let uses: Vec<(i64, DateTime<Utc>)> = std::mem::take(
            &mut *self
                .pending
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
        .into_iter()
        .collect();
        if let Err(e) = store.touch_tokens(&uses) {
            for (id, at) in uses {
                self.note(id, at);
            }
            return Err(Error::internal(e));
        }
        Ok(uses.len())
    }
}

/// Verifies `secret`: a known, unrevoked, unexpired token with one of `roles` (401 or 403
/// otherwise). Notes the token's use in `uses` when its stored last use is more than a minute
/// old (written by [`TokenUses::flush`]).
pub fn authenticate(
    store: &dyn Store,
    uses: &TokenUses,
    secret: &str,
    roles: &[Role],
) -> Result<Caller> {
    let now = Utc::now();
    let token = store
        .token_by_secret(secret)
        .map_err(Error::internal)?
        .filter(|t| !t.revoked)
        .ok_or_else(|| Error::unauthorized("unknown or revoked token"))?;
    if token.expired(now) {
        return Err(Error::unauthorized(format!(
            "token {} expired at {}; create a new one with `gridatlas token create`",
            token.id,
            token.expires_at.map(|e| e.to_rfc3339()).unwrap_or_default()
        )));
    }
    if token
        .last_used_at
        .is_none_or(|u| now - u > chrono::Duration::seconds(60))
    {
        uses.note(token.id, now);
    }
    let caller = Caller::with_token(token);
    caller.require_any(roles)?;
    Ok(caller)
}

/// A new random secret: 32 bytes, hex.
pub fn new_secret() -> String {
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A token just made: its id, expiry and the secret (shown once; only its hash is stored).
#[derive(Debug, Clone)]
pub struct NewToken {
    /// The token's id.
    pub id: i64,
    /// When it stops working (`None`: never).
    pub expires_at: Option<DateTime<Utc>>,
    /// The secret.
    pub secret: String,
}

/// Creates a token of `spec` (role, scope, holder, expiry); the scope must suit the role: a
/// `grid_worker` needs grids, a `department` its department, a `reviewer` its one street and
/// its holder (`subject`: the name it is assigned reviews under).
pub fn create_token(store: &dyn Store, spec: &TokenSpec) -> Result<NewToken> {
    let role: Role = spec
        .role
        .parse()
        .map_err(|e: String| Error::field("role", e))?;
    if role == Role::GridWorker && spec.grids.is_empty() {
        return Err(Error::field(
            "grids",
            "a grid_worker token needs the grids it works in (--grid CODE, once per grid)",
        ));
    }
    if role == Role::Department
        && spec
            .department
            .as_deref()
            .is_none_or(|d| d.trim().is_empty())
    {
        return Err(Error::field(
            "department",
            "a department token needs its department (--department)",
        ));
    }
    if role == Role::Reviewer {
        if spec.streets.len() != 1 || spec.streets[0] == "*" || spec.streets[0].trim().is_empty() {
            return Err(Error::field(
                "streets",
                "a reviewer token needs the one street its holder belongs to (--street)",
            ));
        }
        if spec.subject.as_deref().is_none_or(|s| s.trim().is_empty()) {
            return Err(Error::field(
                "subject",
                "a reviewer token needs its holder's name (--subject), under which reviews are assigned",
            ));
        }
    }
    if role != Role::Department && spec.department.is_some() {
        return Err(Error::field(
            "department",
            "only a department token names a department",
        ));
    }
    let secret = new_secret();
    let id = store.create_token_with(spec, &secret)?;
    let expires_at = spec.expires_at;
    Ok(NewToken {
        id,
        expires_at,
        secret,
    })
}

/// Every token, without secrets.
pub fn list_tokens(store: &dyn Store) -> Result<Vec<Token>> {
    Ok(store.list_tokens()?)
}

/// Revokes token `id`.
pub fn revoke_token(store: &dyn Store, id: i64) -> Result<()> {
    Ok(store.revoke_token(id)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(role: &str, streets: &[&str]) -> Caller {
        Caller::with_token(Token {
            id: 7,
            role: role.into(),
            streets: streets.iter().map(|s| (*s).to_owned()).collect(),
            created_at: Utc::now(),
            revoked: false,
            expires_at: None,
            last_used_at: None,
            grids: vec!["g1".into()],
            department: Some("城管".into()),
            subject: None,
        })
    }

    #[test]
    fn roles_parse_and_admins_have_every_role() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert!("root".parse::<Role>().is_err());
        let admin = token("admin", &[]);
        assert!(Role::ALL.iter().all(|r| admin.has(*r)));
        let intake = token("intake", &[]);
        assert!(intake.has(Role::Intake) && !intake.has(Role::Planner));
        assert!(intake.require(Role::Planner).is_err());
        assert!(Caller::operator("ops").is_admin());
        assert_eq!(Caller::operator("ops").name(), "ops");
        assert_eq!(intake.name(), "token:7 (intake)");
    }

    #[test]
    fn street_scope_names_the_streets_outside() {
        let planner = token("planner", &["a"]);
        assert!(planner.check_streets(["a"]).is_ok());
        let e = planner.check_streets(["b", "a", "b"]).unwrap_err();
        assert_eq!(e.kind, super::super::Kind::Forbidden);
        assert_eq!(e.extra, Some(serde_json::json!({"streets": ["b"]})));
        assert!(token("admin", &[]).check_streets(["z"]).is_ok());
        assert!(token("planner", &[]).check_streets(["a"]).is_err());
    }
}
