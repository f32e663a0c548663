//! Dates as the tables show them (`2026-11-24 16:53`, UTC). Written out by hand rather than
//! with chrono's `format`, whose strftime engine would otherwise be linked into the browser
//! bundle for these two patterns.

use chrono::{DateTime, Datelike, Timelike, Utc};

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
}
