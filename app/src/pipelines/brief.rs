//! The operator console's brief compiler: a free-text brief ("3-4 min explainer on baby sleep
//! regression, comforting tone, linen texture, CTA off") into the structured brief a pipeline
//! carries in its parameters, by the seed's rules — duration, tone, texture, CTA and topic, over
//! the seed's default brief — with the assumptions it made. Pure: `POST /api/v1/compile-brief`
//! answers with it, and a job created with `meta.free_text_brief` and no brief carries it.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Value, json};

/// The longest free-text brief compiled (the seed set none; a brief is a few sentences).
pub const MAX_FREE_TEXT: usize = 10_000;

/// Duration rules, first match wins: a range or one number, of minutes or seconds.
static DURATIONS: LazyLock<[Regex; 4]> = LazyLock::new(|| {
    [
        r"(\d+)[-\s](\d+)\s*(?:min|minute|minutes?)\s*(?:explainer|video|content)",
        r"(\d+)\s*(?:min|minute|minutes?)\s*(?:explainer|video|content)",
        r"(\d+)[-\s](\d+)\s*(?:second|seconds?)",
        r"(\d+)\s*(?:second|seconds?)",
    ]
    .map(|p| Regex::new(p).expect("a valid pattern"))
});

/// Tone families, first family with a word in the text wins.
static TONES: LazyLock<[Regex; 6]> = LazyLock::new(|| {
    [
        r"(comforting|warm|gentle|soothing|calm)",
        r"(authoritative|confident|professional|expert)",
        r"(conversational|casual|friendly|approachable)",
        r"(dramatic|intense|serious|urgent)",
        r"(humorous|fun|lighthearted|entertaining)",
        r"(educational|informative|instructional|tutorial)",
    ]
    .map(|p| Regex::new(p).expect("a valid pattern"))
});

static TOPICS: LazyLock<[Regex; 3]> = LazyLock::new(|| {
    [
        r"(?:on|about|regarding)\s+([^,\.]+)",
        r"explainer\s+(?:on|about)\s+([^,\.]+)",
        r"video\s+(?:on|about)\s+([^,\.]+)",
    ]
    .map(|p| Regex::new(p).expect("a valid pattern"))
});

/// Texture keywords and their presets, in the seed's order.
const TEXTURES: [(&str, &str); 8] = [
    ("linen", "linen"),
    ("woodgrain", "woodgrain"),
    ("halftone", "halftone"),
    ("paper", "print_soft"),
    ("vintage", "vintage_paper"),
    ("minimal", "minimal"),
    ("modern", "modern_flat"),
    ("off", "off"),
];

/// What `compile` returns: the seed's `{compiled_brief, assumptions, original_text}`.
pub fn compile(free_text: &str) -> Value {
    let brief = resolve(parse(free_text));
    let assumptions = assumptions(&brief);
    json!({ "compiled_brief": brief, "assumptions": assumptions, "original_text": free_text })
}

/// The brief the text says, over the seed's defaults.
pub fn parse(text: &str) -> Value {
    let lower = text.to_lowercase();
    let mut brief = json!({
        "title": "",
        "intent": "narrative_history",
        "audience": [],
        "tone": "informative",
        "video": { "target_length_min": 5, "target_length_max": 7 },
        "keywords_include": [],
        "keywords_exclude": [],
        "sources_preferred": [],
        "monetization": { "primary": ["lead_magnet", "email_capture"], "cta_text": "Download our free guide" },
        "notes": text,
        "_source": "free_text_parse",
    });
    if let Some(found) = DURATIONS.iter().find_map(|r| r.captures(&lower)) {
        let number = |i: usize| found.get(i).and_then(|m| m.as_str().parse::<u64>().ok());
        let (min, max) = match (number(1), number(2)) {
            (Some(a), Some(b)) => (a, b),
            (Some(a), None) => (a, a),
            _ => (5, 7),
        };
        brief["video"] = json!({ "target_length_min": min, "target_length_max": max });
    }
    if let Some(tone) = TONES.iter().find_map(|r| r.captures(&lower)) {
        brief["tone"] = json!(&tone[1]);
    }
    if let Some((_, preset)) = TEXTURES.iter().find(|(word, _)| lower.contains(word)) {
        brief["texture_preset"] = json!(preset);
    }
    if lower.contains("cta off") || lower.contains("no cta") {
        brief["monetization"]["cta_enabled"] = json!(false);
    } else if lower.contains("cta on") {
        brief["monetization"]["cta_enabled"] = json!(true);
    }
    if let Some(topic) = TOPICS.iter().find_map(|r| r.captures(&lower)) {
        brief["title"] = json!(format!("Guide on {}", title_case(topic[1].trim())));
    }
    brief
}

