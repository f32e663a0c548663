//! What a service's fields must be: a name with a Kubernetes slug, http(s) URLs, labels for
//! runtimes and environments, bounded free text.

use super::*;

/// A DNS label (Kubernetes names are built from it): lowercase letters, digits and `-`, not at
/// either end, at most `max` characters.
pub(super) fn is_label(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

pub(super) fn is_web_url(s: &str) -> bool {
    url::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

/// Checks every field of `input`; the first fault, by field.
/// A service's slug: the name itself when it is a DNS label, else the seed's `slugify` of it,
/// at most 63 characters.
pub fn slug_of(name: &str) -> String {
    if is_label(name, 63) {
        return name.to_owned();
    }
    let slug = seed_slug(name);
    let cut: String = slug.chars().take(63).collect();
    cut.trim_end_matches('-').to_owned()
}

pub(super) fn validate(input: &ServiceInput) -> Result<(), FieldError> {
    let short = |field: &'static str, value: &str, max: usize| {
        if value.trim().is_empty() || value.len() > max {
            Err(FieldError::new(field, format!("1 to {max} characters")))
        } else {
            Ok(())
        }
    };
    // Any name a person writes ("Payments API"): its slug names Kubernetes objects.
    if input.name.trim().is_empty() || input.name.chars().count() > 100 {
        return Err(FieldError::new("name", "1 to 100 characters"));
    }
    if input.name.chars().any(char::is_control) {
        return Err(FieldError::new("name", "no control characters"));
    }
    if !input.name.chars().any(|c| c.is_ascii_alphanumeric()) || !is_label(&slug_of(&input.name), 63) {
        return Err(FieldError::new(
            "name",
            "needs a letter or digit: its slug (lowercase letters, digits and '-') names Kubernetes objects",
        ));
    }
    if !is_web_url(&input.repo_url) {
        return Err(FieldError::new("repo_url", "an http(s) URL"));
    }
    short("owner_team", &input.owner_team, 100)?;
    if !is_label(&input.runtime, 32) {
        return Err(FieldError::new(
            "runtime",
            "a short lowercase word, e.g. go or python",
        ));
    }
    short("tier", &input.tier, 32)?;
    if input.environments.len() > 10 {
        return Err(FieldError::new("environments", "at most 10"));
    }
    for (i, env) in input.environments.iter().enumerate() {
        if !is_label(env, 20) {
            return Err(FieldError::new(
                "environments",
                format!("{env:?}: lowercase letters, digits and '-', at most 20"),
            ));
        }
        if input.environments[..i].contains(env) {
            return Err(FieldError::new("environments", format!("{env:?} twice")));
        }
    }
    short("tenant", &input.tenant, 100)?;
    if input.description.len() > 2000 {
        return Err(FieldError::new("description", "at most 2,000 characters"));
    }
    if input.links.len() > 20 {
        return Err(FieldError::new("links", "at most 20"));
    }
    for ServiceLink { title, url } in &input.links {
        if title.trim().is_empty() || title.len() > 100 || !is_web_url(url) {
            return Err(FieldError::new(
                "links",
                format!("{title:?}: a title and an http(s) URL"),
            ));
        }
    }
    if input.tags.len() > 20 || input.tags.iter().any(|t| t.trim().is_empty() || t.len() > 32) {
        return Err(FieldError::new("tags", "at most 20, each 1 to 32 characters"));
    }
    Ok(())
}

/// The seed's `slugify`: lower-case, runs of anything but letters and digits become one `-`,
/// none at the ends; `tenant` when nothing is left.
pub(crate) fn seed_slug(value: &str) -> String {
    let mut slug = String::new();
    for c in value.to_lowercase().chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            slug.push(c);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_matches('-');
    if slug.is_empty() {
        "tenant".to_owned()
    } else {
        slug.to_owned()
    }
}

#[cfg(test)]
mod seed_slug_tests {
    use super::seed_slug;

    #[test]
    fn names_become_the_seeds_slugs() {
        assert_eq!(seed_slug("Payments API"), "payments-api");
        assert_eq!(seed_slug("  --Team  42!! "), "team-42");
        assert_eq!(seed_slug("Ünïcode"), "n-code");
        assert_eq!(seed_slug("!!!"), "tenant");
    }
}
