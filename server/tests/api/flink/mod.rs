//! FlinkDeployment watches against the real kube-apiserver, under Heimdall's own RBAC.

mod watches;