/// `preferred` over the seed's base brief, `video` and `monetization` merged key by key.
pub fn resolve(preferred: Value) -> Value {
    let mut resolved = json!({
        "title": "Default Content",
        "intent": "narrative_history",
        "audience": ["general"],
        "tone": "informative",
        "video": { "target_length_min": 5, "target_length_max": 7 },
        "keywords_include": [],
        "keywords_exclude": [],
        "sources_preferred": [],
        "monetization": { "primary": ["lead_magnet", "email_capture"], "cta_text": "Download our free guide" },
        "notes": "",
    });
    let Value::Object(preferred) = preferred else {
        return resolved;
    };
    for (key, value) in preferred {
        match (resolved.get_mut(&key), value) {
            (Some(Value::Object(base)), Value::Object(over)) if key == "video" || key == "monetization" => {
                base.extend(over);
            }
            (_, value) => resolved[key] = value,
        }
    }
    resolved
}

/// What the compile assumed, in the seed's words.
fn assumptions(brief: &Value) -> Vec<&'static str> {
    let mut said = Vec::new();
    if brief["video"]["target_length_min"] == 5 && brief["video"]["target_length_max"] == 7 {
        said.push("Using default duration: 5-7 minutes");
    }
    if brief["tone"] == "informative" {
        said.push("Using default tone: informative");
    }
    if brief["intent"] == "narrative_history" {
        said.push("Using default intent: narrative_history");
    }
    if brief.get("texture_preset").is_none() {
        said.push("No texture preset specified, using default");
    }
    if brief["monetization"]
        .get("cta_enabled")
        .is_none_or(Value::is_null)
    {
        said.push("CTA setting not specified, using default");
    }
    said
}

/// Python's `str.title()`: each run of letters starts upper-case, the rest lower.
fn title_case(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_word = false;
    for c in text.chars() {
        if c.is_alphabetic() {
            if in_word {
                out.extend(c.to_lowercase());
            } else {
                out.extend(c.to_uppercase());
            }
            in_word = true;
        } else {
            out.push(c);
            in_word = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seeds_own_example_compiles_as_its_docstring_says() {
        let out =
            compile("3-4 min explainer on baby sleep regression, comforting tone, linen texture, CTA off");
        let brief = &out["compiled_brief"];
        assert_eq!(
            brief["video"],
            json!({ "target_length_min": 3, "target_length_max": 4 })
        );
        assert_eq!(brief["tone"], "comforting");
        assert_eq!(brief["texture_preset"], "linen");
        assert_eq!(brief["monetization"]["cta_enabled"], false);
        assert_eq!(brief["monetization"]["cta_text"], "Download our free guide");
        assert_eq!(brief["title"], "Guide on Baby Sleep Regression");
        assert_eq!(
            brief["audience"],
            json!([]),
            "the parse's empty list wins over the base's"
        );
        assert_eq!(
            out["assumptions"],
            json!(["Using default intent: narrative_history"])
        );
        assert_eq!(
            out["original_text"],
            "3-4 min explainer on baby sleep regression, comforting tone, linen texture, CTA off"
        );
    }

    #[test]
    fn nothing_recognised_leaves_the_defaults_and_says_so() {
        let out = compile("something");
        let brief = &out["compiled_brief"];
        assert_eq!(brief["title"], "");
        assert_eq!(brief["notes"], "something");
        assert_eq!(
            out["assumptions"],
            json!([
                "Using default duration: 5-7 minutes",
                "Using default tone: informative",
                "Using default intent: narrative_history",
                "No texture preset specified, using default",
                "CTA setting not specified, using default",
            ])
        );
    }

    #[test]
    fn seconds_and_single_numbers_and_cta_on() {
        let brief = parse("a 90 second video about Rust's borrow checker. CTA on, modern look");
        assert_eq!(
            brief["video"],
            json!({ "target_length_min": 90, "target_length_max": 90 })
        );
        assert_eq!(brief["monetization"]["cta_enabled"], true);
        assert_eq!(brief["texture_preset"], "modern_flat");
        assert_eq!(brief["title"], "Guide on Rust'S Borrow Checker");
    }

    #[test]
    fn resolve_merges_video_and_monetization_key_by_key() {
        let resolved =
            resolve(json!({ "video": { "target_length_max": 9 }, "monetization": { "cta_enabled": true } }));
        assert_eq!(
            resolved["video"],
            json!({ "target_length_min": 5, "target_length_max": 9 })
        );
        assert_eq!(resolved["monetization"]["cta_text"], "Download our free guide");
        assert_eq!(resolved["monetization"]["cta_enabled"], true);
        assert_eq!(resolved["title"], "Default Content");
    }
}
