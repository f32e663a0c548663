//! The admin pages: users, tenants, audit log (and, from their domains, ForwardAuth and System).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{LazyRoute, lazy_route};

use super::api::{
    CreateTenant, CreateUser, ResetUserPassword, SetUserActive, SetUserRole, SetUserTenants, UnlockUser,
    list_audit, list_tenants, list_users,
};
use super::model::{NewUserForm, UserSummary};
use crate::audit::{AuditFilter, Outcome};
use crate::identity::Role;
use crate::identity::TenantInfo;
use crate::ui::{
    Badge, Button, ButtonKind, Card, ConfirmDialog, DataTable, EmptyState, ErrorNotice, FormError,
    INPUT_CLASS, Loading, TextField, Tone, use_toasts,
};

fn role_tone(role: Role) -> Tone {
    match role {
        Role::Admin => Tone::Danger,
        Role::Developer => Tone::Info,
        Role::Viewer => Tone::Neutral,
    }
}

fn when(d: Option<chrono::DateTime<chrono::Utc>>) -> String {
    crate::ui::time::minutes_or(d, "never")
}

/// The admin section (`/admin/{users,tenants,audit,forward-auth,system}`): one lazily loaded route, so the whole
/// section is one WASM chunk fetched on first use and the initial bundle carries one lazy-route
/// instantiation for it, not three.
pub struct AdminRoute;

#[lazy_route]
impl LazyRoute for AdminRoute {
    fn data() -> Self {
        Self
    }

    fn view(this: Self) -> AnyView {
        let _ = this;
        let params = leptos_router::hooks::use_params_map();
        let section = move || params.read().get("section").unwrap_or_default();
        view! {
            {move || match section().as_str() {
                "users" => view! { <AdminUsersPage/> }.into_any(),
                "tenants" => view! { <AdminTenantsPage/> }.into_any(),
                "audit" => view! { <AdminAuditPage/> }.into_any(),
                "forward-auth" => view! { <crate::forward_auth::ForwardAuthPage/> }.into_any(),
                "system" => view! { <crate::home::SystemPage/> }.into_any(),
                _ => view! { <crate::ui::NotFoundPage/> }.into_any(),
            }}
        }
        .into_any()
    }
}

