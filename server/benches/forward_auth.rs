//! ForwardAuth decisions under load on loopback, side by side with a bare hyper "hello" server
//! as the ceiling, in one run: `scripts/heimdall bench` starts the API server and runs this.
//! Not a test: it prints requests/s, p50 and p99 per target (the README's table), then #27's
//! goals with their medians over `HEIMDALL_BENCH_RUNS` rounds (3), and exits non-zero when a
//! goal is missed by more than the spread between rounds.
//!
//! - `hello`: hyper answering "hello" — what this machine's loopback and this load generator
//!   allow at all.
//! - `carta`: `GET /forward-auth/carta` with a live session in `X-Forwarded-Uri` (a hit in the
//!   watched session index); `carta ×1,000`: each request names the next of 1,000 sessions.
//! - `session`: `GET /forward-auth/session` with a signed-in session cookie (a hit in the
//!   session-mode cache); `session ×1,000`: the next of 1,000 signed-in sessions each time.
//!
//! The load generator is in this file: 16 and then 64 keep-alive HTTP/1.1 connections
//! (`HEIMDALL_BENCH_CONNECTIONS` names one count instead), each sending its next request when
//! the last answer is read, for `HEIMDALL_BENCH_SECONDS` (5) after a 1 s warm-up; a round runs
//! every target once, so the ceiling each figure is compared with comes from the same minutes.
//! `HEIMDALL_BENCH_ONLY` (a target's first word: hello, carta, session) runs one target, for a
//! profiler. The servers, the generator and the API server share the machine's cores.

// Printing the figures is what a bench binary is for.
#![allow(clippy::print_stdout)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper_util::rt::TokioIo;
use k8s_openapi::api::core::v1::{Namespace, Service};
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::api::{DeleteParams, PostParams};
use kube::{Api, Client};
use serde::Deserialize;
use serde_json::json;

use app::identity::store::NewUser;
use app::identity::{LoginMethod, Role};
use app::request::RequestMeta;
use heimdall::startup::Application;

mod support;
use support::{Goal, Runs, Want, admin_client, bench_config, until_ready};

const NAMESPACE: &str = "heimdall-bench-carta";
/// How many distinct sessions the "×1,000" targets go through.
const DISTINCT: usize = 1_000;
const WARM_UP: Duration = Duration::from_secs(1);

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What one target's run measured.
struct Figures {
    requests: usize,
    elapsed: Duration,
    p50: Duration,
    p99: Duration,
}

impl Figures {
    fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }
}

