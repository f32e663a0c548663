//! Identity over HTTP: sign-in, sessions, tokens, refusals and their audit entries (`auth`);
//! Google and Keycloak through Heimdall's routes against the real peers (`oauth`).

mod audit;
mod auth;
mod live;
mod oauth;
