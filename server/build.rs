//! Records the git commit the binary was built from (`/version`, the home page).

use std::process::Command;

fn main() {
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=HEIMDALL_GIT_COMMIT={commit}");
    println!("cargo:rerun-if-env-changed=HEIMDALL_GIT_COMMIT");
    // Rebuild when HEAD moves; harmless if the files do not exist (a source tarball).
    println!("cargo:rerun-if-changed=../.git/HEAD");
    println!("cargo:rerun-if-changed=../.git/refs/heads");
}