#[component]
pub fn AdminUsersPage() -> impl IntoView {
    let query = RwSignal::new(String::new());
    let create = ServerAction::<CreateUser>::new();
    let set_role = ServerAction::<SetUserRole>::new();
    let set_active = ServerAction::<SetUserActive>::new();
    let reset = ServerAction::<ResetUserPassword>::new();
    let set_tenants = ServerAction::<SetUserTenants>::new();
    let unlock = ServerAction::<UnlockUser>::new();
    let users = Resource::new(
        move || {
            (
                query.get(),
                create.version().get(),
                set_role.version().get(),
                set_active.version().get(),
                reset.version().get(),
                set_tenants.version().get(),
                unlock.version().get(),
            )
        },
        |(q, ..)| list_users(q),
    );
    let tenants = Resource::new(|| (), |()| list_tenants());
    let toasts = use_toasts();
    for value in [
        set_role.value(),
        set_active.value(),
        set_tenants.value(),
        unlock.value(),
    ] {
        Effect::new(move |_| match value.get() {
            Some(Err(e)) => toasts.error(e.for_people()),
            Some(Ok(u)) => toasts.success(format!("Saved {}", u.username)),
            None => {}
        });
    }
    let shown_password = move || {
        create
            .value()
            .get()
            .and_then(Result::ok)
            .or_else(|| reset.value().get().and_then(Result::ok))
            .and_then(|u| u.password.map(|p| (u.user.username, p)))
    };
    let (form_username, form_email, form_role) = (
        RwSignal::new(String::new()),
        RwSignal::new(String::new()),
        RwSignal::new("viewer".to_owned()),
    );
    view! {
        <Title text="Users"/>
        <div class="space-y-6">
            <header class="flex flex-wrap items-end justify-between gap-4">
                <div>
                    <h1 class="text-2xl font-semibold tracking-tight">"Users"</h1>
                    <p class="text-sm text-slate-500 dark:text-slate-400">"Roles, tenants and access. Every change is in the audit log."</p>
                </div>
                <input type="search" placeholder="Search users…" aria-label="Search users" class=INPUT_CLASS.to_owned() + " max-w-xs"
                    data-testid="user-search" on:input=move |ev| query.set(event_target_value(&ev))/>
            </header>
            <Card title="New user">
                <form class="flex flex-wrap items-end gap-2" on:submit=move |ev| {
                    ev.prevent_default();
                    let role = form_role.get().parse().unwrap_or(Role::Viewer);
                    create.dispatch(CreateUser { form: NewUserForm {
                        username: form_username.get(), email: form_email.get(), display_name: String::new(), role, password: String::new(),
                    }});
                }>
                    <label class="text-sm">"Username"<input class=INPUT_CLASS required=true bind:value=form_username data-testid="new-username"/></label>
                    <label class="text-sm">"Email (optional)"<input class=INPUT_CLASS type="email" bind:value=form_email/></label>
                    <label class="text-sm">"Role"
                        <select class=INPUT_CLASS bind:value=form_role>
                            {Role::ALL.into_iter().rev().map(|r| view! { <option value=r.as_str()>{r.as_str()}</option> }).collect_view()}
                        </select>
                    </label>
                    <Button kind=ButtonKind::Primary submit=true disabled=create.pending()>"Create user"</Button>
                </form>
                <FormError message=Signal::derive(move || create.value().get().and_then(Result::err).map(|e| e.for_people()))/>
            </Card>
            {move || shown_password().map(|(user, password)| view! {
                <div role="status" class="rounded-md bg-emerald-50 p-3 text-sm dark:bg-emerald-950">
                    "Password for " <strong>{user}</strong> " (shown once; hand it over safely): "
                    <code class="font-mono" data-testid="shown-password">{password}</code>
                </div>
            })}
            <Transition fallback=|| view! { <Loading label="Loading users"/> }>
                {move || users.get().map(|r| match r {
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <EmptyState title="No users match" hint="Try another search."/> }.into_any(),
                    Ok(list) => {
                        let all_tenants = tenants.get().and_then(Result::ok).unwrap_or_default();
                        view! {
                            <DataTable headers=vec!["User", "Role", "Tenants", "Sign-in", "Last login", "Actions"]>
                                {list.into_iter().map(|u| view! { <UserRow user=u all_tenants=all_tenants.clone() set_role set_active reset set_tenants unlock/> }).collect_view()}
                            </DataTable>
                        }.into_any()
                    }
                })}
            </Transition>
        </div>
    }
}

