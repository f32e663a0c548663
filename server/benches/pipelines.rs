//! Pipelines under load: `scripts/heimdall bench pipelines` starts PostgreSQL and runs this.
//! Not a test: it prints figures (the README's table), then #27's goals (and the design's
//! fan-out budget) with their medians, and exits non-zero when one is missed by more than the
//! spread between runs.
//!
//! - **Fan-out**: `HEIMDALL_BENCH_SUBSCRIBERS` (1,000) live streams on one pipeline, each its own
//!   connection; a gate decision is sent and the time until each stream has it is recorded
//!   (from just before the approve request to the event read by the stream). Five rounds.
//! - **Creation**: pipelines created through `POST /api/v1/jobs` by 16 concurrent clients for
//!   `HEIMDALL_BENCH_SECONDS` (5), on SQLite and on PostgreSQL.
//! - **Listing**: then (topped up to at least 1,000 pipelines) `GET /api/v1/jobs` 200 times,
//!   `HEIMDALL_BENCH_RUNS` (3) times.
//!
//! Everything shares the machine's cores: the server, the 1,000 streams and the clients.

#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};

use heimdall::config::Config;
use heimdall::startup::Application;

mod support;
use support::{Goal, Runs, Want};

const TOKEN: &str = "bench-admin-token";

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn config(url: &str) -> Config {
    let mut config = Config::default();
    config.database.url = app::db::DatabaseUrl::parse(url).expect("url");
    config.database.max_connections = 20;
    config.server.port = 0;
    config.kubernetes.enabled = false;
    config.auth.admin_token = Some(TOKEN.into());
    config.pipelines.rate_limit.jobs_per_minute = 1_000_000;
    config.pipelines.rate_limit.requests_per_minute = 1_000_000;
    config.pipelines.rate_limit.burst = 1_000_000;
    config
}

async fn serve(config: &Config) -> String {
    let app = Application::build(config).await.expect("builds");
    let base = format!("http://{}", app.local_addr().expect("addr"));
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    base
}

fn client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {TOKEN}").parse().expect("header"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .pool_max_idle_per_host(2000)
        .build()
        .expect("client")
}