/// One request as the generator sends it: the headers of request `n` are `headers[n % len]`.
#[derive(Clone)]
struct Target {
    addr: SocketAddr,
    path: &'static str,
    headers: std::sync::Arc<Vec<Vec<(&'static str, String)>>>,
}

/// `connections` connections, each request after the last answer, for `duration`.
async fn load(target: &Target, connections: usize, duration: Duration) -> Figures {
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(target.addr)
                .await
                .expect("connect");
            stream.set_nodelay(true).expect("nodelay");
            let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .expect("handshake");
            tokio::spawn(connection);
            let mut latencies = Vec::with_capacity(100_000);
            // Connections start at different sessions of the list.
            let mut n = rand_start(target.headers.len());
            while Instant::now() < deadline {
                let mut request = hyper::Request::get(target.path).header("host", target.addr.to_string());
                n += 1;
                for (name, value) in &target.headers[n % target.headers.len()] {
                    request = request.header(*name, value);
                }
                let request = request.body(Empty::<Bytes>::new()).expect("request");
                let sent = Instant::now();
                let response = sender.send_request(request).await.expect("response");
                assert_eq!(
                    response.status(),
                    200,
                    "{} answered {}",
                    target.path,
                    response.status()
                );
                response.into_body().collect().await.expect("body");
                latencies.push(sent.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("connection task"));
    }
    let elapsed = started.elapsed();
    all.sort_unstable();
    let at = |p: f64| all[((all.len() as f64 - 1.0) * p).round() as usize];
    Figures {
        requests: all.len(),
        elapsed,
        p50: at(0.50),
        p99: at(0.99),
    }
}

/// Where in a list of `len` a connection starts.
fn rand_start(len: usize) -> usize {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(Instant::now()) as usize % len.max(1)
}

/// The ceiling: hyper answering "hello", nothing else.
async fn hello_server() -> SocketAddr {
    support::bare_server(|_| hyper::Response::new(Full::new(Bytes::from_static(b"hello")))).await
}

/// A bare hyper server answering every request with what `request` got from Heimdall: its
/// status, its headers (but `date` and `content-length`, which hyper writes) and its body.
async fn replay_server(request: reqwest::RequestBuilder) -> SocketAddr {
    let answer = request.send().await.expect("an answer to copy");
    assert_eq!(answer.status(), 200, "the answer to copy is a pass");
    let status = answer.status().as_u16();
    let mut headers = answer.headers().clone();
    headers.remove("date");
    headers.remove("content-length");
    let body = answer.bytes().await.expect("the body to copy");
    support::bare_server(move |_| {
        let mut response = hyper::Response::new(Full::new(body.clone()));
        *response.status_mut() = hyper::StatusCode::from_u16(status).expect("status");
        *response.headers_mut() = headers.clone();
        response
    })
    .await
}

/// A namespace with one CARTA session and the shipped RoleBinding moved into it.
async fn carta_namespace(admin: &Client) {
    let namespaces = Api::<Namespace>::all(admin.clone());
    let _ = namespaces.delete(NAMESPACE, &DeleteParams::default()).await;
    let ns: Namespace = serde_json::from_value(json!({ "metadata": { "name": NAMESPACE } })).expect("ns");
    for _ in 0..300 {
        match namespaces.create(&PostParams::default(), &ns).await {
            Ok(_) => break,
            // A previous run's namespace still terminating.
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/rbac/forward-auth-carta.yaml");
    let text = std::fs::read_to_string(path).expect("the CARTA RBAC manifest");
    let mut binding: RoleBinding = serde_yaml::Deserializer::from_str(&text)
        .filter_map(|doc| {
            let value = serde_yaml::Value::deserialize(doc).ok()?;
            (value.get("kind")?.as_str()? == "RoleBinding").then(|| serde_yaml::from_value(value).ok())?
        })
        .next()
        .expect("a RoleBinding");
    binding.metadata.namespace = Some(NAMESPACE.into());
    Api::<RoleBinding>::namespaced(admin.clone(), NAMESPACE)
        .create(&PostParams::default(), &binding)
        .await
        .expect("bind");
    // One Service per session, as the CARTA sidecar's cluster has one per desktop session.
    let services = Api::<Service>::namespaced(admin.clone(), NAMESPACE);
    for i in 1..=DISTINCT {
        let service: Service = serde_json::from_value(json!({
            "metadata": {
                "name": format!("carta-bench-{i}"),
                "labels": { "canfar-net-sessionID": format!("benchsession{i}"), "canfar-net-userid": format!("bench-user-{i}") },
            },
            "spec": { "clusterIP": "None", "ports": [{ "port": 6901 }] },
        }))
        .expect("service");
        services
            .create(&PostParams::default(), &service)
            .await
            .expect("service");
    }
}

#[tokio::main]
async fn main() {
    let duration = Duration::from_secs(setting("HEIMDALL_BENCH_SECONDS", 5));
    let admin = admin_client().await;
    carta_namespace(&admin).await;

    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = bench_config(dir.path());
    config.joblocator_k8s_operator.enabled = false;
    config.forward_auth.carta.enabled = true;
    config.forward_auth.carta.target_namespace = NAMESPACE.into();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let app = Application::build_with_listener(&config, listener)
        .await
        .expect("builds");
    let addr = app.local_addr().expect("addr");
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let client = reqwest::Client::new();
    let base = format!("http://{addr}");
    until_ready(&client, &base).await;

    // A user with browser sessions: their cookies are what session mode is asked about. The
    // first through the login form, the rest opened directly (a login hashes a password: a
    // thousand of them would be this bench's longest part).
    let password = "bench-user-password-123";
    let hash = app::identity::hash_password(secrecy::SecretString::from(password.to_owned()))
        .await
        .expect("hash");
    let store = state.identity.store();
    store
        .insert_user(&NewUser {
            username: "bench-user".into(),
            email: Some("bench-user@example.test".into()),
            display_name: "Bench".into(),
            password_hash: Some(hash),
            role: Role::Developer,
        })
        .await
        .expect("user");
    let signed_in = client
        .post(format!("{base}/auth/cookie/login"))
        .form(&[("username", "bench-user"), ("password", password)])
        .send()
        .await
        .expect("sign in");
    assert_eq!(signed_in.status(), 204, "sign-in");
    let name_value = |set_cookie: &str| set_cookie.split(';').next().expect("name=value").to_owned();
    let cookie = name_value(signed_in.headers()["set-cookie"].to_str().expect("cookie"));
    let user = store.find_user_by_username("bench-user").await.expect("the user");
    let meta = RequestMeta {
        ip: "127.0.0.1".into(),
        user_agent: "bench".into(),
        host: None,
    };
    let mut cookies = Vec::with_capacity(DISTINCT);
    for _ in 0..DISTINCT {
        let set_cookie = state
            .identity
            .open_cookie_session(&user, LoginMethod::Password, &meta)
            .await
            .expect("a session");
        cookies.push(name_value(&set_cookie));
    }
    let session_headers = |cookie: String| {
        vec![
            ("cookie", cookie),
            ("x-forwarded-host", "app.example.com".into()),
            ("x-forwarded-uri", "/dashboards".into()),
        ]
    };
    let carta_headers = |i: usize| vec![("x-forwarded-uri", format!("/session/carta/benchsession{i}/"))];
    let target = |addr, path, headers: Vec<Vec<(&'static str, String)>>| Target {
        addr,
        path,
        headers: Arc::new(headers),
    };
    let hello = hello_server().await;
    // The same ceiling sending what a decision sends (its status, headers and body, copied
    // from one real answer): the part of the distance that is the answer's bytes — the
    // security headers, the JSON — on both sides of this machine's loopback, not the work.
    let carta_replay = replay_server(
        client
            .get(format!("{base}/forward-auth/carta"))
            .header("x-forwarded-uri", "/session/carta/benchsession1/"),
    )
    .await;
    let session_replay = replay_server(
        client.get(format!("{base}/forward-auth/session")).headers(
            session_headers(cookie.clone())
                .into_iter()
                .map(|(n, v)| (n.parse().expect("name"), v.parse().expect("value")))
                .collect(),
        ),
    )
    .await;
    let targets = [
        (
            "hello",
            "hello (bare hyper)",
            target(hello, "/", vec![Vec::new()]),
        ),
        (
            "carta",
            "CARTA mode (session index hit)",
            target(addr, "/forward-auth/carta", vec![carta_headers(1)]),
        ),
        (
            "carta",
            "CARTA mode, 1,000 distinct sessions",
            target(
                addr,
                "/forward-auth/carta",
                (1..=DISTINCT).map(carta_headers).collect(),
            ),
        ),
        (
            "session",
            "session mode (cookie, cache hit)",
            target(addr, "/forward-auth/session", vec![session_headers(cookie)]),
        ),
        (
            "session",
            "session mode, 1,000 distinct sessions",
            target(
                addr,
                "/forward-auth/session",
                cookies.into_iter().map(session_headers).collect(),
            ),
        ),
        (
            "carta",
            "bare hyper sending CARTA's answer",
            target(carta_replay, "/", vec![Vec::new()]),
        ),
        (
            "session",
            "bare hyper sending session mode's answer",
            target(session_replay, "/", vec![Vec::new()]),
        ),
    ];
    let only = std::env::var("HEIMDALL_BENCH_ONLY").ok();
    let targets: Vec<_> = targets
        .into_iter()
        .filter(|(kind, ..)| only.as_deref().is_none_or(|only| only == *kind))
        .collect();
    let counts = match std::env::var("HEIMDALL_BENCH_CONNECTIONS") {
        Ok(count) => vec![count.parse().expect("HEIMDALL_BENCH_CONNECTIONS: a count")],
        Err(_) => vec![16, 64],
    };
    let rounds = support::runs();
    println!(
        "{} s per target after a {} s warm-up, {rounds} rounds, {} cores\n",
        duration.as_secs(),
        WARM_UP.as_secs(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("| target | connections | round | requests/s | p50 | p99 | of the round's ceiling |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    // (connections, target) → each round's figures.
    let mut measured: Vec<Vec<Vec<Figures>>> = Vec::new();
    for &connections in &counts {
        let mut per_target: Vec<Vec<Figures>> = targets.iter().map(|_| Vec::new()).collect();
        for round in 1..=rounds {
            let mut ceiling = None;
            for ((_, name, target), figures) in targets.iter().zip(&mut per_target) {
                load(target, connections, WARM_UP).await;
                let got = load(target, connections, duration).await;
                let rps = got.per_second();
                let ceiling = *ceiling.get_or_insert(rps);
                println!(
                    "| {name} | {connections} | {round} | {rps:.0} | {:.3} ms | {:.3} ms | {:.0} % |",
                    got.p50.as_secs_f64() * 1000.0,
                    got.p99.as_secs_f64() * 1000.0,
                    rps / ceiling * 100.0
                );
                figures.push(got);
            }
        }
        measured.push(per_target);
    }
    let _ = Api::<Namespace>::all(admin)
        .delete(NAMESPACE, &DeleteParams::default())
        .await;
    if only.is_some() {
        return;
    }
    let mut goals = Vec::new();
    for (&connections, per_target) in counts.iter().zip(&measured) {
        let ceiling = &per_target[0];
        let rate = |figures: &[Figures]| Runs::new(figures.iter().map(Figures::per_second).collect());
        // Targets 1–4 are Heimdall's; 5 and 6 the ceilings sending their answers.
        for ((_, name, _), figures) in targets.iter().zip(per_target).skip(1).take(4) {
            let share = Runs::new(
                figures
                    .iter()
                    .zip(ceiling)
                    .map(|(f, c)| f.per_second() / c.per_second() * 100.0)
                    .collect(),
            );
            goals.push(Goal {
                name: format!("{name}, {connections} connections: share of the bare server's requests/s"),
                runs: share,
                want: Want::AtLeast,
                limit: 85.0,
                beside: format!(
                    "{} /s vs bare {} /s",
                    support::figure(rate(figures).median()),
                    support::figure(rate(ceiling).median())
                ),
                unit: "%",
            });
            goals.push(Goal {
                name: format!("{name}, {connections} connections: p99"),
                runs: Runs::new(figures.iter().map(|f| f.p99.as_secs_f64() * 1000.0).collect()),
                want: Want::AtMost,
                limit: 1.0,
                beside: format!(
                    "bare {} ms",
                    support::figure(
                        Runs::new(ceiling.iter().map(|f| f.p99.as_secs_f64() * 1000.0).collect()).median()
                    )
                ),
                unit: "ms",
            });
        }
        // 1,000 distinct sessions at the rate of one: targets 1/2 (CARTA) and 3/4 (session).
        for (one, many, mode) in [(1, 2, "CARTA"), (3, 4, "session")] {
            let ratio = Runs::new(
                per_target[many]
                    .iter()
                    .zip(&per_target[one])
                    .map(|(m, o)| m.per_second() / o.per_second() * 100.0)
                    .collect(),
            );
            goals.push(Goal {
                name: format!("{mode} mode, {connections} connections: 1,000 distinct sessions' requests/s, as a share of one's"),
                runs: ratio,
                want: Want::AtLeast,
                limit: 100.0,
                beside: format!(
                    "{} /s vs {} /s",
                    support::figure(rate(&per_target[many]).median()),
                    support::figure(rate(&per_target[one]).median())
                ),
                unit: "%",
            });
        }
    }
    // Not goals (#27 measures against "hello"): how far each mode is from a server that does
    // nothing but send the same answer, and what sending that answer costs the bare server.
    println!(
        "\n| beside the goals, {} connections | median (spread) |",
        counts
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" / ")
    );
    println!("|---|---:|");
    for (&connections, per_target) in counts.iter().zip(&measured) {
        let share = |of: usize, to: usize| {
            let runs = Runs::new(
                per_target[of]
                    .iter()
                    .zip(&per_target[to])
                    .map(|(f, c)| f.per_second() / c.per_second() * 100.0)
                    .collect(),
            );
            format!(
                "{} % (± {})",
                support::figure(runs.median()),
                support::figure(runs.spread())
            )
        };
        for (mode, heimdall, replay) in [("CARTA", 1, 5), ("session", 3, 6)] {
            println!(
                "| {connections} connections: bare hyper sending {mode}'s answer, share of hello | {} |",
                share(replay, 0)
            );
            println!(
                "| {connections} connections: {mode} mode, share of the bare hyper sending its answer | {} |",
                share(heimdall, replay)
            );
        }
    }
    println!();
    if !support::report(&goals) {
        eprintln!("a ForwardAuth goal was missed by more than this machine's run-to-run spread");
        std::process::exit(1);
    }
}
