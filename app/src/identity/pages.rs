//! The login, registration and account pages, and the viewer resource the layout shares.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use leptos_router::{LazyRoute, lazy_route};

use super::api::{
    ChangeMyPassword, CreateMyToken, Login, LogoutEverywhere, RegisterAccount, RevokeMySession,
    RevokeMyToken, UpdateMyProfile, get_my_account, list_my_links, list_my_sessions, list_my_tokens,
};
use super::model::{NewApiToken, TokenScope, Viewer};
use crate::error::AppError;
use crate::ui::{
    Badge, Button, ButtonKind, Card, ConfirmDialog, DataTable, EmptyState, ErrorNotice, FormError,
    INPUT_CLASS, Loading, TextField, Tone, use_toasts,
};

/// Who is visiting, loaded by the layout and shared through context.
#[derive(Clone, Copy)]
pub struct ViewerResource(pub Resource<Result<Viewer, AppError>>);

/// The viewer, once loaded (`None` while loading or on error). Read it inside a
/// `<Transition>`, so server and browser render the same thing.
pub fn use_viewer() -> Signal<Option<Viewer>> {
    let ViewerResource(viewer) = expect_context();
    Signal::derive(move || viewer.get().and_then(Result::ok))
}

use crate::error::error_text;

/// `/login`, loaded on demand: signed-in people, who make most visits, never fetch it.
pub struct LoginRoute;

#[lazy_route]
impl LazyRoute for LoginRoute {
    fn data() -> Self {
        Self
    }

    fn view(this: Self) -> AnyView {
        let _ = this;
        view! { <LoginPage/> }.into_any()
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_else(|| "/".to_owned());
    let provider_error = move || query.read().get("error");
    let login = ServerAction::<Login>::new();
    let viewer = use_viewer();
    let provider_href = move |provider: &str| format!("/auth/{provider}/login?next={}", urlencode(&next()));
    view! {
        <Title text="Sign in"/>
        <div class="mx-auto mt-8 max-w-sm space-y-6">
            <div class="text-center">
                <h1 class="text-2xl font-semibold tracking-tight">"Sign in to Heimdall"</h1>
                <Transition fallback=|| ()>{move || viewer.get().and_then(|v| v.user).map(|u| view! {
                    <p class="mt-2 text-sm text-slate-500 dark:text-slate-400" data-testid="already-signed-in">
                        "You are signed in as " <strong>{u.username}</strong> ". " <a class="text-indigo-600 dark:text-indigo-400 hover:underline" href="/">"Go to the overview"</a>
                    </p>
                })}</Transition>
            </div>
            <FormError message=Signal::derive(provider_error)/>
            <Card title="">
                <ActionForm action=login attr:class="space-y-4" attr:data-testid="login-form">
                    <input type="hidden" name="next" value=next/>
                    <TextField label="Username or email" name="username" autocomplete="username" required=true autofocus=true/>
                    <TextField label="Password" name="password" input_type="password" autocomplete="current-password" required=true/>
                    <FormError message=Signal::derive(move || error_text(login.value().get()))/>
                    <Button kind=ButtonKind::Primary submit=true disabled=login.pending() test_id="login-submit">
                        {move || if login.pending().get() { "Signing in…" } else { "Sign in" }}
                    </Button>
                </ActionForm>
            </Card>
            <Transition fallback=|| ()>{move || viewer.get().map(|v| {
                let m = v.methods;
                view! {
                    <div class="space-y-2">
                        <Show when=move || m.google>
                            <a href=move || provider_href("google") rel="external" data-testid="login-google" class="flex w-full justify-center rounded-md bg-white px-3 py-2 text-sm font-medium ring-1 ring-slate-300 hover:bg-slate-50 dark:bg-slate-800 dark:ring-slate-600">
                                "Sign in with Google"
                            </a>
                        </Show>
                        <Show when=move || m.keycloak>
                            <a href=move || provider_href("keycloak") rel="external" data-testid="login-keycloak" class="flex w-full justify-center rounded-md bg-white px-3 py-2 text-sm font-medium ring-1 ring-slate-300 hover:bg-slate-50 dark:bg-slate-800 dark:ring-slate-600">
                                "Sign in with Keycloak"
                            </a>
                        </Show>
                        <Show when=move || m.registration>
                            <p class="text-center text-sm">"No account? " <a href="/register" class="text-indigo-600 dark:text-indigo-400 hover:underline">"Register"</a></p>
                        </Show>
                    </div>
                }
            })}</Transition>
        </div>
    }
}

/// Percent-encodes a `next` path for a query string.
fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `/register`, loaded on demand (its own WASM chunk).
pub struct RegisterRoute;

#[lazy_route]
impl LazyRoute for RegisterRoute {
    fn data() -> Self {
        Self
    }

