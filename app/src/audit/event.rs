//! `AuditEvent`: one thing to record, built with the action and outcome, then who, what and
//! from where; user input is cut to size here.

use super::model::{AuditAction, Outcome};
use crate::request::RequestMeta;

/// Longest actor and target kept; longer ones are cut (they come from user input).
const MAX_NAME: usize = 200;
/// Longest detail kept.
const MAX_DETAIL: usize = 500;

/// One thing to record: built with the action and outcome, then who, what and from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub action: AuditAction,
    pub outcome: Outcome,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub target: String,
    pub ip: String,
    pub detail: String,
}

impl AuditEvent {
    /// An event by an anonymous actor with no target; add the rest with the builders.
    pub fn new(action: AuditAction, outcome: Outcome) -> Self {
        Self {
            action,
            outcome,
            actor_id: None,
            actor: "anonymous".into(),
            target: String::new(),
            ip: String::new(),
            detail: String::new(),
        }
    }

    pub fn success(action: AuditAction) -> Self {
        Self::new(action, Outcome::Success)
    }

    pub fn failure(action: AuditAction) -> Self {
        Self::new(action, Outcome::Failure)
    }

    pub fn denied(action: AuditAction) -> Self {
        Self::new(action, Outcome::Denied)
    }

    /// Who did it: a user id when there is a user row, and a name for the log.
    pub fn by(mut self, id: Option<i64>, name: &str) -> Self {
        self.actor_id = id;
        self.actor = name.chars().take(MAX_NAME).collect();
        self
    }

    /// What it was done to (a username, a path, a provider).
    pub fn target(mut self, target: &str) -> Self {
        self.target = target.chars().take(MAX_NAME).collect();
        self
    }

    pub fn detail(mut self, detail: &str) -> Self {
        self.detail = detail.chars().take(MAX_DETAIL).collect();
        self
    }

    /// Where the request came from.
    pub fn from(mut self, meta: &RequestMeta) -> Self {
        self.ip.clone_from(&meta.ip);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_user_input_is_cut_and_the_address_is_kept() {
        let meta = RequestMeta {
            ip: "10.1.2.3".into(),
            ..RequestMeta::default()
        };
        let event = AuditEvent::denied(AuditAction::LoginPassword)
            .by(None, &"x".repeat(1000))
            .target("ada")
            .detail(&"d".repeat(1000))
            .from(&meta);
        assert_eq!(event.actor.len(), MAX_NAME);
        assert_eq!(event.detail.len(), MAX_DETAIL);
        assert_eq!(event.ip, "10.1.2.3");
        assert_eq!(event.outcome, Outcome::Denied);
    }
}
