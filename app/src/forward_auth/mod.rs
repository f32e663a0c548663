//! ForwardAuth: a reverse proxy (Traefik `forwardAuth`, nginx `auth_request`) asks "may this
//! request through, and as whom?" and Heimdall answers from memory, in two modes:
//!
//! - **CARTA mode** (the CARTA sidecar's job): the session id in `Referer` / `X-Forwarded-Uri`,
//!   its user from the labels of the Service — else the Pod — carrying it.
//! - **Session mode** (what oauth2-proxy and Authelia do): a Heimdall session cookie or bearer
//!   token, checked against per-host and per-path access rules.
//!
//! Files: `carta.rs` the seed's session-id rule (pure, fuzzed); `directory.rs` the watched
//! session directory; `session.rs` original request, rules and login address (pure);
//! `service.rs` both decisions and the admin status; `model.rs`, `api.rs`, `pages.rs` the
//! admin page (`/admin/forward-auth`, in the admin section's chunk). No tables. The HTTP side is
//! `rest.rs`. See `docs/forward-auth.md`.

mod api;
mod model;
mod pages;

pub use api::*;
pub use model::*;
pub use pages::ForwardAuthPage;

// Server-only: one gate for everything that runs on the server.
ssr! {
    pub mod carta;
    mod directory;
    pub mod rest;
    mod service;
    pub mod session;
    mod settings;

    pub use directory::{CartaSettings, Holder, LookupUnavailable, SessionDirectory, SessionOwner};
    pub use service::{
        CartaDecision, ForwardAuthService, ForwardAuthSettings, SESSION_PATH, SessionDecision, Vouched,
    };
    pub use session::{AccessRule, OriginalRequest, ProxyKind, normalise_path};
    pub use settings::{AccessRuleConfig, CartaConfig, ForwardAuthConfig};
}
