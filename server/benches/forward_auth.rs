//! ForwardAuth decisions under load on loopback, side by side with a bare hyper "hello" server
//! as the ceiling, in one run: `scripts/heimdall bench` starts the API server and runs this.
//! Not a test: it prints requests/s, p50 and p99 per target (the README's table).
//!
//! - `hello`: hyper answering "hello" — what this machine's loopback and this load generator
//!   allow at all.
//! - `carta`: `GET /forward-auth/carta` with a live session in `X-Forwarded-Uri` (a hit in the
//!   watched session index).
//! - `session`: `GET /forward-auth/session` with a signed-in session cookie (a hit in the
//!   session-mode cache).
//!
//! The load generator is in this file: `HEIMDALL_BENCH_CONNECTIONS` keep-alive HTTP/1.1
//! connections (16 by default), each sending its next request when the last answer is read,
//! for `HEIMDALL_BENCH_SECONDS` (10) after a 2 s warm-up. The servers, the generator and the
//! API server share the machine's cores.

// Printing the figures is what a bench binary is for.
#![allow(clippy::print_stdout)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::server::conn::http1 as server_http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use k8s_openapi::api::core::v1::{Namespace, Service};
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::api::{DeleteParams, PostParams};
use kube::{Api, Client};
use serde::Deserialize;
use serde_json::json;

use app::identity::Role;
use app::identity::store::NewUser;
use heimdall::startup::Application;

mod support;
use support::{admin_client, bench_config, until_ready};

const NAMESPACE: &str = "heimdall-bench-carta";
const SESSION: &str = "benchsession1";
const WARM_UP: Duration = Duration::from_secs(2);

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

/// One request as the generator sends it.
#[derive(Clone)]
struct Target {
    addr: SocketAddr,
    path: &'static str,
    headers: Vec<(&'static str, String)>,
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
            while Instant::now() < deadline {
                let mut request = hyper::Request::get(target.path).header("host", target.addr.to_string());
                for (name, value) in &target.headers {
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

/// The ceiling: hyper answering "hello", nothing else.
async fn hello_server() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let service = service_fn(|_request| async {
                    Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::from_static(b"hello"))))
                });
                let _ = server_http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
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
    let service: Service = serde_json::from_value(json!({
        "metadata": { "name": "carta-bench", "labels": { "canfar-net-sessionID": SESSION, "canfar-net-userid": "bench-user" } },
        "spec": { "clusterIP": "None", "ports": [{ "port": 6901 }] },
    }))
    .expect("service");
    Api::<Service>::namespaced(admin.clone(), NAMESPACE)
        .create(&PostParams::default(), &service)
        .await
        .expect("service");
}

#[tokio::main]
async fn main() {
    let connections = setting("HEIMDALL_BENCH_CONNECTIONS", 16) as usize;
    let duration = Duration::from_secs(setting("HEIMDALL_BENCH_SECONDS", 10));
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

    // A user with a browser session: its cookie is what session mode is asked about.
    let password = "bench-user-password-123";
    let hash = app::identity::hash_password(secrecy::SecretString::from(password.to_owned()))
        .await
        .expect("hash");
    state
        .identity
        .store()
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
    let cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .split(';')
        .next()
        .expect("name=value")
        .to_owned();

    let targets = [
        (
            "hello (bare hyper)",
            Target {
                addr: hello_server().await,
                path: "/",
                headers: Vec::new(),
            },
        ),
        (
            "CARTA mode (session index hit)",
            Target {
                addr,
                path: "/forward-auth/carta",
                headers: vec![("x-forwarded-uri", format!("/session/carta/{SESSION}/"))],
            },
        ),
        (
            "session mode (cookie, cache hit)",
            Target {
                addr,
                path: "/forward-auth/session",
                headers: vec![
                    ("cookie", cookie),
                    ("x-forwarded-host", "app.example.com".into()),
                    ("x-forwarded-uri", "/dashboards".into()),
                ],
            },
        ),
    ];
    println!(
        "{connections} connections, {} s per target after a {} s warm-up, {} cores\n",
        duration.as_secs(),
        WARM_UP.as_secs(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("| target | requests/s | p50 | p99 | of the ceiling |");
    println!("|---|---:|---:|---:|---:|");
    let mut ceiling = None;
    for (name, target) in &targets {
        load(target, connections, WARM_UP).await;
        let figures = load(target, connections, duration).await;
        let rps = figures.per_second();
        let ceiling = *ceiling.get_or_insert(rps);
        println!(
            "| {name} | {:.0} | {:.3} ms | {:.3} ms | {:.0} % |",
            rps,
            figures.p50.as_secs_f64() * 1000.0,
            figures.p99.as_secs_f64() * 1000.0,
            rps / ceiling * 100.0
        );
        eprintln!(
            "{name}: {} requests in {:.1} s",
            figures.requests,
            figures.elapsed.as_secs_f64()
        );
    }
    let _ = Api::<Namespace>::all(admin)
        .delete(NAMESPACE, &DeleteParams::default())
        .await;
}
