//! The operator console's JSON shapes, as its clients read them (`fastapi_app/models.py`,
//! `routes.py`): a job, a gate, a decision, an artifact, an event (the poll's and the stream's
//! names), the stream's own notices and the patch catalogue. Heimdall's fields follow the
//! seed's. The REST routes render with these and nothing else.

use serde_json::{Value, json};

use super::model::Decision;
use super::store::{ArtifactRow, EventRow, GateRow, PipelineRow};

/// The seed's `Job`, with Heimdall's fields after its own, from what was read already.
pub fn job_of(p: &PipelineRow, gates: &[GateRow], artifacts: &[ArtifactRow]) -> Value {
    let params: Value = serde_json::from_str(&p.params).unwrap_or_default();
    let stages: Value = serde_json::from_str(&p.stages).unwrap_or_default();
    json!({
        "id": p.id,
        "slug": p.slug,
        "intent": p.intent,
        "status": p.status,
        "stage": p.stage,
        "cfg": {
            "brief": params.get("brief").cloned().unwrap_or(Value::Null),
            "render": {}, "models": {}, "modules": {},
            "captured_at": p.created_at,
        },
        "gates": gates.iter().map(gate_json).collect::<Vec<_>>(),
        "artifacts": artifacts.iter().map(artifact_json).collect::<Vec<_>>(),
        "created_at": p.created_at,
        "updated_at": p.updated_at,
        "operator": p.requested_by,
        "tenant_id": p.tenant_id,
        "stages": stages,
        "params": params,
    })
}

/// A gate as the seed shows it (`approved` true / false / null), plus Heimdall's fields.
pub fn gate_json(g: &GateRow) -> Value {
    let decision = g.decision();
    let config = g.config();
    json!({
        "stage": g.stage,
        "required": g.required,
        "approved": decision.as_ref().map(|d| d.decision == Decision::Approved),
        "by": decision.as_ref().map(|d| d.by.clone()),
        "at": decision.as_ref().map(|d| d.at),
        "notes": g.notes,
        "patch": g.patch.as_deref().and_then(|p| serde_json::from_str::<Value>(p).ok()),
        "auto_approved": decision.as_ref().is_some_and(|d| d.automatic && d.decision == Decision::Approved),
        "has_patch": g.patch.is_some(),
        "timeout_seconds": g.auto_approve_after_s,
        "decision": decision.as_ref().map(|d| d.decision.as_str()),
        "approvals_needed": config.approvals_needed,
        "allowed_roles": config.allowed_roles,
        "allow_self_approval": config.allow_self_approval,
        "timeout_action": config.timeout_action.as_str(),
        "notes_required": config.notes_required,
        "opened_at": g.opened_at,
    })
}

/// A decision as the seed stored it (`runs/<id>/gates/<stage>.json`).
pub fn decision_json(g: &GateRow) -> Option<Value> {
    let d = g.decision()?;
    Some(json!({
        "stage": g.stage,
        "approved": d.decision == Decision::Approved,
        "by": d.by,
        "at": d.at,
        "notes": d.notes,
        "patch": g.patch.as_deref().and_then(|p| serde_json::from_str::<Value>(p).ok()),
        "auto_approved": d.automatic && d.decision == Decision::Approved,
        "decision": d.decision.as_str(),
    }))
}

/// An artifact as the seed shows it.
pub fn artifact_json(a: &ArtifactRow) -> Value {
    json!({
        "stage": a.stage, "kind": a.name, "path": a.uri, "meta": {}, "created_at": a.created_at,
        "size_bytes": a.size_bytes, "checksum": a.sha256,
    })
}

/// One event as the seed's poll shows it (`timestamp`, `event_type`, `payload`…), with its id.
pub fn event_json(e: &EventRow) -> Value {
    json!({
        "id": e.id, "job_id": e.pipeline_id, "timestamp": e.created_at, "event_type": e.kind,
        "stage": e.stage, "status": e.status, "message": e.message,
        "payload": serde_json::from_str::<Value>(&e.payload).unwrap_or_else(|_| json!({})),
    })
}

/// One event as the seed's stream sends it (`ts`, `type`, `payload`…), with its id and job.
pub fn stream_json(e: &EventRow) -> Value {
    json!({
        "ts": e.created_at, "type": e.kind, "stage": e.stage, "status": e.status, "message": e.message,
        "payload": serde_json::from_str::<Value>(&e.payload).unwrap_or_else(|_| json!({})),
        "id": e.id, "job_id": e.pipeline_id,
    })
}

/// The seed's stream messages of its own (`connected`, `heartbeat`).
pub fn stream_notice(kind: &str, message: String, payload: Value) -> Value {
    json!({ "ts": chrono::Utc::now(), "type": kind, "stage": null, "status": null, "message": message, "payload": payload })
}

/// The seed's catalogue of patch types, word for word, and how Heimdall applies each.
pub fn patch_types() -> Value {
    json!({
        "patch_types": {
            "script": {
                "description": "Script text modifications",
                "examples": [
                    {"type": "text_replace", "description": "Replace specific text in script",
                     "example": {"type": "text_replace", "replacements": [{"old": "old text", "new": "new text"}]}},
                    {"type": "section_replace", "description": "Replace entire script section",
                     "example": {"type": "section_replace", "section_marker": "## Introduction",
                                 "new_section": "## Introduction\n\nUpdated introduction content"}},
                ],
            },
            "storyboard": {
                "description": "Storyboard timing and structure modifications",
                "examples": [
                    {"type": "duration_adjust", "description": "Adjust beat durations",
                     "example": {"type": "duration_adjust", "beat_adjustments": [{"beat_id": "intro_beat", "duration": 15}]}},
                ],
            },
            "audio": {
                "description": "Audio level and processing modifications",
                "examples": [
                    {"type": "level_adjust", "description": "Adjust audio levels in dB",
                     "example": {"type": "level_adjust", "level_change_db": 3}},
                ],
            },
        },
        "usage": "Send patches in the 'patch' field when approving/rejecting gates, or use the direct patch application endpoint",
        "json_patch": "JSON patch operations ({op, path, value}) change the job's parameters; a typed patch is kept under params.patches.<stage> for the stage's worker",
    })
}
