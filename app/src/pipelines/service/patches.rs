//! Patches: the rejection's, applied on resume (a failing one reopens the gate), and the
//! seed's direct patch to a pipeline's parameters.

use super::*;

impl PipelineService {
    /// Resumes a paused pipeline at its stage, first applying the JSON patch attached to the
    /// rejection there to the pipeline's parameters (the seed applied it to the stage's
    /// artifact). Returns how many patches were applied. A patch that does not apply changes
    /// nothing but the gate: it is reopened, so people decide again — approve, or reject with
    /// another patch — and the caller hears why (409).
    #[tracing::instrument(name = "pipelines.resume", skip_all)]
    pub async fn resume(&self, principal: &Principal, id: &str) -> Result<usize> {
        let pipeline = self.get(principal, id).await?;
        principal.authorize(Permission::Operate)?;
        let gate = self.store.gate(id, &pipeline.stage).await?;
        let patch = gate.as_ref().and_then(|g| g.patch.as_deref());
        let mut params: serde_json::Value = serde_json::from_str(&pipeline.params).unwrap_or_default();
        let applied = match patch {
            Some(patch) if pipeline.status() == Some(PipelineStatus::Paused) => {
                let applies = serde_json::from_str::<json_patch::Patch>(patch)
                    .map_err(|e| e.to_string())
                    .and_then(|patch| json_patch::patch(&mut params, &patch).map_err(|e| e.to_string()));
                if let Err(why) = applies {
                    let by = principal.display_name();
                    let reopened = self
                        .store
                        .reopen_gate(
                            id,
                            &pipeline.stage,
                            &NewEvent {
                                kind: "patch_failed",
                                stage: Some(&pipeline.stage),
                                status: Some(PipelineStatus::Paused),
                                message: &format!(
                                    "the rejection's patch at {} did not apply ({why}); the gate is open again",
                                    pipeline.stage
                                ),
                                payload: serde_json::json!({ "by": by, "error": why }),
                            },
                        )
                        .await?;
                    return Err(PipelineError::Conflict(if reopened {
                        format!(
                            "the rejection's patch does not apply to the parameters: {why}; the gate at {} is open again: approve it, or reject it with another patch",
                            pipeline.stage
                        )
                    } else {
                        "the pipeline changed meanwhile; look again".to_owned()
                    }));
                }
                1
            }
            _ => 0,
        };
        let stage = pipeline.stage.clone();
        self.apply(
            principal,
            &pipeline,
            Transition::Resume,
            &stage,
            (applied > 0).then_some(&params),
            &[],
            "job_resumed",
        )
        .await?;
        Ok(applied)
    }

    /// Applies a patch to a pipeline's parameters now (the seed's direct patch endpoint): JSON
    /// patch operations change them; the seed's typed patches (`{"type": "text_replace", …}`)
    /// are kept under `patches.<stage>` for the worker of that stage. The event says who did it.
    #[tracing::instrument(name = "pipelines.apply_patch", skip_all)]
    pub async fn apply_patch(
        &self,
        principal: &Principal,
        id: &str,
        stage: &str,
        patch: &serde_json::Value,
    ) -> Result<()> {
        principal.authorize(Permission::Operate)?;
        let pipeline = self.get(principal, id).await?;
        let stages: Vec<String> = serde_json::from_str(&pipeline.stages).unwrap_or_default();
        if !stages.iter().any(|s| s == stage) {
            return Err(
                FieldError::new("stage", format!("{stage:?} is not one of the pipeline's stages")).into(),
            );
        }
        if pipeline.status().is_none_or(PipelineStatus::has_ended) {
            return Err(PipelineError::Conflict(format!(
                "the pipeline is {}: it has ended",
                pipeline.status
            )));
        }
        let mut params: serde_json::Value = serde_json::from_str(&pipeline.params).unwrap_or_default();
        let operations = if patch.is_array() {
            patch.clone()
        } else {
            serde_json::Value::Array(vec![patch.clone()])
        };
        if is_json_patch(&operations) {
            let operations: json_patch::Patch =
                serde_json::from_value(operations).map_err(|e| FieldError::new("patch", e.to_string()))?;
            json_patch::patch(&mut params, &operations).map_err(|e| {
                PipelineError::Conflict(format!("the patch does not apply to the parameters: {e}"))
            })?;
        } else if patch.get("type").and_then(serde_json::Value::as_str).is_some() {
            if !params.is_object() {
                params = serde_json::json!({});
            }
            let kept = &mut params["patches"];
            if !kept.is_object() {
                *kept = serde_json::json!({});
            }
            let list = &mut kept[stage];
            if !list.is_array() {
                *list = serde_json::json!([]);
            }
            if let Some(list) = list.as_array_mut() {
                if list.len() >= MAX_KEPT_PATCHES {
                    return Err(PipelineError::Conflict(format!(
                        "{MAX_KEPT_PATCHES} patches are kept for {stage} already: its worker applies them first"
                    )));
                }
                list.push(patch.clone());
            }
        } else {
            return Err(FieldError::new(
                "patch",
                "expected JSON patch operations ({op, path, value}) or a typed patch ({type, …}: see /api/v1/patches/types)",
            )
            .into());
        }
        let by = principal.display_name();
        let changed = self
            .store
            .replace_params(
                id,
                &pipeline.params,
                &params,
                &NewEvent {
                    kind: "patch_applied_direct",
                    stage: Some(stage),
                    status: None,
                    message: &format!("Patch applied directly by {by}"),
                    payload: serde_json::json!({ "operator": by, "patch": patch, "stage": stage }),
                },
            )
            .await?;
        if changed {
            Ok(())
        } else {
            Err(PipelineError::Conflict(
                "the pipeline changed meanwhile; look again".into(),
            ))
        }
    }
}