    fn view(this: Self) -> AnyView {
        let _ = this;
        view! { <RegisterPage/> }.into_any()
    }
}

/// `/account`, loaded on demand (its own WASM chunk).
pub struct AccountRoute;

#[lazy_route]
impl LazyRoute for AccountRoute {
    fn data() -> Self {
        Self
    }

    fn view(this: Self) -> AnyView {
        let _ = this;
        view! { <AccountPage/> }.into_any()
    }
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    let register = ServerAction::<RegisterAccount>::new();
    view! {
        <Title text="Register"/>
        <div class="mx-auto mt-8 max-w-sm space-y-6">
            <h1 class="text-center text-2xl font-semibold tracking-tight">"Create an account"</h1>
            <Card title="">
                <ActionForm action=register attr:class="space-y-4">
                    <TextField label="Email" name="email" input_type="email" autocomplete="email" required=true autofocus=true/>
                    <TextField label="Password (at least 8 characters)" name="password" input_type="password" autocomplete="new-password" required=true/>
                    <FormError message=Signal::derive(move || error_text(register.value().get()))/>
                    <Button kind=ButtonKind::Primary submit=true disabled=register.pending()>"Register"</Button>
                </ActionForm>
            </Card>
            <p class="text-center text-sm"><a href="/login" class="text-indigo-600 dark:text-indigo-400 hover:underline">"Back to sign in"</a></p>
        </div>
    }
}

#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <Title text="Account"/>
        <div class="space-y-6">
            <h1 class="text-2xl font-semibold tracking-tight">"Your account"</h1>
            <div class="grid gap-6 lg:grid-cols-2">
                <ProfileCard/>
                <PasswordCard/>
            </div>
            <SessionsCard/>
            <TokensCard/>
        </div>
    }
}

#[component]
fn ProfileCard() -> impl IntoView {
    let update = ServerAction::<UpdateMyProfile>::new();
    let account = Resource::new(move || update.version().get(), |_| get_my_account());
    let links = Resource::new(|| (), |()| list_my_links());
    let viewer = use_viewer();
    view! {
        <Card title="Profile">
            <Transition fallback=|| view! { <Loading label="Loading profile"/> }>
                {move || account.get().map(|r| match r {
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    Ok(u) => view! {
                        <dl class="grid grid-cols-3 gap-2 text-sm">
                            <dt class="text-slate-500 dark:text-slate-400">"Username"</dt><dd class="col-span-2" data-testid="account-username">{u.username.clone()}</dd>
                            <dt class="text-slate-500 dark:text-slate-400">"Email"</dt><dd class="col-span-2">{u.email.clone().unwrap_or_else(|| "—".into())}</dd>
                            <dt class="text-slate-500 dark:text-slate-400">"Role"</dt><dd class="col-span-2" data-testid="account-role">{u.role.to_string()}</dd>
                            <dt class="text-slate-500 dark:text-slate-400">"Tenants"</dt>
                            <dd class="col-span-2">{if u.tenants.is_empty() { "none".to_owned() } else { u.tenants.iter().map(|t| t.slug.clone()).collect::<Vec<_>>().join(", ") }}</dd>
                            <dt class="text-slate-500 dark:text-slate-400">"Linked providers"</dt>
                            <dd class="col-span-2">
                                <Transition fallback=|| "…">
                                    {move || links.get().map(|r| match r {
                                        Ok(l) if l.is_empty() => "none".to_owned(),
                                        Ok(l) => l.into_iter().map(|l| format!("{} ({})", l.provider, l.email.unwrap_or_default())).collect::<Vec<_>>().join(", "),
                                        Err(e) => e.for_people(),
                                    })}
                                    // Linking proves you hold both: you are signed in here, and
                                    // you sign in at the provider now (docs/identity.md).
                                    {move || {
                                        let linked: Vec<String> = links.get().and_then(Result::ok).unwrap_or_default().into_iter().map(|l| l.provider).collect();
                                        let methods = viewer.get().map(|v| v.methods).unwrap_or_default();
                                        [("google", "Google", methods.google), ("keycloak", "Keycloak", methods.keycloak)]
                                            .into_iter()
                                            .filter(|(id, _, on)| *on && !linked.iter().any(|l| l == id))
                                            .map(|(id, label, _)| view! {
                                                <a class="ml-3 text-indigo-600 dark:text-indigo-400 underline" rel="external" data-testid=format!("link-{id}") href=format!("/auth/{id}/link")>{format!("Link {label}")}</a>
                                            })
                                            .collect_view()
                                    }}
                                </Transition>
                            </dd>
                        </dl>
                        <ActionForm action=update attr:class="mt-4 flex items-end gap-2">
                            <div class="flex-1"><TextField label="Display name" name="display_name" value=u.display_name/></div>
                            <Button submit=true disabled=update.pending()>"Save"</Button>
                        </ActionForm>
                        <FormError message=Signal::derive(move || error_text(update.value().get()))/>
                    }.into_any(),
                })}
            </Transition>
        </Card>
    }
}

