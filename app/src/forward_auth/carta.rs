//! The CARTA sidecar's rule for finding a session id in a forwarded request: the first
//! `/session/carta/<id>` (case-insensitive, `<id>` one or more ASCII letters and digits) in the
//! `Referer`, else in `X-Forwarded-Uri`. Pure and total: any bytes in, an id or nothing out,
//! never a panic (a property test feeds it arbitrary headers).

/// The marker in front of the id, compared case-insensitively.
const MARKER: &[u8] = b"/session/carta/";

/// Where the id was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdSource {
    Referer,
    ForwardedUri,
}

impl IdSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Referer => "referer",
            Self::ForwardedUri => "x-forwarded-uri",
        }
    }
}

/// The session id of a request, by the seed's rule: the `Referer` wins whenever it names one,
/// even when `X-Forwarded-Uri` names another.
pub fn session_id<'a>(
    referer: Option<&'a [u8]>,
    forwarded_uri: Option<&'a [u8]>,
) -> Option<(&'a str, IdSource)> {
    if let Some(id) = referer.and_then(find_session_id) {
        return Some((id, IdSource::Referer));
    }
    forwarded_uri
        .and_then(find_session_id)
        .map(|id| (id, IdSource::ForwardedUri))
}

/// The first `/session/carta/<id>` in `text`. Like the seed's regular-expression search, a
/// marker not followed by an id does not end the search: a later one may still match.
pub fn find_session_id(text: &[u8]) -> Option<&str> {
    let mut from = 0;
    while let Some(at) = find_marker(&text[from..]) {
        let start = from + at + MARKER.len();
        let len = text[start..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        if len > 0 {
            // ASCII letters and digits only, so always UTF-8.
            return std::str::from_utf8(&text[start..start + len]).ok();
        }
        from = start;
    }
    None
}

fn find_marker(text: &[u8]) -> Option<usize> {
    text.windows(MARKER.len())
        .position(|window| window.eq_ignore_ascii_case(MARKER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_is_read_from_a_full_url_or_a_bare_path() {
        assert_eq!(
            find_session_id(b"https://canfar.example/session/carta/abc123/?socketUrl=x"),
            Some("abc123")
        );
        assert_eq!(find_session_id(b"/session/carta/9z"), Some("9z"));
        // The id ends at the first character that is not a letter or digit.
        assert_eq!(find_session_id(b"/session/carta/ab-cd"), Some("ab"));
        assert_eq!(find_session_id(b"/session/carta/ab%2Fcd"), Some("ab"));
    }

    #[test]
    fn the_marker_is_case_insensitive_and_the_id_keeps_its_case() {
        assert_eq!(find_session_id(b"/SESSION/Carta/AbC1"), Some("AbC1"));
    }

    #[test]
    fn malformed_uris_name_no_session() {
        for text in [
            &b""[..],
            b"/",
            b"/session/carta/",
            b"/session/carta/-x",
            b"/session/carta",
            b"/session/notebook/abc",
            b"/sessions/carta/abc",
            b"/session//carta/abc",
            b"/session/carta/\xff\xfe",
            b"\x00\x01/session/carta/",
        ] {
            assert_eq!(find_session_id(text), None, "{:?}", String::from_utf8_lossy(text));
        }
    }

    #[test]
    fn an_empty_marker_does_not_hide_a_later_one() {
        assert_eq!(
            find_session_id(b"/session/carta//session/carta/later1"),
            Some("later1")
        );
    }

    #[test]
    fn non_ascii_around_the_id_is_harmless() {
        assert_eq!(find_session_id("/ünï/session/carta/ok1ü".as_bytes()), Some("ok1"));
    }

    #[test]
    fn the_referer_wins_over_the_forwarded_uri() {
        assert_eq!(
            session_id(
                Some(b"https://x/session/carta/fromref"),
                Some(b"/session/carta/fromuri")
            ),
            Some(("fromref", IdSource::Referer))
        );
        assert_eq!(
            session_id(Some(b"https://x/elsewhere"), Some(b"/session/carta/fromuri")),
            Some(("fromuri", IdSource::ForwardedUri))
        );
        assert_eq!(
            session_id(None, Some(b"/session/carta/fromuri")),
            Some(("fromuri", IdSource::ForwardedUri))
        );
        assert_eq!(session_id(None, None), None);
        assert_eq!(session_id(Some(b"/session/carta/"), Some(b"/x")), None);
    }
}
