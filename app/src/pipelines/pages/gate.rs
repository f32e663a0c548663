//! A gate's card: who may decide, the approvals so far, Approve / Reject with notes.

use super::*;

/// A gate: its rules, where it stands, and — when it waits for the viewer — the decision.
#[component]
pub(super) fn GateCard(
    st: StageView,
    notes: RwSignal<String>,
    asking: RwSignal<Option<(Ask, String)>>,
    open: RwSignal<bool>,
) -> impl IntoView {
    let Some(g) = st.gate else { return ().into_any() };
    let GateView {
        opened_at,
        due_at,
        decision,
        approvals,
        who_may_decide,
        you_may_not,
        config,
    } = g;
    let stage = st.name.clone();
    let waiting = st.state == StageState::Current && opened_at.is_some() && decision.is_none();
    let state = match (decision, waiting) {
        (Some(d), _) => view! {
            <p class="text-sm" data-testid="gate-decision">
                <Badge tone=match d.decision { crate::pipelines::Decision::Approved => Tone::Success, crate::pipelines::Decision::Rejected => Tone::Danger, crate::pipelines::Decision::Expired => Tone::Neutral }>{d.decision.as_str()}</Badge>
                {format!(" by {} at {}{}", d.by, crate::ui::time::seconds(d.at), if d.automatic { " (timer)" } else { "" })}
            </p>
            {d.notes.map(|n| view! { <p class="mt-1 text-sm italic" data-testid="gate-notes">{format!("“{n}”")}</p> })}
        }.into_any(),
        (None, true) => view! {
            <p class="text-sm" data-testid="gate-waiting"><Badge tone=Tone::Warning>"waiting"</Badge>
                {due_at.map(|t| format!(" · its timer acts at {}", crate::ui::time::seconds(t)))}
            </p>
        }.into_any(),
        (None, false) => view! { <p class="text-sm text-slate-500 dark:text-slate-400">"Not reached yet."</p> }.into_any(),
    };
    let needed = config.approvals_needed;
    let progress = (needed > 1).then(|| {
        format!(
            "{} of {needed} approvals{}",
            approvals.len(),
            if approvals.is_empty() {
                String::new()
            } else {
                format!(": {}", approvals.join(", "))
            }
        )
    });
    let decide = match (waiting, you_may_not) {
        (true, None) => {
            let (approve_stage, reject_stage) = (stage.clone(), stage.clone());
            let field = format!("notes-{stage}");
            view! {
                <div class="mt-3 space-y-2">
                    <label for=field.clone() class="block text-sm font-medium">"Notes (needed to reject)"</label>
                    <textarea id=field rows="2" class=INPUT_CLASS data-testid="gate-notes-input"
                        prop:value=move || notes.get()
                        on:input=move |ev| notes.set(event_target_value(&ev))></textarea>
                    <div class="flex gap-2">
                        <Button kind=ButtonKind::Primary test_id="gate-approve" on_click=move |_| {
                            asking.set(Some((Ask::Approve, approve_stage.clone())));
                            open.set(true);
                        }>"Approve…"</Button>
                        <Button kind=ButtonKind::Danger test_id="gate-reject"
                            disabled=Signal::derive(move || notes.get().trim().is_empty())
                            on_click=move |_| {
                                asking.set(Some((Ask::Reject, reject_stage.clone())));
                                open.set(true);
                            }>"Reject…"</Button>
                    </div>
                </div>
            }.into_any()
        }
        (true, Some(why)) => view! { <p class="mt-2 text-sm text-slate-500 dark:text-slate-400" data-testid="gate-why-not">{format!("You cannot approve: {why}.")}</p> }.into_any(),
        (false, _) => ().into_any(),
    };
    view! {
        <section class="rounded-lg border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900"
            data-testid="gate-card" data-stage=stage>
            <h2 class="text-sm font-semibold">{format!("Gate: {stage}")}</h2>
            <p class="mb-2 text-xs text-slate-500 dark:text-slate-400" data-testid="gate-who">{format!("Who decides: {who_may_decide}")}</p>
            {state}
            {progress.map(|p| view! { <p class="mt-1 text-xs" data-testid="gate-progress">{p}</p> })}
            {decide}
        </section>
    }
    .into_any()
}
