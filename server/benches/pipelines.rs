//! Pipelines under load: `scripts/heimdall bench pipelines` starts PostgreSQL and runs this.
//! Not a test: it prints figures (the README's table).
//!
//! - **Fan-out**: `HEIMDALL_BENCH_SUBSCRIBERS` (1,000) live streams on one pipeline, each its own
//!   connection; a gate decision is sent and the time until each stream has it is recorded
//!   (from just before the approve request to the event read by the stream). Five rounds.
//! - **Creation**: pipelines created through `POST /api/v1/jobs` by 16 concurrent clients for
//!   `HEIMDALL_BENCH_SECONDS` (5), on SQLite and on PostgreSQL.
//! - **Listing**: then `GET /api/v1/jobs` 200 times over the thousands of pipelines creation left.
//!
//! Everything shares the machine's cores: the server, the 1,000 streams and the clients.

#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};

use heimdall::config::Config;
use heimdall::startup::Application;

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

async fn fan_out(base: &str, subscribers: usize) {
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
}

async fn creation(name: &str, base: &str, seconds: u64) {
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
}

/// The operator console's list (`GET /api/v1/jobs`: the newest 100 with their gates and
/// artifacts) with however many pipelines `creation` left, read 200 times one after another.
async fn listing(name: &str, base: &str) {
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
        "listing on {name}: GET /api/v1/jobs ({rows} rows of the pipelines created above) p50 {:.1} ms, p99 {:.1} ms (200 calls)",
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
    );
}

#[tokio::main]
async fn main() {
    let dir = tempfile_dir();
    let sqlite = format!("sqlite:{}", dir.join("bench.db").display());
    let base = serve(&config(&sqlite)).await;
    let subscribers = usize::try_from(setting("HEIMDALL_BENCH_SUBSCRIBERS", 1000)).unwrap_or(1000);
    fan_out(&base, subscribers).await;
    let seconds = setting("HEIMDALL_BENCH_SECONDS", 5);
    creation("SQLite", &base, seconds).await;
    listing("SQLite", &base).await;
    let admin = std::env::var("HEIMDALL_TEST_POSTGRES_URL")
        .expect("HEIMDALL_TEST_POSTGRES_URL is not set: run `scripts/heimdall bench pipelines`");
    let postgres = fresh_postgres(&admin).await;
    let base = serve(&config(&postgres)).await;
    fan_out(&base, subscribers).await;
    creation("PostgreSQL", &base, seconds).await;
    listing("PostgreSQL", &base).await;
    let _ = std::fs::remove_dir_all(&dir);
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
