//! The Vault page (`/vault`, a lazy route: its own WASM chunk): a user's stored Keycloak tokens
//! and sessions, adding an offline token through Keycloak's consent, revoking with a
//! confirmation; admins pick any user.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::{LazyRoute, NavigateOptions, lazy_route};

use super::api::{EndKeycloakSession, RevokeVaultToken, StartVaultConsent, get_vault};
use super::model::VaultView;
use crate::ui::{
    Badge, Button, ButtonKind, Card, ConfirmDialog, DataTable, EmptyState, ErrorNotice, INPUT_CLASS, Loading,
    Tone,
};

pub struct VaultRoute;

#[lazy_route]
impl LazyRoute for VaultRoute {
    fn data() -> Self {
        Self
    }

    fn view(this: Self) -> AnyView {
        let _ = this;
        view! { <VaultPage/> }.into_any()
    }
}

/// What the open confirmation would do.
#[derive(Clone, PartialEq)]
enum Pending {
    Token(String),
    Session { id: String, offline: bool },
}

fn short(id: &str) -> String {
    id.chars().take(8).collect()
}

#[component]
pub fn VaultPage() -> impl IntoView {
    let query = use_query_map();
    let subject = move || query.with(|q| q.get("user")).filter(|s| !s.is_empty());
    let revoke = ServerAction::<RevokeVaultToken>::new();
    let end = ServerAction::<EndKeycloakSession>::new();
    let consent = ServerAction::<StartVaultConsent>::new();
    let view_data = Resource::new(
        move || (subject(), revoke.version().get(), end.version().get()),
        |(subject, _, _)| get_vault(subject),
    );
    // What the confirmation would do; `open` shows it (set together by the row's button).
    let pending = RwSignal::new(None::<Pending>);
    let open = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(url)) = consent.value().get() {
            let _ = window().location().assign(&url);
        }
    });
    let confirm = Callback::new(move |()| {
        let who = subject();
        match pending.get_untracked() {
            Some(Pending::Token(id)) => {
                revoke.dispatch(RevokeVaultToken { subject: who, id });
            }
            Some(Pending::Session { id, offline }) => {
                end.dispatch(EndKeycloakSession {
                    subject: who,
                    session_id: id,
                    offline,
                });
            }
            None => {}
        }
        pending.set(None);
    });
    let action_error = move || {
        [
            revoke.value().get().and_then(Result::err),
            end.value().get().and_then(Result::err),
            consent.value().get().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .next()
    };
    let notice = move || {
        query.with(|q| {
            q.get("stored")
                .map(|id| {
                    (
                        true,
                        format!(
                            "Offline token stored ({}…). It mints access tokens until you revoke it.",
                            short(&id)
                        ),
                    )
                })
                .or_else(|| {
                    q.get("error")
                        .map(|e| (false, format!("The offline token was not stored: {e}")))
                })
        })
    };
    view! {
        <Title text="Vault"/>
        <div class="space-y-6">
            <div>
                <h1 class="text-2xl font-semibold tracking-tight">"Token vault"</h1>
                <p class="text-sm text-slate-500 dark:text-slate-400">
                    "Keycloak offline and refresh tokens, sealed with AES-256-GCM. Services mint access tokens from them with "
                    <code>"POST /v1/access-token?id=…"</code> "."
                </p>
            </div>
            {move || notice().map(|(ok, text)| view! {
                <div
                    role="status"
                    data-testid="vault-notice"
                    class=if ok { "rounded-md bg-emerald-50 p-3 text-sm dark:bg-emerald-950" } else { "rounded-md bg-rose-50 p-3 text-sm dark:bg-rose-950" }
                >{text}</div>
            })}
            {move || action_error().map(|e| view! { <ErrorNotice error=e/> })}
            <Transition fallback=|| view! { <Loading label="Loading the vault"/> }>
                {move || view_data.get().map(|r| match r {
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    Ok(v) => view! { <VaultBody v=v subject=Signal::derive(subject) pending=pending open=open consent=consent/> }.into_any(),
                })}
            </Transition>
            <ConfirmDialog
                open=open
                title="Revoke?"
                message="Whatever mints access tokens from it stops working. Keycloak ends the offline session when no other stored token shares it."
                confirm_label="Revoke"
                on_confirm=confirm
            />
        </div>
    }
}