#[component]
fn PasswordCard() -> impl IntoView {
    let change = ServerAction::<ChangeMyPassword>::new();
    let toasts = use_toasts();
    Effect::new(move |_| {
        if let Some(Ok(())) = change.value().get() {
            toasts.success("Password changed");
        }
    });
    view! {
        <Card title="Password">
            <ActionForm action=change attr:class="space-y-3">
                <TextField label="Current password" name="current_password" input_type="password" autocomplete="current-password"/>
                <TextField label="New password" name="new_password" input_type="password" autocomplete="new-password" required=true/>
                <FormError message=Signal::derive(move || error_text(change.value().get()))/>
                <Button submit=true disabled=change.pending()>"Change password"</Button>
            </ActionForm>
        </Card>
    }
}

#[component]
fn SessionsCard() -> impl IntoView {
    let revoke = ServerAction::<RevokeMySession>::new();
    let everywhere = ServerAction::<LogoutEverywhere>::new();
    let sessions = Resource::new(move || revoke.version().get(), |_| list_my_sessions());
    let confirm = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(_)) = everywhere.value().get() {
            let _ = window().location().assign("/login");
        }
    });
    view! {
        <Card title="Active sessions">
            <Transition fallback=|| view! { <Loading label="Loading sessions"/> }>
                {move || sessions.get().map(|r| match r {
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    Ok(list) => view! {
                        <DataTable headers=vec!["Kind", "Method", "From", "Last seen", "Expires", ""]>
                            {list.into_iter().map(|s| {
                                let id = s.id;
                                view! {
                                    <tr data-testid="session-row">
                                        <td data-label="Kind" class="px-3 py-2">{s.kind} {s.current.then(|| view! { " " <Badge tone=Tone::Info>"this one"</Badge> })}</td>
                                        <td data-label="Method" class="px-3 py-2">{s.method}</td>
                                        <td data-label="From" class="px-3 py-2 text-xs">{s.ip} <span class="block truncate text-slate-500 dark:text-slate-400 max-w-xs">{s.user_agent}</span></td>
                                        <td data-label="Last seen" class="px-3 py-2">{crate::ui::time::minutes(s.last_seen_at)}</td>
                                        <td data-label="Expires" class="px-3 py-2">{crate::ui::time::minutes(s.expires_at)}</td>
                                        <td class="px-3 py-2 text-right">
                                            <Button kind=ButtonKind::Ghost on_click=move |_| { revoke.dispatch(RevokeMySession { id }); }>"Revoke"</Button>
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </DataTable>
                    }.into_any(),
                })}
            </Transition>
            <div class="mt-3">
                <Button kind=ButtonKind::Danger on_click=move |_| confirm.set(true) test_id="logout-everywhere">"Sign out everywhere"</Button>
            </div>
            <ConfirmDialog
                open=confirm
                title="Sign out everywhere?"
                message="Every browser session and bearer token of yours ends now, this one included."
                confirm_label="Sign out everywhere"
                on_confirm=Callback::new(move |()| { everywhere.dispatch(LogoutEverywhere {}); })
            />
        </Card>
    }
}

#[component]
fn TokensCard() -> impl IntoView {
    let create = ServerAction::<CreateMyToken>::new();
    let revoke = ServerAction::<RevokeMyToken>::new();
    let tokens = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_my_tokens(),
    );
    let name = RwSignal::new(String::new());
    let scope = RwSignal::new("read".to_owned());
    let days = RwSignal::new("90".to_owned());
    let created = move || create.value().get().and_then(Result::ok);
    view! {
        <Card title="API tokens">
            <p class="mb-3 text-sm text-slate-500 dark:text-slate-400">"Use a token as " <code>"Authorization: Bearer <token>"</code> " on any REST endpoint. It is shown once."</p>
            <form class="flex flex-wrap items-end gap-2" on:submit=move |ev| {
                ev.prevent_default();
                let scope = if scope.get() == "write" { TokenScope::Write } else { TokenScope::Read };
                let expires_in_days = days.get().parse().ok();
                create.dispatch(CreateMyToken { name: name.get(), scope, expires_in_days });
            }>
                <label class="text-sm">"Name"
                    <input class=INPUT_CLASS data-testid="token-name" required=true bind:value=name/>
                </label>
                <label class="text-sm">"Scope"
                    <select class=INPUT_CLASS bind:value=scope>
                        <option value="read">"read"</option>
                        <option value="write">"write"</option>
                    </select>
                </label>
                <label class="text-sm">"Expires"
                    <select class=INPUT_CLASS bind:value=days>
                        <option value="30">"in 30 days"</option>
                        <option value="90">"in 90 days"</option>
                        <option value="365">"in a year (if allowed)"</option>
                    </select>
                </label>
                <Button kind=ButtonKind::Primary submit=true disabled=create.pending() test_id="token-create">"Create token"</Button>
            </form>
            <FormError message=Signal::derive(move || error_text(create.value().get()))/>
            {move || created().map(|NewApiToken { token, info }| view! {
                <div class="mt-3 rounded-md bg-emerald-50 p-3 text-sm dark:bg-emerald-950" role="status">
                    <p>"Token " <strong>{info.name}</strong> " created. Copy it now; it will not be shown again:"</p>
                    <code class="mt-1 block break-all font-mono" data-testid="token-secret">{token}</code>
                </div>
            })}
            <div class="mt-4">
                <Transition fallback=|| view! { <Loading label="Loading tokens"/> }>
                    {move || tokens.get().map(|r| match r {
                        Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                        Ok(list) if list.is_empty() => view! { <EmptyState title="No API tokens" hint="Create one above for scripts and CI."/> }.into_any(),
                        Ok(list) => view! {
                            <DataTable headers=vec!["Name", "Token", "Scope", "Expires", "Last used", ""]>
                                {list.into_iter().map(|t| {
                                    let id = t.id;
                                    let fmt = crate::ui::time::minutes_or;
                                    let revoked = t.revoked_at.is_some();
                                    view! {
                                        <tr data-testid="token-row">
                                            <td data-label="Name" class="px-3 py-2">{t.name}</td>
                                            <td data-label="Token" class="px-3 py-2 font-mono text-xs">{t.hint} "…"</td>
                                            <td data-label="Scope" class="px-3 py-2">{t.scope.as_str()}</td>
                                            <td data-label="Expires" class="px-3 py-2">{fmt(t.expires_at, "never")}</td>
                                            <td data-label="Last used" class="px-3 py-2">{fmt(t.last_used_at, "never")}</td>
                                            <td class="px-3 py-2 text-right">
                                                {if revoked {
                                                    view! { <Badge tone=Tone::Neutral>"revoked"</Badge> }.into_any()
                                                } else {
                                                    view! { <Button kind=ButtonKind::Ghost on_click=move |_| { revoke.dispatch(RevokeMyToken { id }); }>"Revoke"</Button> }.into_any()
                                                }}
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </DataTable>
                        }.into_any(),
                    })}
                </Transition>
            </div>
        </Card>
    }
}
