//! The OpenAPI description each domain keeps beside its routes (`DOC: &[Op]`); the server's
//! `api_doc.rs` combines the tables into `/openapi.json` and `/docs`.

/// How an operation authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// Nobody needs to be signed in.
    Public,
    /// A Heimdall session cookie, bearer JWT or API token (or the static admin token).
    Heimdall,
    /// A Keycloak access token (introspected), or Heimdall credentials of the owner.
    KeycloakOrHeimdall,
    /// `metrics.token` as a bearer token (the scraper's, not a person's).
    MetricsToken,
}

/// One query parameter.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub required: bool,
    pub description: &'static str,
}

/// One documented operation.
#[derive(Debug, Clone, Copy)]
pub struct Op {
    /// `GET`, `POST`, … or `ANY` (every method: ForwardAuth, the Flink proxy).
    pub method: &'static str,
    /// The router's path (`{name}` parameters; `{*rest}` for a catch-all).
    pub path: &'static str,
    pub summary: &'static str,
    pub auth: Auth,
    pub query: &'static [Param],
    /// An example JSON body, when the operation takes one.
    pub body: Option<&'static str>,
    /// Status → what it means.
    pub responses: &'static [(u16, &'static str)],
}

impl Op {
    pub const fn new(method: &'static str, path: &'static str, summary: &'static str, auth: Auth) -> Self {
        Self {
            method,
            path,
            summary,
            auth,
            query: &[],
            body: None,
            responses: &[],
        }
    }

    pub const fn query(mut self, query: &'static [Param]) -> Self {
        self.query = query;
        self
    }

    pub const fn body(mut self, example: &'static str) -> Self {
        self.body = Some(example);
        self
    }

    pub const fn responses(mut self, responses: &'static [(u16, &'static str)]) -> Self {
        self.responses = responses;
        self
    }
}

pub const fn param(name: &'static str, required: bool, description: &'static str) -> Param {
    Param {
        name,
        required,
        description,
    }
}
