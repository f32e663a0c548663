//! ForwardAuth: CARTA mode against the real kube-apiserver (Heimdall under the shipped RBAC),
//! session mode against Heimdall's own sessions and tokens. nginx in front of both runs in the
//! browser tests (`end2end/tests/forward-auth.test.mjs`).

mod bypass;
mod carta;
mod session;
pub(crate) mod support;
