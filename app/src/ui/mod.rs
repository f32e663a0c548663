//! Shared UI primitives. A class bundle used in more than one place lives here, not in `@apply`.

mod badge;
mod button;
mod card;
mod dialog;
mod field;
pub mod hydrated;
#[cfg(feature = "hydrate")]
pub mod live;
mod not_found;
mod states;
mod table;
mod theme;
pub mod time;
mod toast;

pub use badge::{Badge, Tone};
pub use button::{Button, ButtonKind};
pub use card::Card;
pub use dialog::ConfirmDialog;
pub use field::{FormError, INPUT_CLASS, TextField};
pub use not_found::NotFoundPage;
pub use states::{EmptyState, ErrorNotice, Loading};
pub use table::DataTable;
pub use theme::{THEME_BOOT_SCRIPT, ThemeToggle};
pub use toast::{ToastHost, Toasts, provide_toasts, use_toasts};