/// One user: role and tenants are edited as a draft and saved together (nothing changes on a
/// stray click); the admin's own role and Deactivate are disabled with the reason, not offered
/// and then refused.
#[component]
fn UserRow(
    user: UserSummary,
    all_tenants: Vec<TenantInfo>,
    set_role: ServerAction<SetUserRole>,
    set_active: ServerAction<SetUserActive>,
    reset: ServerAction<ResetUserPassword>,
    set_tenants: ServerAction<SetUserTenants>,
    unlock: ServerAction<UnlockUser>,
) -> impl IntoView {
    let id = user.id;
    let active = user.active;
    let viewer = crate::identity::use_viewer();
    let is_self = move || {
        viewer.with(|v| {
            v.as_ref()
                .and_then(|v| v.user.as_ref())
                .is_some_and(|u| u.id == id)
        })
    };
    let confirm_active = RwSignal::new(false);
    let confirm_reset = RwSignal::new(false);
    let mut member_of: Vec<i64> = user.tenants.iter().map(|t| t.id).collect();
    member_of.sort_unstable();
    let saved = StoredValue::new((user.role, member_of.clone()));
    let role = RwSignal::new(user.role);
    let chosen = RwSignal::new(member_of);
    let changed = Memo::new(move |_| saved.with_value(|(r, t)| role.get() != *r || chosen.with(|c| c != t)));
    let save = move |_| {
        let (saved_role, saved_tenants) = saved.get_value();
        if role.get_untracked() != saved_role {
            set_role.dispatch(SetUserRole {
                id,
                role: role.get_untracked(),
            });
        }
        let tenant_ids = chosen.get_untracked();
        if tenant_ids != saved_tenants {
            set_tenants.dispatch(SetUserTenants { id, tenant_ids });
        }
    };
    let undo = move |_| {
        let (saved_role, saved_tenants) = saved.get_value();
        role.set(saved_role);
        chosen.set(saved_tenants);
    };
    let self_note = StoredValue::new(format!("self-note-{id}"));
    let sign_in = {
        let mut ways = user.providers.clone();
        if user.has_password {
            ways.insert(0, "password".into());
        }
        ways.join(", ")
    };
    let username = user.username.clone();
    view! {
        <tr data-testid="user-row" class=if active { "" } else { "opacity-60" }>
            <td data-label="User" class="px-3 py-2">
                <div class="font-medium">{user.username.clone()}</div>
                <div class="text-xs text-slate-500 dark:text-slate-400">{user.email.clone().unwrap_or_default()}</div>
                {(!active).then(|| view! { <Badge tone=Tone::Warning>"deactivated"</Badge> })}
                {user.locked_for_secs.map(|secs| view! {
                    <span data-testid="user-locked" title="Too many failed sign-ins; it lifts by itself, or unlock it now">
                        <Badge tone=Tone::Danger>{format!("locked · {secs} s")}</Badge>
                    </span>
                })}
                <Show when=is_self>
                    <p id=self_note.get_value() data-testid="self-note" class="mt-1 text-xs text-slate-500 dark:text-slate-400">
                        "You: another admin can change your role or deactivate you."
                    </p>
                </Show>
            </td>
            <td data-label="Role" class="px-3 py-2">
                <select class=INPUT_CLASS aria-label=format!("Role of {}", user.username) data-testid="user-role-select"
                    disabled=is_self
                    aria-describedby=move || is_self().then(|| self_note.get_value())
                    on:change=move |ev| {
                        if let Ok(r) = event_target_value(&ev).parse::<Role>() {
                            role.set(r);
                        }
                    }
                    prop:value=move || role.get().as_str()>
                    {Role::ALL.into_iter().rev().map(|r| view! { <option value=r.as_str() selected=r == user.role>{r.as_str()}</option> }).collect_view()}
                </select>
                <span class="sr-only"><Badge tone=role_tone(user.role)>{user.role.as_str()}</Badge></span>
            </td>
            <td data-label="Tenants" class="px-3 py-2">
                {if all_tenants.is_empty() {
                    view! { <span class="text-xs text-slate-500 dark:text-slate-400">"no tenants yet"</span> }.into_any()
                } else {
                    all_tenants.into_iter().map(|t| {
                        let tid = t.id;
                        view! {
                            <label class="mr-2 inline-flex items-center gap-1 text-xs">
                                <input type="checkbox" data-testid="user-tenant" prop:checked=move || chosen.with(|c| c.contains(&tid)) on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    chosen.update(|c| {
                                        c.retain(|x| *x != tid);
                                        if on { c.push(tid); c.sort_unstable(); }
                                    });
                                }/>
                                {t.slug}
                            </label>
                        }
                    }).collect_view().into_any()
                }}
            </td>
            <td data-label="Sign-in" class="px-3 py-2 text-xs">{sign_in}</td>
            <td data-label="Last login" class="px-3 py-2 text-xs">{match user.last_login_at {
                Some(at) => view! { <crate::ui::time::Ago at/> }.into_any(),
                None => "never".into_any(),
            }}</td>
            <td data-label="Actions" class="px-3 py-2 md:whitespace-nowrap">
                <Show when=move || changed.get()>
                    <Button kind=ButtonKind::Primary test_id="user-save" disabled=Signal::derive(move || set_role.pending().get() || set_tenants.pending().get()) on_click=save>"Save"</Button>
                    <Button kind=ButtonKind::Ghost on_click=undo>"Undo"</Button>
                </Show>
                <Button kind=ButtonKind::Ghost test_id="user-active" disabled=Signal::derive(is_self) attr:title=move || is_self().then_some("You cannot deactivate yourself; another admin can.") on_click=move |_| confirm_active.set(true)>{if active { "Deactivate" } else { "Activate" }}</Button>
                <Button kind=ButtonKind::Ghost on_click=move |_| confirm_reset.set(true)>"Reset password"</Button>
                {user.locked_for_secs.is_some().then(|| view! {
                    <Button kind=ButtonKind::Ghost on_click=move |_| { unlock.dispatch(UnlockUser { id }); }>"Unlock"</Button>
                })}
                <ConfirmDialog open=confirm_active
                    title=if active { format!("Deactivate {username}?") } else { format!("Activate {username}?") }
                    message=if active { "They are signed out everywhere and cannot sign in until activated again." } else { "They can sign in again." }
                    confirm_label=if active { "Deactivate" } else { "Activate" }
                    on_confirm=Callback::new(move |()| { set_active.dispatch(SetUserActive { id, active: !active }); })/>
                <ConfirmDialog open=confirm_reset
                    title=format!("Reset the password of {username}?")
                    message="A new password is generated and shown once; their sessions end."
                    confirm_label="Reset password"
                    on_confirm=Callback::new(move |()| { reset.dispatch(ResetUserPassword { id }); })/>
            </td>
        </tr>
    }
}