#[component]
fn VaultBody(
    v: VaultView,
    subject: Signal<Option<String>>,
    pending: RwSignal<Option<Pending>>,
    open: RwSignal<bool>,
    consent: ServerAction<StartVaultConsent>,
) -> impl IntoView {
    let ask = move |what: Pending| {
        pending.set(Some(what));
        open.set(true);
    };
    let navigate = use_navigate();
    let own = subject.get_untracked().is_none();
    let picker = v.is_admin.then(|| {
        let users = v.users.clone();
        let current = subject.get_untracked().unwrap_or_default();
        view! {
            <label class="block max-w-md text-sm">"User "
                <select
                    class=INPUT_CLASS
                    data-testid="vault-user"
                    on:change=move |ev| {
                        let value = event_target_value(&ev);
                        let to = if value.is_empty() { "/vault".to_owned() } else { format!("/vault?user={value}") };
                        navigate(&to, NavigateOptions::default());
                    }
                >
                    <option value="" selected=current.is_empty()>"myself"</option>
                    {users.into_iter().map(|u| {
                        let selected = u.subject == current;
                        let label = format!("{} ({} stored)", u.username.clone().unwrap_or_else(|| u.subject.clone()), u.tokens);
                        view! { <option value=u.subject selected=selected>{label}</option> }
                    }).collect_view()}
                </select>
            </label>
        }
    });
    // Off: the one cause, not a picker or a "sign in with Keycloak" that cannot help.
    if let Some(reason) = v.off_reason.clone() {
        return view! { <OffNotice reason=reason/> }.into_any();
    }
    let Some(who) = v.subject.clone() else {
        return view! {
            {picker}
            <EmptyState
                title="No Keycloak identity"
                hint="The vault keeps Keycloak tokens. Sign in with Keycloak once to link your account, then come back."
            />
        }
        .into_any();
    };
    let name = v
        .username
        .clone()
        .unwrap_or_else(|| format!("Keycloak user {who}"));
    let can_add = own;
    let tokens = v.tokens.clone();
    let sessions = v.sessions.clone();
    let sessions_error = v.sessions_error.clone();
    view! {
        {picker}
        <Card title=format!("Stored tokens of {name}")>
            <div class="mb-3 flex items-center justify-between gap-3">
                <p class="text-sm text-slate-500 dark:text-slate-400">"An offline token keeps working after you sign out; revoke it when nothing needs it."</p>
                {can_add.then(|| view! {
                    <Button kind=ButtonKind::Primary test_id="vault-add-offline" disabled=consent.pending()
                        on_click=move |_| { consent.dispatch(StartVaultConsent {}); }>
                        "Add an offline token"
                    </Button>
                })}
            </div>
            {if tokens.is_empty() {
                view! { <EmptyState title="No stored tokens" hint="Add an offline token, or store a refresh token with POST /v1/refresh-token."/> }.into_any()
            } else {
                view! {
                    <DataTable headers=vec!["Kind", "Id", "Keycloak session", "Key", "Created", "Last used", ""]>
                        {tokens.into_iter().map(|t| {
                            let id = t.id.clone();
                            view! {
                                <tr data-testid="vault-token-row">
                                    <td data-label="Kind" class="px-3 py-2"><Badge tone=if t.kind == "offline" { Tone::Info } else { Tone::Neutral }>{t.kind.clone()}</Badge></td>
                                    <td data-label="Id" class="px-3 py-2 font-mono text-xs" title=t.id.clone()>{short(&t.id)} "…"</td>
                                    <td data-label="Keycloak session" class="px-3 py-2 font-mono text-xs" title=t.session_state.clone()>{short(&t.session_state)}</td>
                                    <td data-label="Key" class="px-3 py-2 text-xs">{t.key_id}</td>
                                    <td data-label="Created" class="px-3 py-2">{crate::ui::time::minutes(t.created_at)}</td>
                                    <td data-label="Last used" class="px-3 py-2">{crate::ui::time::minutes_or(t.last_used_at, "never")}</td>
                                    <td class="px-3 py-2 text-right">
                                        <Button kind=ButtonKind::Ghost test_id="vault-token-revoke"
                                            on_click=move |_| ask(Pending::Token(id.clone()))>"Revoke"</Button>
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </DataTable>
                }.into_any()
            }}
        </Card>
        <Card title="Keycloak sessions">
            {sessions_error.map(|e| view! { <p class="mb-2 text-sm text-rose-600" role="alert">{format!("Keycloak could not list the sessions: {e}")}</p> })}
            {if sessions.is_empty() {
                view! { <EmptyState title="No Keycloak sessions" hint="Signing in to Keycloak or storing an offline token starts one."/> }.into_any()
            } else {
                view! {
                    <DataTable headers=vec!["Kind", "Id", "From", "Started", "Last access", "Clients", ""]>
                        {sessions.into_iter().map(|s| {
                            let (id, offline) = (s.id.clone(), s.offline);
                            view! {
                                <tr data-testid="vault-session-row">
                                    <td data-label="Kind" class="px-3 py-2">{if s.offline { "offline" } else { "online" }}</td>
                                    <td data-label="Id" class="px-3 py-2 font-mono text-xs" title=s.id.clone()>{short(&s.id)}</td>
                                    <td data-label="From" class="px-3 py-2 text-xs">{s.ip}</td>
                                    <td data-label="Started" class="px-3 py-2">{crate::ui::time::minutes_or(s.started, "")}</td>
                                    <td data-label="Last access" class="px-3 py-2">{crate::ui::time::minutes_or(s.last_access, "")}</td>
                                    <td data-label="Clients" class="px-3 py-2 text-xs">{s.clients.join(", ")}</td>
                                    <td class="px-3 py-2 text-right">
                                        <Button kind=ButtonKind::Ghost test_id="vault-session-end"
                                            on_click=move |_| ask(Pending::Session { id: id.clone(), offline })>"End"</Button>
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </DataTable>
                }.into_any()
            }}
        </Card>
    }
    .into_any()
}

#[component]
fn OffNotice(reason: String) -> impl IntoView {
    view! {
        <div role="status" data-testid="vault-off" class="rounded-md border border-amber-300 bg-amber-50 p-4 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100">
            <p class="font-medium">{format!("The token vault is off: {reason}.")}</p>
            <p class="mt-1">
                "It keeps Keycloak tokens, so it needs Keycloak ("<code>"auth.keycloak.*"</code>") and a key to seal them with ("
                <code>"vault.keys"</code>"). See docs/vault.md."
            </p>
        </div>
    }
}
