//! The ForwardAuth page (`/admin/forward-auth`, admins): how session mode and CARTA mode are set
//! up, and the CARTA sessions the watches know right now. Rendered only from the admin
//! section's lazy route, so it lives in that chunk.

use leptos::prelude::*;
use leptos_meta::Title;

use super::api::get_forward_auth_status;
use super::model::{CartaStatus, ForwardAuthStatus};
use crate::ui::{Badge, Button, ButtonKind, Card, DataTable, EmptyState, ErrorNotice, Loading, Tone};

#[component]
pub fn ForwardAuthPage() -> impl IntoView {
    let refresh = RwSignal::new(0u32);
    let status = Resource::new(move || refresh.get(), |_| get_forward_auth_status());
    view! {
        <Title text="ForwardAuth"/>
        <div class="space-y-6">
            <header class="flex flex-wrap items-end justify-between gap-4">
                <div>
                    <h1 class="text-2xl font-semibold tracking-tight">"ForwardAuth"</h1>
                    <p class="text-sm text-slate-500 dark:text-slate-400">
                        "What Heimdall answers a reverse proxy (nginx auth_request, Traefik forwardAuth) asking who may pass."
                    </p>
                </div>
                <Button kind=ButtonKind::Secondary test_id="forward-auth-refresh" on_click=move |_| refresh.update(|n| *n += 1)>
                    "Refresh"
                </Button>
            </header>
            <Transition fallback=|| view! { <Loading label="Loading ForwardAuth"/> }>
                {move || status.get().map(|r| match r {
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    Ok(status) => view! {
                        <div class="space-y-6">
                            <SessionModeCard status=status.clone()/>
                            <CartaCard carta=status.carta/>
                        </div>
                    }.into_any(),
                })}
            </Transition>
        </div>
    }
}

#[component]
fn SessionModeCard(status: ForwardAuthStatus) -> impl IntoView {
    let login = status.login_base.map_or_else(
        || "the address the proxy reached Heimdall at".to_owned(),
        |b| format!("{b}/login"),
    );
    let hosts = if status.return_hosts.is_empty() {
        "none (signed-in browsers land on Heimdall)".to_owned()
    } else {
        status.return_hosts.join(", ")
    };
    let rules = status.rules;
    view! {
        <Card title="Session mode">
            <dl class="grid grid-cols-1 gap-x-6 gap-y-1 text-sm sm:grid-cols-[max-content_1fr]">
                <dt class="text-slate-500 dark:text-slate-400">"Endpoint"</dt><dd class="font-mono">{status.session_path}</dd>
                <dt class="text-slate-500 dark:text-slate-400">"Signed-out browsers go to"</dt><dd>{login}</dd>
                <dt class="text-slate-500 dark:text-slate-400">"They may return to"</dt><dd data-testid="forward-auth-return-hosts">{hosts}</dd>
                <dt class="text-slate-500 dark:text-slate-400">"Answers reused for"</dt><dd>{format!("{} s", status.cache_secs)}</dd>
            </dl>
            <h3 class="mb-2 mt-4 text-sm font-medium">"Access rules (first match wins)"</h3>
            {if rules.is_empty() {
                view! { <EmptyState title="No rules" hint="Every signed-in user passes everywhere."/> }.into_any()
            } else {
                view! {
                    <DataTable headers=vec!["Host", "Path", "Least role", "Tenant"]>
                        {rules.into_iter().map(|rule| view! {
                            <tr data-testid="forward-auth-rule">
                                <td data-label="Host" class="px-3 py-2 font-mono text-xs">{rule.host.unwrap_or_else(|| "every host".into())}</td>
                                <td data-label="Path" class="px-3 py-2 font-mono text-xs">{rule.path_prefix}</td>
                                <td data-label="Least role" class="px-3 py-2">{rule.role.map_or("signed in", |r| r.as_str())}</td>
                                <td data-label="Tenant" class="px-3 py-2">{rule.tenant.unwrap_or_else(|| "any".into())}</td>
                            </tr>
                        }).collect_view()}
                    </DataTable>
                }.into_any()
            }}
        </Card>
    }
}

#[component]
fn CartaCard(carta: Option<CartaStatus>) -> impl IntoView {
    let Some(carta) = carta else {
        return view! {
            <Card title="CARTA mode">
                <EmptyState
                    title="Off"
                    hint="Set forward_auth.carta.enabled = true to answer the CARTA sidecar's questions from Kubernetes labels."
                />
            </Card>
        }
        .into_any();
    };
    let watches = carta.watches.map_or_else(
        || view! { <Badge tone=Tone::Warning>"no Kubernetes cluster configured"</Badge> }.into_any(),
        |watches| {
            watches
                .into_iter()
                .map(|w| {
                    let tone = match w.state.as_str() {
                        "ready" => Tone::Success,
                        "syncing" => Tone::Info,
                        _ => Tone::Danger,
                    };
                    let label = format!("{}: {}", w.kind, w.state);
                    view! {
                        <span class="mr-2" title=w.error.unwrap_or_default() data-testid="forward-auth-watch">
                            <Badge tone>{label}</Badge>
                        </span>
                    }
                })
                .collect_view()
                .into_any()
        },
    );
    let namespace = carta.namespace.clone();
    let sessions = carta.sessions;
    view! {
        <Card title="CARTA mode">
            <dl class="grid grid-cols-1 gap-x-6 gap-y-1 text-sm sm:grid-cols-[max-content_1fr]">
                <dt class="text-slate-500 dark:text-slate-400">"Endpoint"</dt><dd class="font-mono">{carta.path}</dd>
                <dt class="text-slate-500 dark:text-slate-400">"Namespace"</dt><dd class="font-mono">{carta.namespace}</dd>
                <dt class="text-slate-500 dark:text-slate-400">"Labels"</dt>
                <dd class="font-mono text-xs">{format!("{} → {}", carta.session_label, carta.user_label)}</dd>
                <dt class="text-slate-500 dark:text-slate-400">"Watches"</dt><dd>{watches}</dd>
            </dl>
            <h3 class="mb-2 mt-4 text-sm font-medium">"Live sessions"</h3>
            {if sessions.is_empty() {
                view! {
                    <EmptyState
                        title="No live sessions"
                        hint=format!("No Service or Pod in {namespace} carries the session label.")
                    />
                }.into_any()
            } else {
                view! {
                    <DataTable headers=vec!["Session", "User", "Held by"]>
                        {sessions.into_iter().map(|s| {
                            let user = s.user.clone();
                            view! {
                                <tr data-testid="carta-session">
                                    <td data-label="Session" class="px-3 py-2 font-mono text-xs">{s.session_hint}</td>
                                    <td data-label="User" class="px-3 py-2">
                                        {match user {
                                            Some(user) => view! { <span>{user}</span> }.into_any(),
                                            None => view! { <Badge tone=Tone::Warning>"no user label: refused"</Badge> }.into_any(),
                                        }}
                                    </td>
                                    <td data-label="Held by" class="px-3 py-2 text-xs">{format!("{} {}", s.holder, s.object)}</td>
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