async fn gated_pipeline(client: &reqwest::Client, base: &str) -> String {
    let created: Value = client
        .post(format!("{base}/api/v1/jobs"))
        // The admin token both creates and approves here: its gate allows that (by default the
        // token does not approve what it requested).
        .json(&json!({ "slug": "bench", "intent": "i", "stages": ["deploy"],
                       "gates": { "deploy": { "allow_self_approval": true } } }))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("JSON");
    let id = created["id"].as_str().expect("id").to_owned();
    client
        .post(format!("{base}/api/v1/jobs/{id}/claim"))
        .send()
        .await
        .expect("claim");
    id
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// The p99 of a decision reaching every stream, in ms.
async fn fan_out(base: &str, subscribers: usize) -> f64 {
    let rounds = 5;
    let mut latencies = Vec::new();
    for _ in 0..rounds {
        let control = client();
        let id = gated_pipeline(&control, base).await;
        let ready = Arc::new(tokio::sync::Barrier::new(subscribers + 1));
        let start = Arc::new(tokio::sync::OnceCell::<Instant>::new());
        let mut tasks = Vec::new();
        for _ in 0..subscribers {
            // One connection each, as a browser tab would have.
            let (ready, start, url) = (
                ready.clone(),
                start.clone(),
                format!("{base}/api/v1/jobs/{id}/events/stream"),
            );
            tasks.push(tokio::spawn(async move {
                let response = client().get(url).send().await.expect("stream");
                let mut body = response.bytes_stream();
                let mut text = String::new();
                let mut waited = false;
                loop {
                    let chunk = body.next().await.expect("open").expect("bytes");
                    text.push_str(&String::from_utf8_lossy(&chunk));
                    if !waited && text.contains("gate_opened") {
                        waited = true;
                        ready.wait().await;
                    }
                    if text.contains("gate_approved") {
                        return start.get().expect("started").elapsed();
                    }
                }
            }));
        }
        ready.wait().await;
        start.set(Instant::now()).expect("once");
        let approved = control
            .post(format!("{base}/api/v1/jobs/{id}/approve"))
            .json(&json!({ "decision": "approved", "stage": "deploy", "operator": "bench" }))
            .send()
            .await
            .expect("approve");
        assert_eq!(approved.status(), 200);
        for task in tasks {
            latencies.push(task.await.expect("subscriber"));
        }
    }
    latencies.sort();
    println!(
        "fan-out: a decision to {subscribers} live streams, {rounds} rounds: p50 {:.1} ms, p99 {:.1} ms, last {:.1} ms",
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().expect("samples").as_secs_f64() * 1e3,
    );
    percentile(&latencies, 0.99).as_secs_f64() * 1e3
}

/// How many pipelines it created.
async fn creation(name: &str, base: &str, seconds: u64) -> usize {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let workers: Vec<_> = (0..16)
        .map(|_| {
            let (client, url) = (client(), format!("{base}/api/v1/jobs"));
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let response = client
                        .post(&url)
                        .json(&json!({ "slug": "bench", "intent": "i" }))
                        .send()
                        .await
                        .expect("create");
                    assert_eq!(response.status(), 201);
                    latencies.push(t.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for w in workers {
        latencies.extend(w.await.expect("worker"));
    }
    latencies.sort();
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "creation on {name}: {:.0} pipelines/s (16 clients, {seconds} s), p50 {:.1} ms, p99 {:.1} ms",
        latencies.len() as f64 / elapsed,
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
    );
    latencies.len()
}

/// The operator console's list (`GET /api/v1/jobs`: the newest 100 with their gates and
/// artifacts) over the `pipelines` there are, read 200 times one after another: the p50 in ms.
async fn listing(name: &str, base: &str, pipelines: usize) -> f64 {
    let client = client();
    let url = format!("{base}/api/v1/jobs");
    let mut latencies = Vec::with_capacity(200);
    let mut rows = 0;
    for _ in 0..200 {
        let t = Instant::now();
        let response = client.get(&url).send().await.expect("list");
        assert_eq!(response.status(), 200);
        let body: Vec<Value> = response.json().await.expect("JSON");
        latencies.push(t.elapsed());
        rows = body.len();
    }
    latencies.sort();
    println!(
        "listing on {name}: GET /api/v1/jobs ({rows} rows of {pipelines} pipelines) p50 {:.1} ms, p99 {:.1} ms (200 calls)",
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
    );
    percentile(&latencies, 0.5).as_secs_f64() * 1e3
}

/// Pipelines created straight through the API until there are at least `at_least` (the
/// listing's goal is stated for 1,000).
async fn fill(base: &str, mut have: usize, at_least: usize) -> usize {
    let client = client();
    while have < at_least {
        let response = client
            .post(format!("{base}/api/v1/jobs"))
            .json(&json!({ "slug": "bench", "intent": "i" }))
            .send()
            .await
            .expect("create");
        assert_eq!(response.status(), 201);
        have += 1;
    }
    have
}

/// Fan-out, creation, then the listing `HEIMDALL_BENCH_RUNS` times: the goals' figures.
async fn on(name: &'static str, base: &str, goals: &mut Vec<Goal>) {
    let subscribers = usize::try_from(setting("HEIMDALL_BENCH_SUBSCRIBERS", 1000)).unwrap_or(1000);
    let fan_out_p99 = fan_out(base, subscribers).await;
    let seconds = setting("HEIMDALL_BENCH_SECONDS", 5);
    // The fan-out's pipelines, then the created ones.
    let pipelines = fill(base, 5 + creation(name, base, seconds).await, 1000).await;
    let mut p50s = Vec::new();
    for _ in 0..support::runs() {
        p50s.push(listing(name, base, pipelines).await);
    }
    goals.push(Goal {
        name: format!("{name}: a gate decision reaching {subscribers} streams, p99 (one run of 5 rounds)"),
        runs: Runs::new(vec![fan_out_p99]),
        want: Want::AtMost,
        limit: 200.0,
        beside: "the design's budget".into(),
        unit: "ms",
    });
    goals.push(Goal {
        name: format!("{name}: `GET /api/v1/jobs` over {pipelines} pipelines, p50"),
        runs: Runs::new(p50s),
        want: Want::AtMost,
        limit: 20.0,
        beside: "—".into(),
        unit: "ms",
    });
}

#[tokio::main]
async fn main() {
    let dir = tempfile_dir();
    let sqlite = format!("sqlite:{}", dir.join("bench.db").display());
    let mut goals = Vec::new();
    on("SQLite", &serve(&config(&sqlite)).await, &mut goals).await;
    let admin = std::env::var("HEIMDALL_TEST_POSTGRES_URL")
        .expect("HEIMDALL_TEST_POSTGRES_URL is not set: run `scripts/heimdall bench pipelines`");
    let postgres = fresh_postgres(&admin).await;
    on("PostgreSQL", &serve(&config(&postgres)).await, &mut goals).await;
    let _ = std::fs::remove_dir_all(&dir);
    if !support::report(&goals) {
        eprintln!("a pipelines goal was missed by more than this machine's run-to-run spread");
        std::process::exit(1);
    }
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("heimdall-bench-pipelines-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A fresh database in the bench's PostgreSQL.
async fn fresh_postgres(admin: &str) -> String {
    use sqlx::{Connection, Executor};
    let name = format!("heimdall_bench_{}", std::process::id());
    let mut conn = sqlx::PgConnection::connect(admin).await.expect("PostgreSQL");
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create database");
    let mut url = url::Url::parse(admin).expect("URL");
    url.set_path(&name);
    url.to_string()
}
