//! Dates as the tables show them (`2026-11-24 16:53`, UTC), and as "3 d ago" once the page is
//! hydrated (`Ago`). Written out by hand rather than with chrono's `format`, whose strftime
//! engine would otherwise be linked into the browser bundle for these patterns.

use chrono::{DateTime, Datelike, Timelike, Utc};
use leptos::prelude::*;

/// How long before `now` `d` was, in the largest whole unit: `just now`, `5 min ago`,
/// `3 h ago`, `2 d ago`; a date in the future (a clock ahead) is `just now`.
pub fn ago(d: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - d).num_seconds();
    match secs {
        ..60 => "just now".to_owned(),
        60..3_600 => format!("{} min ago", secs / 60),
        3_600..86_400 => format!("{} h ago", secs / 3_600),
        _ => format!("{} d ago", secs / 86_400),
    }
}

/// A moment as "3 d ago", the exact time on hover. The server draws the exact UTC time (it does
/// not know the viewer's clock, and hydration must find what the server drew); once hydrated the
/// browser redraws it relative to its own clock, with the exact time in its own time zone.
#[component]
pub fn Ago(at: DateTime<Utc>) -> impl IntoView {
    let exact_utc = format!("{} UTC", minutes(at));
    let iso = at.to_rfc3339();
    let text = {
        let exact_utc = exact_utc.clone();
        move || {
            if crate::ui::hydrated::page_hydrated() {
                ago(at, browser_now())
            } else {
                exact_utc.clone()
            }
        }
    };
    let title = move || {
        if crate::ui::hydrated::page_hydrated() {
            local_exact(at)
        } else {
            exact_utc.clone()
        }
    };
    view! { <time datetime=iso title=title>{text}</time> }
}

#[cfg(feature = "hydrate")]
fn browser_now() -> DateTime<Utc> {
    // Milliseconds since the epoch, from the browser's clock.
    #[allow(clippy::cast_possible_truncation)]
    let ms = web_sys::js_sys::Date::now() as i64;
    DateTime::from_timestamp_millis(ms).unwrap_or_else(Utc::now)
}

#[cfg(not(feature = "hydrate"))]
fn browser_now() -> DateTime<Utc> {
    Utc::now()
}

/// The exact moment in the viewer's time zone, as their browser writes dates.
#[cfg(feature = "hydrate")]
fn local_exact(at: DateTime<Utc>) -> String {
    #[allow(clippy::cast_precision_loss)]
    let date = web_sys::js_sys::Date::new(&leptos::wasm_bindgen::JsValue::from_f64(
        at.timestamp_millis() as f64
    ));
    String::from(date.to_locale_string("default", &leptos::wasm_bindgen::JsValue::UNDEFINED))
}

#[cfg(not(feature = "hydrate"))]
fn local_exact(at: DateTime<Utc>) -> String {
    format!("{} UTC", minutes(at))
}

/// `YYYY-MM-DD HH:MM`.
pub fn minutes(d: DateTime<Utc>) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        d.year(),
        d.month(),
        d.day(),
        d.hour(),
        d.minute()
    )
}

/// `YYYY-MM-DD HH:MM:SS`.
pub fn seconds(d: DateTime<Utc>) -> String {
    format!("{}:{:02}", minutes(d), d.second())
}

/// `minutes`, or `none` when there is no date.
pub fn minutes_or(d: Option<DateTime<Utc>>, none: &str) -> String {
    d.map_or_else(|| none.to_owned(), minutes)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn formats_match_the_strftime_patterns_they_replace() {
        let d = Utc
            .with_ymd_and_hms(2026, 3, 7, 4, 5, 9)
            .single()
            .expect("valid date");
        assert_eq!(minutes(d), d.format("%Y-%m-%d %H:%M").to_string());
        assert_eq!(seconds(d), d.format("%Y-%m-%d %H:%M:%S").to_string());
        assert_eq!(minutes_or(None, "never"), "never");
    }

    #[test]
    fn ago_uses_the_largest_whole_unit() {
        let now = Utc
            .with_ymd_and_hms(2026, 3, 7, 12, 0, 0)
            .single()
            .expect("valid date");
        let before = |secs| now - chrono::Duration::seconds(secs);
        assert_eq!(ago(before(0), now), "just now");
        assert_eq!(ago(before(59), now), "just now");
        assert_eq!(ago(before(60), now), "1 min ago");
        assert_eq!(ago(before(3_599), now), "59 min ago");
        assert_eq!(ago(before(3_600), now), "1 h ago");
        assert_eq!(ago(before(86_399), now), "23 h ago");
        assert_eq!(ago(before(3 * 86_400 + 5), now), "3 d ago");
        assert_eq!(ago(now + chrono::Duration::seconds(30), now), "just now");
    }
}