#[component]
pub fn AdminTenantsPage() -> impl IntoView {
    let create = ServerAction::<CreateTenant>::new();
    let tenants = Resource::new(move || create.version().get(), |_| list_tenants());
    view! {
        <Title text="Tenants"/>
        <div class="space-y-6">
            <h1 class="text-2xl font-semibold tracking-tight">"Tenants"</h1>
            <Card title="New tenant">
                <ActionForm action=create attr:class="flex flex-wrap items-end gap-2">
                    <TextField label="Slug" name="slug" placeholder="payments" required=true/>
                    <TextField label="Name" name="name" placeholder="Payments team" required=true/>
                    <Button kind=ButtonKind::Primary submit=true disabled=create.pending()>"Create tenant"</Button>
                </ActionForm>
                <FormError message=Signal::derive(move || create.value().get().and_then(Result::err).map(|e| e.for_people()))/>
            </Card>
            <Transition fallback=|| view! { <Loading label="Loading tenants"/> }>
                {move || tenants.get().map(|r| match r {
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <EmptyState title="No tenants yet" hint="Create one above, then add members on the Users page."/> }.into_any(),
                    Ok(list) => view! {
                        <DataTable headers=vec!["Slug", "Name", "Members", "Created"]>
                            {list.into_iter().map(|t| view! {
                                <tr data-testid="tenant-row">
                                    <td data-label="Slug" class="px-3 py-2 font-mono">{t.slug}</td>
                                    <td data-label="Name" class="px-3 py-2">{t.name}</td>
                                    <td data-label="Members" class="px-3 py-2">{t.members}</td>
                                    <td data-label="Created" class="px-3 py-2">{when(Some(t.created_at))}</td>
                                </tr>
                            }).collect_view()}
                        </DataTable>
                    }.into_any(),
                })}
            </Transition>
        </div>
    }
}

/// The audit page's time ranges: hours (0: any time) and their names.
const AUDIT_RANGES: [(u32, &str); 5] = [
    (0, "any time"),
    (1, "the last hour"),
    (24, "the last 24 hours"),
    (24 * 7, "the last 7 days"),
    (24 * 30, "the last 30 days"),
];

