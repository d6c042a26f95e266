//! The request decoders on arbitrary input never panic, and refuse with a 400; a server
//! given arbitrary requests answers each with a designed status.

use crate::http::{raw, shared};
use inferplan_serve::decode;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn json_flags_never_panic(body in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Err(e) = decode::json_flags(&body) {
            prop_assert_eq!(e.status.as_u16(), 400);
        }
    }

    #[test]
    fn json_objects_become_flags_or_a_named_refusal(
        fields in proptest::collection::btree_map("[a-zA-Z_/.-]{0,12}", prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(serde_json::Value::from),
            ".{0,16}".prop_map(serde_json::Value::from),
            Just(serde_json::json!({"a": [1]})),
        ], 0..6)
    ) {
        let body = serde_json::to_vec(&fields).unwrap();
        match decode::json_flags(&body) {
            Ok(flags) => {
                for f in flags {
                    prop_assert!(f.starts_with("--"));
                    prop_assert!(!f.chars().any(char::is_control));
                }
            }
            Err(e) => {
                prop_assert_eq!(e.status.as_u16(), 400);
                prop_assert!(e.field.is_some() || e.error.contains("flags"));
            }
        }
    }

    #[test]
    fn query_strings_never_panic(q in ".{0,64}", bytes in "[%a-z0-9=&+]{0,48}") {
        for s in [q.as_str(), bytes.as_str()] {
            if let Ok(pairs) = decode::query_pairs(s) {
                if let Ok(flags) = decode::query_flags(&pairs) {
                    for f in flags {
                        prop_assert!(f.starts_with("--") && !f.starts_with("---"));
                    }
                }
            }
        }
    }

    #[test]
    fn workload_bodies_never_panic(body in ".{0,200}", json in "\\{[\"a-z:0-9,{}\\[\\] ]{0,60}") {
        let _ = decode::workload_toml(&body);
        let _ = decode::workload_toml(&json);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Arbitrary paths, methods and bodies at the server: each answered with a designed status
    /// (never a 500 or a dropped connection).
    #[test]
    fn the_server_answers_arbitrary_requests(
        method in prop_oneof![Just("GET"), Just("POST"), Just("PUT")],
        path in prop_oneof![
            Just("/api/fit".to_owned()), Just("/api/plan".to_owned()), Just("/api/lint".to_owned()),
            Just("/api/rightsize".to_owned()), Just("/api/render".to_owned()),
            Just("/api/catalog/show/".to_owned()), "/[a-z/.%]{0,20}",
        ],
        query in "[a-z_=&%0-9.-]{0,24}",
        body in "[ -~\n]{0,80}",
    ) {
        let request = format!(
            "{method} {path}?{query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let reply = raw(shared(), request.as_bytes());
        prop_assert!([200, 400, 404, 405, 413].contains(&reply.status), "{} for {request}", reply.status);
    }
}
