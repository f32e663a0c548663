//! Who may sign in at all, by email (the Heimdall seed's rules, on every login path):
//! an email in `allowed_emails` is always allowed; otherwise, if `allowed_domains` is set, the
//! domain must match; otherwise, if only `allowed_emails` is set, the email is rejected. With
//! neither list set, everyone is allowed.

/// The configured allow-lists, lower-cased once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    emails: Vec<String>,
    domains: Vec<String>,
}

impl AllowList {
    pub fn new(emails: &[String], domains: &[String]) -> Self {
        let clean = |items: &[String]| {
            items
                .iter()
                .map(|s| s.trim().trim_start_matches('@').to_lowercase())
                .filter(|s| !s.is_empty())
                .collect()
        };
        Self {
            emails: clean(emails),
            domains: clean(domains),
        }
    }

    pub fn permits(&self, email: &str) -> bool {
        let email = email.trim().to_lowercase();
        if self.emails.contains(&email) {
            return true;
        }
        if !self.domains.is_empty() {
            return match email.rsplit_once('@') {
                Some((local, domain)) if !local.is_empty() => self.domains.iter().any(|d| d == domain),
                _ => false,
            };
        }
        self.emails.is_empty()
    }
}

/// The seed's password rule, with the minimum configurable.
pub fn check_password_length(password: &str, min_len: usize) -> Result<(), String> {
    if password.chars().count() < min_len {
        return Err(format!("Password should be at least {min_len} characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The thirteen cases of the Heimdall seed's `tests/test_users.py`, ported.
    use super::*;

    fn list(emails: &[&str], domains: &[&str]) -> AllowList {
        let own = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        AllowList::new(&own(emails), &own(domains))
    }

    #[test]
    fn no_restrictions_allow_any_email() {
        assert!(list(&[], &[]).permits("test@example.com"));
    }

    #[test]
    fn an_allowed_domain_is_accepted() {
        assert!(list(&[], &["example.com"]).permits("user@example.com"));
    }

    #[test]
    fn another_domain_is_rejected() {
        assert!(!list(&[], &["example.com"]).permits("user@other.com"));
    }

    #[test]
    fn an_allowed_email_is_accepted() {
        assert!(list(&["admin@company.com"], &[]).permits("admin@company.com"));
    }

    #[test]
    fn an_email_not_on_the_email_list_is_rejected() {
        assert!(!list(&["admin@company.com"], &[]).permits("user@company.com"));
    }

    #[test]
    fn a_listed_email_wins_over_the_domain_list() {
        assert!(list(&["special@anydomain.com"], &["example.com"]).permits("special@anydomain.com"));
    }

    #[test]
    fn the_domain_list_applies_when_the_email_is_not_listed() {
        assert!(list(&["admin@company.com"], &["example.com"]).permits("user@example.com"));
    }

    #[test]
    fn neither_list_matching_is_rejected() {
        assert!(!list(&["admin@company.com"], &["example.com"]).permits("user@other.com"));
    }

    #[test]
    fn a_malformed_email_is_rejected_when_domains_are_set() {
        assert!(!list(&[], &["example.com"]).permits("invalid-email"));
        assert!(!list(&[], &["example.com"]).permits("@example.com"));
    }

    #[test]
    fn an_empty_domain_list_with_emails_rejects_others() {
        assert!(!list(&["admin@company.com"], &[]).permits("user@example.com"));
    }

    #[test]
    fn an_empty_email_list_with_domains_rejects_other_domains() {
        assert!(!list(&[], &["example.com"]).permits("user@other.com"));
    }

    #[test]
    fn short_passwords_are_rejected_whatever_the_lists() {
        assert_eq!(
            check_password_length("short", 8),
            Err("Password should be at least 8 characters".to_owned())
        );
        assert!(check_password_length("testpassword123", 8).is_ok());
        assert!(check_password_length("sixsix", 6).is_ok());
    }

    #[test]
    fn registration_objects_follow_the_same_rules() {
        let domains = list(&[], &["example.com"]);
        assert!(domains.permits("user@example.com"));
        assert!(!domains.permits("user@other.com"));
        // Case and surrounding spaces do not matter.
        assert!(domains.permits(" User@EXAMPLE.com "));
        assert!(list(&["Admin@Company.com"], &[]).permits("admin@company.com"));
    }
}
