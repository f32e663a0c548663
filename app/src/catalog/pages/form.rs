//! The "New service" page and the form it shares with Edit.

use super::*;

#[component]
pub(super) fn NewServicePage() -> impl IntoView {
    let list = Resource::new(
        || (),
        |()| list_services(String::new(), String::new(), String::new(), String::new()),
    );
    view! {
        <Title text="New service"/>
        <div class="space-y-6">
            <a href="/catalog" class="text-sm text-indigo-600 dark:text-indigo-400 hover:underline">"← Service catalog"</a>
            <h1 class="text-2xl font-semibold tracking-tight">"New service"</h1>
            <Transition fallback=|| view! { <Loading label="Loading"/> }>
                {move || list.get().map(|r| match r {
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    Ok(l) if !l.can_write => view! {
                        <ErrorNotice error=AppError::forbidden("only admins register services")/>
                    }.into_any(),
                    Ok(l) => view! { <ServiceForm service=None tenants=l.form_tenants/> }.into_any(),
                })}
            </Transition>
        </div>
    }
}

/// The create / edit form; each refused field says why beside it.
#[component]
pub(super) fn ServiceForm(service: Option<Service>, tenants: Vec<String>) -> impl IntoView {
    let save = ServerAction::<SaveService>::new();
    let navigate = use_navigate();
    let toasts = use_toasts();
    let editing = service.is_some();
    Effect::new(move |_| {
        if let Some(Ok(id)) = save.value().get() {
            toasts.success(if editing {
                "Service saved"
            } else {
                "Service registered"
            });
            navigate(&format!("/catalog/{id}"), NavigateOptions::default());
        }
    });
    let s = service.clone();
    let value = move |f: fn(&Service) -> String| s.as_ref().map(f).unwrap_or_default();
    let current_tenant = service.as_ref().map(|s| s.tenant.clone()).unwrap_or_default();
    let field = move |name: &'static str, label: &'static str, initial: String, hint: &'static str| {
        let error = field_error(save, name);
        view! {
            <label class="text-sm">{label}
                <input name=name value=initial class=INPUT_CLASS data-testid=format!("service-{name}") placeholder=hint
                    aria-invalid=move || error.get().is_some().to_string()/>
                <span class="block text-xs text-red-600" data-testid=format!("error-{name}")>{move || error.get()}</span>
            </label>
        }
    };
    let tenant_error = field_error(save, "tenant");
    let links_error = field_error(save, "links");
    let description_error = field_error(save, "description");
    view! {
        <Card title=if editing { "Edit service" } else { "Register a service" }>
            <ActionForm action=save attr:class="grid gap-3 md:grid-cols-2" attr:data-testid="service-form">
                {service.as_ref().map(|s| view! { <input type="hidden" name="id" value=s.id/> })}
                {field("name", "Name", value(|s| s.name.clone()), "payments")}
                <label class="text-sm">"Tenant"
                    <select name="tenant" class=INPUT_CLASS data-testid="service-tenant">
                        {tenants.into_iter().map(|t| {
                            let selected = t == current_tenant;
                            let label = t.clone();
                            view! { <option value=t selected=selected>{label}</option> }
                        }).collect_view()}
                    </select>
                    <span class="block text-xs text-red-600" data-testid="error-tenant">{move || tenant_error.get()}</span>
                </label>
                {field("repo_url", "Repository URL", value(|s| s.repo_url.clone()), "https://git.example.com/payments")}
                {field("owner_team", "Owner team", value(|s| s.owner_team.clone()), "Payments")}
                {field("runtime", "Runtime", value(|s| s.runtime.clone()), "go")}
                {field("tier", "Tier", value(|s| s.tier.clone()), "tier-1")}
                {field("environments", "Environments (comma-separated)", value(|s| s.environments.join(", ")), "dev, prod")}
                {field("tags", "Tags (comma-separated)", value(|s| s.tags.join(", ")), "payments, pci")}
                <label class="flex items-center gap-2 text-sm">
                    <input type="checkbox" name="observability_enabled" value="on" data-testid="service-observability"
                        checked=service.as_ref().is_some_and(|s| s.observability_enabled)/>
                    "Observability (dashboard link)"
                </label>
                <label class="text-sm md:col-span-2">"Description"
                    <textarea name="description" rows="2" class=INPUT_CLASS data-testid="service-description">
                        {service.as_ref().map(|s| s.description.clone()).unwrap_or_default()}
                    </textarea>
                    <span class="block text-xs text-red-600" data-testid="error-description">{move || description_error.get()}</span>
                </label>
                <label class="text-sm md:col-span-2">"Links (one per line: title, then URL)"
                    <textarea name="links" rows="2" class=INPUT_CLASS data-testid="service-links" placeholder="Runbook https://wiki.example.com/payments">
                        {service.as_ref().map(|s| s.links.iter().map(|l| format!("{} {}", l.title, l.url)).collect::<Vec<_>>().join("\n")).unwrap_or_default()}
                    </textarea>
                    <span class="block text-xs text-red-600" data-testid="error-links">{move || links_error.get()}</span>
                </label>
                <div class="flex items-center gap-3 md:col-span-2">
                    <Button kind=ButtonKind::Primary submit=true test_id="service-save" disabled=save.pending()>
                        {if editing { "Save" } else { "Register service" }}
                    </Button>
                    {service.as_ref().map(|s| view! { <a href=format!("/catalog/{}", s.id) class="text-sm text-slate-500 dark:text-slate-400 hover:underline">"Cancel"</a> })}
                    <FormError message=Signal::derive(move || match save.value().get() {
                        // A field's own error is shown beside it.
                        Some(Err(AppError::Invalid { .. })) => Some("Some fields need attention.".to_owned()),
                        other => error_text(other),
                    })/>
                </div>
            </ActionForm>
        </Card>
    }
}
