//! What the benches share: the peers `scripts/heimdall bench` started, an admin client for the
//! bench's own set-up, Heimdall's configuration on a throw-away SQLite file, and waiting for
//! `/readyz`; figures over several runs and the goals they are held to.

// Each bench uses part of this module.
#![allow(dead_code)]

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

/// Figures of the same measure over several runs: the median is reported, the spread
/// (largest minus smallest) is how far this machine moved it between runs.
#[derive(Debug, Clone)]
pub struct Runs(Vec<f64>);

impl Runs {
    pub fn new(values: Vec<f64>) -> Self {
        assert!(!values.is_empty(), "a measure needs at least one run");
        Self(values)
    }

    pub fn median(&self) -> f64 {
        let mut sorted = self.0.clone();
        sorted.sort_by(f64::total_cmp);
        let mid = sorted.len() / 2;
        if sorted.len().is_multiple_of(2) {
            (sorted[mid - 1] + sorted[mid]) / 2.0
        } else {
            sorted[mid]
        }
    }

    pub fn spread(&self) -> f64 {
        let max = self.0.iter().copied().fold(f64::MIN, f64::max);
        let min = self.0.iter().copied().fold(f64::MAX, f64::min);
        max - min
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// Which side of its limit a goal wants its figure on.
#[derive(Debug, Clone, Copy)]
pub enum Want {
    AtLeast,
    AtMost,
}

/// One goal of the issue the bench measures, with the figure the run got and the limit.
pub struct Goal {
    pub name: String,
    pub runs: Runs,
    pub want: Want,
    pub limit: f64,
    /// The figure the goal is measured against in the same run (the bare server, the seed), as
    /// text: shown beside the figure.
    pub beside: String,
    pub unit: &'static str,
}

/// How a goal came out.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Met,
    /// Missed by no more than the spread between runs: this machine cannot tell.
    WithinSpread,
    Missed,
}

impl Goal {
    pub fn verdict(&self) -> Verdict {
        let (median, spread) = (self.runs.median(), self.runs.spread());
        let met = |value: f64| match self.want {
            Want::AtLeast => value >= self.limit,
            Want::AtMost => value <= self.limit,
        };
        let benefit = match self.want {
            Want::AtLeast => median + spread,
            Want::AtMost => median - spread,
        };
        if met(median) {
            Verdict::Met
        } else if met(benefit) {
            Verdict::WithinSpread
        } else {
            Verdict::Missed
        }
    }
}

/// Prints the goals as a table (median, spread, the figure beside, the goal, the verdict) and
/// returns whether every goal was met or missed by less than its spread: the bench exits
/// non-zero otherwise.
pub fn report(goals: &[Goal]) -> bool {
    println!("\n| goal | median (spread) over runs | beside it, same run | goal | verdict |");
    println!("|---|---:|---:|---:|---|");
    let mut all_met = true;
    for goal in goals {
        let verdict = goal.verdict();
        all_met &= verdict != Verdict::Missed;
        let want = match goal.want {
            Want::AtLeast => "≥",
            Want::AtMost => "≤",
        };
        println!(
            "| {} | {} {unit} (± {} over {} runs) | {} | {want} {} {unit} | {} |",
            goal.name,
            figure(goal.runs.median()),
            figure(goal.runs.spread()),
            goal.runs.len(),
            goal.beside,
            figure(goal.limit),
            match verdict {
                Verdict::Met => "met",
                Verdict::WithinSpread => "missed, within the run-to-run spread",
                Verdict::Missed => "**MISSED**",
            },
            unit = goal.unit,
        );
    }
    all_met
}

/// A figure with the precision its size deserves.
pub fn figure(value: f64) -> String {
    if value.abs() >= 100.0 {
        format!("{value:.0}")
    } else if value.abs() >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// How many runs each measure gets (`HEIMDALL_BENCH_RUNS`, 3 unless set).
pub fn runs() -> usize {
    std::env::var("HEIMDALL_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(3)
}

/// A bare hyper HTTP/1.1 server on a free loopback port answering every request with
/// `answer(request)`: the ceiling a bench compares Heimdall with (nothing to route, decide or
/// log). Its connections set no-delay, as Heimdall's do.
pub async fn bare_server<F>(answer: F) -> std::net::SocketAddr
where
    F: Fn(&hyper::Request<hyper::body::Incoming>) -> hyper::Response<http_body_util::Full<bytes::Bytes>>
        + Clone
        + Send
        + Sync
        + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let answer = answer.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let response = answer(&request);
                    async move { Ok::<_, std::convert::Infallible>(response) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}
