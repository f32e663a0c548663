//! The ForwardAuth bypass suite: what an attacker sends, as rows, through a real nginx
//! (Debian's, with `end2end/peers/nginx.conf` exactly as shipped) and through the header
//! shapes Traefik's `forwardAuth` sends. Every refused row must answer 403 (or be refused by
//! the proxy itself, which the row says); every allowed row reaches the app. Requests are
//! written byte for byte over TCP, so no client library normalises the attack away.

use std::path::PathBuf;
use std::process::{Child, Command};

use app::identity::Role;
use heimdall::config::AccessRuleConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::support::{create_service, granted_namespace, ready_carta};
use crate::cluster_support::delete_namespaces;
use crate::helpers::{TestApp, bare_client, sign_in};

/// nginx running the shipped configuration in front of a tiny app, on free ports.
struct Nginx {
    child: Child,
    front: u16,
    _dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Nginx {
    async fn start(heimdall_port: u16) -> Self {
        let bin = app::testing::peer_env("HEIMDALL_TEST_NGINX");
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("tmp")).expect("tmp");
        let (front, echo) = (free_port(), free_port());
        let shipped = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../end2end/peers/nginx.conf");
        let conf = std::fs::read_to_string(shipped)
            .expect("end2end/peers/nginx.conf")
            .replace("__DIR__", &dir.path().display().to_string())
            .replace("__FRONT_PORT__", &front.to_string())
            .replace("__ECHO_PORT__", &echo.to_string())
            .replace("__HEIMDALL_PORT__", &heimdall_port.to_string())
            // In the foreground, so the test owns the process.
            .replace("daemon on;", "daemon off;");
        let conf_path = dir.path().join("nginx.conf");
        std::fs::write(&conf_path, conf).expect("write nginx.conf");
        let child = Command::new(bin)
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(&conf_path)
            .arg("-e")
            .arg(dir.path().join("error.log"))
            .spawn()
            .expect("start nginx");
        // Until it accepts connections (it binds before serving; bounded, not timed).
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", front)).await.is_ok() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        Self {
            child,
            front,
            _dir: dir,
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // TERM lets the master take its worker with it.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

/// One raw HTTP/1.1 request: `(status, body)`.
async fn raw(port: u16, request: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("read");
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn get(host: Option<&str>, path: &str, headers: &[(&str, &str)]) -> String {
    let mut request = format!("GET {path} HTTP/1.1\r\nConnection: close\r\n");
    if let Some(host) = host {
        request.push_str(&format!("Host: {host}\r\n"));
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request
}

fn rule(host: &str, prefix: &str, role: Option<Role>) -> AccessRuleConfig {
    AccessRuleConfig {
        host: Some(host.to_owned()),
        path_prefix: prefix.to_owned(),
        role,
        tenant: None,
    }
}

/// `admin.example.test` is for admins; on `app.example.test`, `/app/public` is open to anyone
/// signed in (a permissive rule first, the trap for normalisation) and `/app/admin` for admins.
fn rules() -> Vec<AccessRuleConfig> {
    vec![
        rule("admin.example.test", "/", Some(Role::Admin)),
        rule("app.example.test", "/app/public", None),
        rule("app.example.test", "/app/admin", Some(Role::Admin)),
    ]
}

async fn cookie_of(app: &TestApp, username: &str, password: &str) -> String {
    let response = sign_in(&bare_client(), &app.url("/auth/cookie/login"), username, password).await;
    assert_eq!(response.status(), 204, "sign-in of {username}");
    let set = response.headers()["set-cookie"].to_str().expect("Set-Cookie");
    set.split(';').next().expect("name=value").to_owned()
}

/// What a row expects.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Want {
    /// Reaches the app (nginx: 200 from the app; direct: 200 from Heimdall).
    Pass,
    /// Heimdall refuses (403).
    Refused,
    /// The proxy refuses it before Heimdall is asked (nginx's own 400, or the unnamed-host
    /// server's 421) — never the app.
    ProxyRefuses(u16),
}

#[tokio::test]
async fn session_mode_through_nginx_refuses_every_bypass() {
    let (admin_k8s, ns) = granted_namespace().await;
    create_service(&admin_k8s, &ns, "carta-good", "good1", Some("alice")).await;
    create_service(&admin_k8s, &ns, "carta-empty", "empty1", Some("")).await;
    create_service(&admin_k8s, &ns, "carta-two-a", "two1", Some("alice")).await;
    create_service(&admin_k8s, &ns, "carta-two-b", "two1", Some("mallory")).await;
    let app = ready_carta(&ns, |config| {
        config.forward_auth.rules = rules();
    })
    .await;
    let nginx = Nginx::start(app.addr.port()).await;
    let dev = app.create_user("bypass-dev", Role::Developer, None).await;
    let dev = cookie_of(&app, &dev.username, &dev.password).await;
    let admin = app.create_user("bypass-admin", Role::Admin, None).await;
    let admin = cookie_of(&app, &admin.username, &admin.password).await;

    use Want::*;
    let rows: Vec<(&str, Option<&str>, &str, &str, Want)> = vec![
        // (why, Host, path, cookie, expected)
        (
            "a developer on the app",
            Some("app.example.test"),
            "/app/",
            &dev,
            Pass,
        ),
        (
            "the open prefix",
            Some("app.example.test"),
            "/app/public/x",
            &dev,
            Pass,
        ),
        (
            "a look-alike of the admin prefix",
            Some("app.example.test"),
            "/app/administrator",
            &dev,
            Pass,
        ),
        (
            "an admin where admins go",
            Some("app.example.test"),
            "/app/admin/users",
            &admin,
            Pass,
        ),
        (
            "an admin on the admin host",
            Some("admin.example.test"),
            "/app/x",
            &admin,
            Pass,
        ),
        (
            "an admin through the trailing dot",
            Some("admin.example.test."),
            "/app/x",
            &admin,
            Pass,
        ),
        (
            "the admin host",
            Some("admin.example.test"),
            "/app/x",
            &dev,
            Refused,
        ),
        (
            "its trailing dot",
            Some("admin.example.test."),
            "/app/x",
            &dev,
            Refused,
        ),
        (
            "its upper case",
            Some("ADMIN.Example.TEST"),
            "/app/x",
            &dev,
            Refused,
        ),
        (
            "its default port",
            Some("admin.example.test:80"),
            "/app/x",
            &dev,
            Refused,
        ),
        (
            "an impossible port",
            Some("admin.example.test:99999"),
            "/app/x",
            &dev,
            Refused,
        ),
        (
            "a host nobody named",
            Some("elsewhere.example.test"),
            "/app/x",
            &dev,
            ProxyRefuses(421),
        ),
        (
            "the admin prefix",
            Some("app.example.test"),
            "/app/admin",
            &dev,
            Refused,
        ),
        (
            "below it",
            Some("app.example.test"),
            "/app/admin/users",
            &dev,
            Refused,
        ),
        (
            "upper case",
            Some("app.example.test"),
            "/app/ADMIN",
            &dev,
            Refused,
        ),
        (
            "mixed case below",
            Some("app.example.test"),
            "/app/Admin/x",
            &dev,
            Refused,
        ),
        (
            "an encoded letter",
            Some("app.example.test"),
            "/app/%61dmin",
            &dev,
            Refused,
        ),
        (
            "another encoded letter",
            Some("app.example.test"),
            "/app/adm%69n/",
            &dev,
            Refused,
        ),
        (
            "a doubled slash",
            Some("app.example.test"),
            "/app//admin",
            &dev,
            Refused,
        ),
        (
            "a leading doubled slash",
            Some("app.example.test"),
            "//app/admin",
            &dev,
            Refused,
        ),
        (
            "a parameter",
            Some("app.example.test"),
            "/app/admin;x",
            &dev,
            Refused,
        ),
        (
            "a parameter then more",
            Some("app.example.test"),
            "/app/admin;x/y",
            &dev,
            Refused,
        ),
        (
            "a dot segment",
            Some("app.example.test"),
            "/app/./admin",
            &dev,
            Refused,
        ),
        (
            "out of the open prefix",
            Some("app.example.test"),
            "/app/public/../admin",
            &dev,
            Refused,
        ),
        (
            "encoded dots",
            Some("app.example.test"),
            "/app/public/%2e%2e/admin",
            &dev,
            Refused,
        ),
        (
            "an encoded slash",
            Some("app.example.test"),
            "/app/public/..%2fadmin",
            &dev,
            Refused,
        ),
        (
            "encoded slashes both sides",
            Some("app.example.test"),
            "/app/public%2f..%2fadmin",
            &dev,
            Refused,
        ),
        (
            "a doubly encoded slash",
            Some("app.example.test"),
            "/app/public/..%252fadmin",
            &dev,
            Refused,
        ),
        (
            "an encoded slash after",
            Some("app.example.test"),
            "/app/admin%2fx",
            &dev,
            Refused,
        ),
        (
            "a parameter hiding dots",
            Some("app.example.test"),
            "/app/public;/../admin",
            &dev,
            Refused,
        ),
    ];
    let mut failures = Vec::new();
    for (why, host, path, cookie, want) in &rows {
        let (status, body) = raw(nginx.front, &get(*host, path, &[("Cookie", cookie)])).await;
        let ok = match want {
            Pass => status == 200 && body.starts_with("path="),
            Refused => status == 403,
            ProxyRefuses(code) => status == *code,
        };
        if !ok {
            failures.push(format!("{why}: Host {host:?} {path} → {status}, wanted {want:?}"));
        }
    }
    // No Host at all (HTTP/1.0): nginx asks with an empty host; not knowing is a refusal.
    let (status, _) = raw(
        nginx.front,
        &format!("GET /app/x HTTP/1.0\r\nCookie: {dev}\r\n\r\n"),
    )
    .await;
    if status == 200 {
        failures.push(format!("no Host header → {status}"));
    }

    // CARTA mode through the same nginx.
    let carta_rows: Vec<(&str, &str, u16)> = vec![
        ("a live session", "/session/carta/good1/", 200),
        ("an empty user label", "/session/carta/empty1/", 403),
        ("two objects, two users", "/session/carta/two1/", 403),
        ("an unknown session", "/session/carta/nobody1/", 403),
    ];
    for (why, path, want) in carta_rows {
        let (status, body) = raw(nginx.front, &get(Some("127.0.0.1"), path, &[])).await;
        if status != want || (want == 200 && !body.contains("carta-auth-token=alice")) {
            failures.push(format!("CARTA {why}: {path} → {status} {body:?}, wanted {want}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} row(s) wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    drop(nginx);
    delete_namespaces(&admin_k8s, &[&ns]).await;
}

/// (why, the headers Traefik would send, the status wanted).
type HeaderRow<'a> = (&'a str, Vec<(&'a str, &'a str)>, u16);

#[tokio::test]
async fn session_mode_believes_only_the_configured_proxys_headers() {
    let (mut config, file) = crate::helpers::test_config().await;
    config.forward_auth.rules = rules();
    config.forward_auth.session.proxy = "traefik".into();
    let app = crate::helpers::spawn_app_with(config, file).await;
    let dev = app.create_user("traefik-dev", Role::Developer, None).await;
    let dev = cookie_of(&app, &dev.username, &dev.password).await;
    let port = app.addr.port();
    let traefik = |host: &'static str, uri: &'static str| {
        vec![
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Host", host),
            ("X-Forwarded-Uri", uri),
        ]
    };
    let rows: Vec<HeaderRow> = vec![
        ("the app", traefik("app.example.test", "/app/x"), 200),
        (
            "the open prefix",
            traefik("app.example.test", "/app/public/y"),
            200,
        ),
        ("the admin host", traefik("admin.example.test", "/"), 403),
        ("its trailing dot", traefik("admin.example.test.", "/"), 403),
        ("its port", traefik("admin.example.test:443", "/"), 403),
        ("a doubled slash", traefik("app.example.test", "//app/admin"), 403),
        (
            "an encoded prefix",
            traefik("app.example.test", "/app/%61dmin"),
            403,
        ),
        (
            "a parameter",
            traefik("app.example.test", "/app/admin;jsessionid=1"),
            403,
        ),
        ("dots", traefik("app.example.test", "/app/public/../admin"), 403),
        (
            "a client's X-Original-URL beside Traefik's own headers",
            [
                traefik("admin.example.test", "/"),
                vec![("X-Original-URL", "https://app.example.test/app/x")],
            ]
            .concat(),
            403,
        ),
        (
            "a client's X-Original-URL alone",
            vec![("X-Original-URL", "https://app.example.test/app/x")],
            403,
        ),
        ("no target headers", vec![], 403),
        (
            "an unparseable host",
            traefik("admin.example.test:99999", "/"),
            403,
        ),
        (
            "a host with user-info",
            traefik("app.example.test@admin.example.test", "/"),
            403,
        ),
    ];
    let mut failures = Vec::new();
    for (why, headers, want) in rows {
        let mut all = headers.clone();
        all.push(("Cookie", &dev));
        let (status, body) = raw(
            port,
            &get(Some("heimdall.internal"), "/forward-auth/session", &all),
        )
        .await;
        if status != want {
            failures.push(format!("{why}: {headers:?} → {status} {body}, wanted {want}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} row(s) wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