#[component]
pub fn AdminAuditPage() -> impl IntoView {
    let action = RwSignal::new(String::new());
    let actor = RwSignal::new(String::new());
    let outcome = RwSignal::new(String::new());
    let since_hours = RwSignal::new(0_u32);
    // The pages walked back so far: each is the id the next older page starts before.
    let cursors = RwSignal::new(Vec::<i64>::new());
    let entries = Resource::new(
        move || AuditFilter {
            action: action.get(),
            actor: actor.get(),
            outcome: outcome.get(),
            since_hours: since_hours.get(),
            before: cursors.with(|c| c.last().copied().unwrap_or(0)),
        },
        list_audit,
    );
    // A new filter starts from the newest entries.
    let refilter = move |set: &dyn Fn()| {
        cursors.set(Vec::new());
        set();
    };
    view! {
        <Title text="Audit log"/>
        <div class="space-y-6">
            <header>
                <h1 class="text-2xl font-semibold tracking-tight">"Audit log"</h1>
                <p class="text-sm text-slate-500 dark:text-slate-400">"Sign-ins, failures, role changes, tokens, decisions — newest first."</p>
            </header>
            <form role="search" aria-label="Filter the audit log" data-testid="audit-filters"
                class="flex flex-wrap items-end gap-3" on:submit=move |ev| ev.prevent_default()>
                <label class="text-sm">"Action"
                    <input class=INPUT_CLASS placeholder="e.g. login" aria-label="Filter by action"
                        on:input=move |ev| { let v = event_target_value(&ev); refilter(&|| action.set(v.clone())) }/></label>
                <label class="text-sm">"Actor"
                    <input class=INPUT_CLASS placeholder="a username" aria-label="Filter by actor"
                        on:input=move |ev| { let v = event_target_value(&ev); refilter(&|| actor.set(v.clone())) }/></label>
                <label class="text-sm">"Outcome"
                    <select class=INPUT_CLASS aria-label="Filter by outcome"
                        on:change=move |ev| { let v = event_target_value(&ev); refilter(&|| outcome.set(v.clone())) }>
                        <option value="">"any"</option>
                        {Outcome::ALL.into_iter().map(|o| view! { <option value=o.as_str()>{o.as_str()}</option> }).collect_view()}
                    </select></label>
                <label class="text-sm">"When"
                    <select class=INPUT_CLASS data-testid="audit-range"
                        on:change=move |ev| { let v = event_target_value(&ev).parse().unwrap_or(0); refilter(&|| since_hours.set(v)) }>
                        {AUDIT_RANGES.into_iter().map(|(hours, label)| view! { <option value=hours>{label}</option> }).collect_view()}
                    </select></label>
            </form>
            <Transition fallback=|| view! { <Loading label="Loading the audit log"/> }>
                {move || entries.get().map(|r| match r {
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <EmptyState title="Nothing recorded" hint="No entry matches these filters."/> }.into_any(),
                    Ok(list) => {
                        let older = (list.len() >= crate::audit::AUDIT_PAGE_SIZE).then(|| list.last().map(|e| e.id)).flatten();
                        view! {
                            <AuditTable list/>
                            <nav class="flex items-center justify-between gap-3 text-sm" aria-label="Audit log pages" data-testid="audit-pager">
                                <Button test_id="audit-newer" disabled=Signal::derive(move || cursors.with(Vec::is_empty))
                                    on_click=move |_| cursors.update(|c| { c.pop(); })>"← Newer"</Button>
                                <span class="text-slate-600 dark:text-slate-400">{move || format!("Page {}", cursors.with(Vec::len) + 1)}</span>
                                <Button test_id="audit-older" disabled=older.is_none()
                                    on_click=move |_| if let Some(id) = older { cursors.update(|c| c.push(id)) }>"Older →"</Button>
                            </nav>
                        }.into_any()
                    }
                })}
            </Transition>
        </div>
    }
}

#[component]
fn AuditTable(list: Vec<crate::audit::AuditEntry>) -> impl IntoView {
    view! {
        <DataTable headers=vec!["When", "Actor", "Action", "Target", "Outcome", "From", "Detail"]>
            {list.into_iter().map(|e| {
                let tone = match e.outcome { Outcome::Success => Tone::Success, Outcome::Failure => Tone::Warning, Outcome::Denied => Tone::Danger };
                // The target by name where the log kept an id, linking its page; the raw value on hover.
                let shown = e.target_label.clone().unwrap_or_else(|| e.target.clone());
                let target = match e.target_href.clone() {
                    Some(href) => view! { <a href=href title=e.target.clone() data-testid="audit-target" class="text-indigo-700 hover:underline dark:text-indigo-300">{shown}</a> }.into_any(),
                    None => view! { <span title=e.target.clone() data-testid="audit-target">{shown}</span> }.into_any(),
                };
                view! {
                    <tr data-testid="audit-row">
                        <td data-label="When" class="px-3 py-2 whitespace-nowrap text-xs">{crate::ui::time::seconds(e.created_at)}</td>
                        <td data-label="Actor" class="px-3 py-2">{e.actor}</td>
                        <td data-label="Action" class="px-3 py-2 font-mono text-xs">{e.action}</td>
                        <td data-label="Target" class="px-3 py-2 break-all">{target}</td>
                        <td data-label="Outcome" class="px-3 py-2"><Badge tone>{e.outcome.as_str()}</Badge></td>
                        <td data-label="From" class="px-3 py-2 text-xs">{e.ip}</td>
                        <td data-label="Detail" class="px-3 py-2 text-xs text-slate-600 dark:text-slate-400">{e.detail}</td>
                    </tr>
                }
            }).collect_view()}
        </DataTable>
    }
}
