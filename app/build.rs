//! `sqlx::migrate!` embeds the migrations when this crate compiles: a new or changed file in
//! `migrations/` must rebuild it, or a binary would run without its newest migration.

fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
