//! A shopper event as the pixel and the theme embed send it: any bytes, read as JSON, then
//! as one event of a batch. Refusing is fine; panicking is not.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    // A batch is read event by event, so each element is tried as well as the whole.
    let candidates = match &raw {
        serde_json::Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    for candidate in candidates {
        if let Ok(event) = kindred::events::parse_event(candidate, 1_767_000_000_000, || {
            "fallback".into()
        }) {
            assert!(!event.event_id.is_empty(), "an event without an id: {candidate}");
        }
    }
});
