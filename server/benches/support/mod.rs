//! What the benches share: the peers `scripts/heimdall bench` started, an admin client for the
//! bench's own set-up, Heimdall's configuration on a throw-away SQLite file, and waiting for
//! `/readyz`.

use std::path::Path;
use std::time::Duration;

use kube::Client;
use kube::config::{KubeConfigOptions, Kubeconfig};

use heimdall::config::Config;

pub fn peer(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run `scripts/heimdall bench`"))
}

/// A cluster-admin client, for the bench's own objects only.
pub async fn admin_client() -> Client {
    let kubeconfig = Kubeconfig::read_from(peer("HEIMDALL_TEST_ADMIN_KUBECONFIG")).expect("admin kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("admin config");
    Client::try_from(config).expect("admin client")
}

/// Heimdall on a SQLite file in `dir`, port 0, as its ServiceAccount.
pub fn bench_config(dir: &Path) -> Config {
    let mut config = Config::default();
    config.database.url =
        app::db::DatabaseUrl::parse(&format!("sqlite:{}", dir.join("bench.db").display())).expect("url");
    config.server.port = 0;
    config.kubernetes.kubeconfig = Some(peer("HEIMDALL_TEST_KUBECONFIG").into());
    config
}

/// Polls `<base>/readyz` every 20 ms until it answers 200.
pub async fn until_ready(client: &reqwest::Client, base: &str) {
    loop {
        let ready = client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200);
        if ready {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
