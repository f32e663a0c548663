//! Tests of `service.rs`.

use serde_json::json;

use super::redact_secrets;

#[test]
fn credentials_are_redacted_wherever_they_are() {
    let mut object = json!({
        "spec": {
            "flinkConfiguration": {
                "s3.access-key": "AKIA123", "s3.secret-key": "hunter2", "state.backend": "rocksdb",
                "taskmanager.numberOfTaskSlots": "2"
            },
            "podTemplate": { "spec": { "containers": [ { "env": [
                { "name": "DB_PASSWORD", "value": "pw" },
                { "name": "REGION", "value": "eu-west-1" },
                { "name": "API_TOKEN", "valueFrom": { "secretKeyRef": { "name": "s", "key": "k" } } }
            ] } ] } }
        }
    });
    redact_secrets(&mut object);
    let conf = &object["spec"]["flinkConfiguration"];
    assert_eq!(conf["s3.access-key"], "***");
    assert_eq!(conf["s3.secret-key"], "***");
    assert_eq!(conf["state.backend"], "rocksdb");
    assert_eq!(conf["taskmanager.numberOfTaskSlots"], "2");
    let env = &object["spec"]["podTemplate"]["spec"]["containers"][0]["env"];
    assert_eq!(env[0]["value"], "***");
    assert_eq!(env[1]["value"], "eu-west-1");
    // A reference to a Secret is not the secret: it stays readable.
    assert_eq!(env[2]["valueFrom"]["secretKeyRef"]["name"], "s");
}
