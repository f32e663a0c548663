//! Checks that the types alone cannot express.

use super::{Config, ConfigError};

impl Config {
    /// Every problem at once, each naming its key and value.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        let host = self.server.host;
        if !host.is_loopback() && !self.server.allow_external_bind {
            problems.push(format!(
                "server.host = {host}: binding beyond loopback needs server.allow_external_bind = true \
                 (HEIMDALL_SERVER__ALLOW_EXTERNAL_BIND=true)"
            ));
        }
        if self.database.max_connections == 0 {
            problems.push("database.max_connections = 0: expected at least 1".to_owned());
        }
        if self.database.acquire_timeout_secs == 0 {
            problems.push("database.acquire_timeout_secs = 0: expected at least 1 second".to_owned());
        }
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            problems.push(format!(
                "log.level = {:?}: expected a tracing filter such as \"info\" ({e})",
                self.log.level
            ));
        }
        if self.joblocator_k8s_operator.namespace_to_watch.trim().is_empty() {
            problems.push(
                "joblocator_k8s_operator.namespace_to_watch is empty: expected namespaces separated by commas, or *"
                    .to_owned(),
            );
        }
        if !(1..=600).contains(&self.proxy_timeout_secs) {
            problems.push(format!(
                "proxy_timeout_secs = {}: expected 1 to 600",
                self.proxy_timeout_secs
            ));
        }
        for (app, base) in &self.proxy_target_map {
            if !url::Url::parse(base).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host()) {
                problems.push(format!(
                    "proxy_target_map.{app} = {base:?}: expected an http:// or https:// URL"
                ));
            }
        }
        let admin = &self.bootstrap.admin_username;
        if admin.trim().is_empty() || admin.len() > 64 {
            problems.push(format!(
                "bootstrap.admin_username = {admin:?}: expected 1 to 64 characters"
            ));
        }
        self.validate_server(&mut problems);
        problems.extend(self.auth.problems());
        problems.extend(self.forward_auth.problems(self.server.allow_external_bind));
        problems.extend(
            self.vault
                .problems(self.auth.keycloak.issuer.is_some() && self.auth.keycloak.client_secret.is_some()),
        );
        problems.extend(self.pipelines.problems());
        problems.extend(self.server.cors.problems("server.cors"));
        problems.extend(self.catalog.problems());
        if let Some(token) = &self.metrics.token
            && secrecy::ExposeSecret::expose_secret(token).len() < 16
        {
            problems
                .push("metrics.token: at least 16 characters (it guards what every route is doing)".into());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::Invalid(problems))
        }
    }

    /// The server section's own checks.
    fn validate_server(&self, problems: &mut Vec<String>) {
        if let Err(entry) = app::request::TrustedProxies::parse(&self.server.trusted_proxies) {
            problems.push(format!(
                "server.trusted_proxies: {entry:?} is not a network: expected an address or a CIDR such as 10.0.0.0/8"
            ));
        }
        if let Some(value) = self.server.public_url.as_deref()
            && !matches!(url::Url::parse(value), Ok(u) if matches!(u.scheme(), "http" | "https"))
        {
            problems.push(format!("server.public_url = {value:?}: expected an http(s) URL"));
        }
    }

    /// The effective configuration as TOML, secrets redacted (`heimdall config check`).
    pub fn to_redacted_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot render the configuration: {e}\n"))
    }
}

#[cfg(test)]
#[allow(
    clippy::result_large_err,
    reason = "figment::Jail's closures return figment::Error"
)]
mod tests;
