use apache_avro::schema_compatibility::SchemaCompatibility;
use apache_avro::Schema;
use interlink_schemas::registry;
use interlink_schemas::*;
use proptest::prelude::*;

fn request() -> AuthorizationRequest {
    AuthorizationRequest {
        transaction_id: "tx-1".into(),
        end_to_end_id: "E2E-1".into(),
        created_at: 1_764_000_000_000_000,
        debtor_agent: Agent::new("CN_IBPS", "102100099996"),
        debtor_account: "6222020200112233445".into(),
        creditor_agent: Some(Agent::new("HK_FPS", "004")),
        creditor_account: Some("004-123-456789-001".into()),
        qr_payload: None,
        creditor_alias: Some(Alias { scheme: "MOBILE".into(), value: "+85291234567".into() }),
        amount: Amount::new(12_345, "CNY"),
        channel: Channel::InternetBanking,
        purpose: Some("GDDS".into()),
        debtor_name: None,
        debtor_id: None,
        creditor_name: None,
        device_id: None,
    }
}

#[test]
fn every_schema_in_the_registry_parses_and_ids_are_unique() {
    let mut ids: Vec<u32> = registry::ALL.iter().map(|v| v.id).collect();
    for v in registry::ALL {
        assert_eq!(v.schema.name().map(|n| n.name().to_string()).as_deref(), Some(v.record));
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), registry::ALL.len());
}

#[test]
fn authorization_request_round_trips_with_confluent_header() {
    let codec = Codec::<AuthorizationRequest>::new().unwrap();
    let bytes = codec.encode(&request()).unwrap();
    assert_eq!(bytes[0], 0, "magic byte");
    assert_eq!(u32::from_be_bytes(bytes[1..5].try_into().unwrap()), 103);
    assert_eq!(codec.decode(&bytes).unwrap(), request());
}

/// A v1 producer (schema 101, before the parties' names and the debtor's id) and a v2
/// producer write to the same topic; this build reads both, the v1 one without the new
/// fields, and each is keyed as its content says.
#[test]
fn version_1_and_version_2_requests_are_read_alike() {
    let codec = Codec::<AuthorizationRequest>::new().unwrap();
    let named = AuthorizationRequest {
        debtor_name: Some("CHAN Tai Man".into()),
        debtor_id: Some(PersonId::new("NIDN", "HK", "A1234563")),
        creditor_name: Some("LI Na".into()),
        ..request()
    };
    let v1 = codec.encode_as(&named, &registry::AUTHORIZATION_REQUEST_V1).unwrap();
    assert_eq!(&v1[..5], &[0, 0, 0, 0, 101]);
    assert_eq!(codec.decode(&v1).unwrap(), request(), "v1 carries none of the new fields");
    assert_eq!(request().partition_key(), request().transaction_id, "v1 requests are keyed by id");
    let v2 = codec.encode_as(&named, &registry::AUTHORIZATION_REQUEST_V2).unwrap();
    assert_eq!(&v2[..5], &[0, 0, 0, 0, 102]);
    let read = codec.decode(&v2).unwrap();
    assert_eq!(read, named);
    // v3 adds the payer's device; a v2 request reads with none.
    let with_device = AuthorizationRequest { device_id: Some("app-7f3a".into()), ..named.clone() };
    let v3 = codec.encode(&with_device).unwrap();
    assert_eq!(&v3[..5], &[0, 0, 0, 0, 103]);
    assert_eq!(codec.decode(&v3).unwrap(), with_device);
    assert_eq!(
        codec.decode(&codec.encode_as(&with_device, &registry::AUTHORIZATION_REQUEST_V2).unwrap()).unwrap(),
        named
    );
    let key = read.partition_key();
    assert_eq!(key.len(), 64, "a SHA-256 digest, no identity number in the key");
    assert!(!key.contains("A1234563"));
    // Case of scheme and issuer does not make another person.
    let lower = PersonId::new("nidn", "hk", "A1234563");
    assert_eq!(lower.person_key(), *key);
    assert!(!format!("{:?}", read.debtor_id).contains("A1234563"), "Debug masks the number");
    // Writing as a version of another record is refused.
    assert!(codec.encode_as(&named, &registry::NOTIFICATION_V1).is_err());
}

#[test]
fn outputs_round_trip() {
    let clearing = ClearingRecord {
        transaction_id: "tx".into(),
        end_to_end_id: "e2e".into(),
        debtor_agent: Agent::new("CN_IBPS", "102100099996"),
        debtor_account: "1".into(),
        creditor_agent: Agent::new("HK_FPS", "004"),
        creditor_account: None,
        debit_amount: Amount::new(100, "CNY"),
        credit_amount: Amount::new(108, "HKD"),
        fx_rate: "1.0845".into(),
        quote_id: "CN_IBPS>HK_FPS:CNY-HKD@v3".into(),
        corridor: "CN_IBPS>HK_FPS".into(),
        routing_version: 3,
        request_created_at: 1,
        cleared_at: 2,
        reverses: None,
        debit_settlement_cycle: None,
        credit_settlement_cycle: None,
    };
    let c = Codec::<ClearingRecord>::new().unwrap();
    assert_eq!(c.decode(&c.encode(&clearing).unwrap()).unwrap(), clearing);

    let note = Notification {
        notification_id: "tx:DEBTOR".into(),
        transaction_id: "tx".into(),
        end_to_end_id: "e2e".into(),
        party: Party::Debtor,
        agent: Agent::new("CN_IBPS", "102100099996"),
        status: PaymentStatus::RJCT,
        reason_code: Some("RC01".into()),
        reason_text: Some("unknown creditor agent".into()),
        amount: Amount::new(100, "CNY"),
        routing_version: 3,
        request_created_at: 1,
        emitted_at: 2,
        repeat: true,
    };
    let c = Codec::<Notification>::new().unwrap();
    assert_eq!(c.decode(&c.encode(&note).unwrap()).unwrap(), note);

    let returned = PaymentReturn {
        return_id: "RTtx".into(),
        transaction_id: "tx".into(),
        end_to_end_id: "e2e".into(),
        network: "HK_FPS".into(),
        wire_transaction_id: "tx".into(),
        creditor_agent: Agent::new("HK_FPS", "004"),
        returned_amount: Amount::new(108, "HKD"),
        reason_code: "TM01".into(),
        timed_out_at: 1,
        returned_at: 2,
    };
    let c = Codec::<PaymentReturn>::new().unwrap();
    assert_eq!(c.decode(&c.encode(&returned).unwrap()).unwrap(), returned);

    let dead = DeadLetter {
        source_topic: "interlink.auth.requests".into(),
        source_partition: 3,
        source_offset: 42,
        original_key: Some(b"k".to_vec()),
        original_value: Some(vec![0xde, 0xad, 0xbe, 0xef]),
        error_kind: ErrorKind::Decode,
        error_message: "bad magic".into(),
        reason_code: None,
        transaction_id: None,
        dead_lettered_at: 5,
    };
    let c = Codec::<DeadLetter>::new().unwrap();
    assert_eq!(c.decode(&c.encode(&dead).unwrap()).unwrap(), dead);
}

#[test]
fn decode_errors_are_specific() {
    let codec = Codec::<AuthorizationRequest>::new().unwrap();
    assert!(matches!(codec.decode(&[0, 0]), Err(CodecError::TooShort(2))));
    assert!(matches!(codec.decode(b"{\"json\":1}"), Err(CodecError::BadMagic(b'{'))));
    assert!(matches!(codec.decode(&[0, 0, 0, 0, 9, 1]), Err(CodecError::UnknownSchemaId(9))));
    let note_codec = Codec::<Notification>::new().unwrap();
    let mut wrong = codec.encode(&request()).unwrap();
    assert!(matches!(
        note_codec.decode(&wrong),
        Err(CodecError::WrongRecord { expected: "Notification", found: 103, .. })
    ));
    wrong.push(7);
    assert!(matches!(codec.decode(&wrong), Err(CodecError::TrailingBytes { trailing: 1 })));
    let good = codec.encode(&request()).unwrap();
    assert!(matches!(codec.decode(&good[..good.len() - 3]), Err(CodecError::Avro(_))));
}

/// The evolution rule: a new version only adds fields with defaults. Such a version
/// must read every older record and be readable by older readers.
#[test]
fn a_record_claiming_a_huge_string_is_refused_without_allocating_it() {
    let codec = Codec::<AuthorizationRequest>::new().unwrap();
    // Header, then transaction_id's length as a zig-zag varint: 1 GiB.
    let mut bytes = vec![0, 0, 0, 0, 101];
    let mut n = (1u64 << 30) << 1;
    while n >= 0x80 {
        bytes.push((n as u8) | 0x80);
        n >>= 7;
    }
    bytes.push(n as u8);
    let err = codec.decode(&bytes).unwrap_err();
    assert!(matches!(err, CodecError::Avro(_)), "{err}");
    assert!(err.to_string().contains(&MAX_AVRO_ALLOCATION_BYTES.to_string()), "{err}");
}

#[test]
fn adding_a_field_with_a_default_keeps_both_directions_compatible() {
    for v in registry::ALL {
        let mut json: serde_json::Value = serde_json::from_str(v.text).unwrap();
        json["fields"].as_array_mut().unwrap().push(serde_json::json!({
            "name": "added_in_v2", "type": ["null", "string"], "default": null
        }));
        let v2 = Schema::parse(&json).unwrap();
        SchemaCompatibility::mutual_read(&v.schema, &v2)
            .unwrap_or_else(|e| panic!("{} v2 incompatible: {e}", v.record));
    }
}

/// Notifications written before `repeat` existed (schema 301) still decode, as firsts.
#[test]
fn a_version_1_notification_reads_as_not_a_repeat() {
    use apache_avro::types::Value;
    let v1 = &registry::NOTIFICATION_V1;
    let s = |t: &str| Value::String(t.into());
    let agent = Value::Record(vec![("network".into(), s("CN_IBPS")), ("institution_id".into(), s("102100099996"))]);
    let amount = Value::Record(vec![("minor_units".into(), Value::Long(100)), ("currency".into(), s("CNY"))]);
    let record = Value::Record(vec![
        ("notification_id".into(), s("tx:DEBTOR")),
        ("transaction_id".into(), s("tx")),
        ("end_to_end_id".into(), s("e2e")),
        ("party".into(), Value::Enum(0, "DEBTOR".into())),
        ("agent".into(), agent),
        ("status".into(), Value::Enum(2, "ACCC".into())),
        ("reason_code".into(), Value::Union(0, Box::new(Value::Null))),
        ("reason_text".into(), Value::Union(0, Box::new(Value::Null))),
        ("amount".into(), amount),
        ("routing_version".into(), Value::Long(3)),
        ("request_created_at".into(), Value::TimestampMicros(1)),
        ("emitted_at".into(), Value::TimestampMicros(2)),
    ]);
    #[allow(deprecated)]
    let datum = apache_avro::to_avro_datum(&v1.schema, record).unwrap();
    let mut framed = vec![0u8];
    framed.extend_from_slice(&v1.id.to_be_bytes());
    framed.extend_from_slice(&datum);
    let note = Codec::<Notification>::new().unwrap().decode(&framed).unwrap();
    assert_eq!((note.notification_id.as_str(), note.status, note.repeat), ("tx:DEBTOR", PaymentStatus::ACCC, false));
}

#[test]
fn adding_a_field_without_default_is_caught() {
    let v = &registry::AUTHORIZATION_REQUEST_V1;
    let mut json: serde_json::Value = serde_json::from_str(v.text).unwrap();
    json["fields"].as_array_mut().unwrap().push(serde_json::json!({"name": "x", "type": "string"}));
    let v2 = Schema::parse(&json).unwrap();
    assert!(SchemaCompatibility::can_read(&v.schema, &v2).is_err(), "v2 cannot read v1 without a default");
}

fn agent() -> impl Strategy<Value = Agent> {
    ("[A-Z_]{2,10}", "[0-9A-Z]{1,12}").prop_map(|(n, i)| Agent::new(n, i))
}

fn any_request() -> impl Strategy<Value = AuthorizationRequest> {
    (
        ("\\PC{0,40}", "\\PC{0,35}", any::<i64>(), agent(), "\\PC{0,34}"),
        (proptest::option::of(agent()), proptest::option::of("\\PC{0,34}"), proptest::option::of("\\PC{0,200}")),
        (any::<i64>(), "[A-Z]{3}", proptest::option::of("[A-Z]{4}")),
    )
        .prop_map(|((tx, e2e, at, debtor, acct), (creditor, cacct, qr), (minor, cur, purpose))| {
            AuthorizationRequest {
                transaction_id: tx,
                end_to_end_id: e2e,
                created_at: at,
                debtor_agent: debtor,
                debtor_account: acct,
                creditor_agent: creditor,
                creditor_account: cacct,
                qr_payload: qr,
                creditor_alias: None,
                amount: Amount::new(minor, cur),
                channel: Channel::Qr,
                purpose,
                debtor_name: None,
                debtor_id: None,
                creditor_name: None,
                device_id: None,
            }
        })
}

proptest! {
    #[test]
    fn any_request_round_trips(req in any_request()) {
        let codec = Codec::<AuthorizationRequest>::new().unwrap();
        prop_assert_eq!(codec.decode(&codec.encode(&req).unwrap()).unwrap(), req);
    }

    #[test]
    fn arbitrary_bytes_never_panic(mut bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let codec = Codec::<AuthorizationRequest>::new().unwrap();
        let _ = codec.decode(&bytes);
        // Also with a valid header, so the Avro reader itself sees garbage.
        if bytes.len() >= 5 { bytes[..5].copy_from_slice(&[0, 0, 0, 0, 101]); }
        let _ = codec.decode(&bytes);
    }
}

/// A producer on a newer version of a record (an added optional field), its schema
/// learned from a registry by id, is read into this build's version; the fields it
/// shares come through.
#[test]
fn a_newer_writer_learned_by_id_is_read_into_this_version() {
    use interlink_schemas::{registry, SchemaCatalog};
    use std::sync::Arc;
    let catalog = Arc::new(SchemaCatalog::registry());
    catalog.assign(&registry::AUTHORIZATION_REQUEST_V3, 1);
    let codec = Codec::<AuthorizationRequest>::with_catalog(&catalog).unwrap();
    assert_eq!(codec.schema_id(), 1);
    let v1 = codec.encode(&request()).unwrap();
    assert_eq!(&v1[..5], &[0, 0, 0, 0, 1], "framed with the registry's id");

    // The same request as a v2 writer frames it: the v1 datum plus a trailing optional
    // field (union index 1 = string "hello"), under id 7.
    let v2_text = registry::AUTHORIZATION_REQUEST_V3.text.replacen(
        r#""fields": ["#,
        r#""fields": [{"name": "note_v2", "type": ["null", "string"], "default": null},"#,
        1,
    );
    assert_ne!(v2_text, registry::AUTHORIZATION_REQUEST_V3.text, "the newer schema adds a field");
    let mut v2 = vec![0, 0, 0, 0, 7, 2, 10];
    v2.extend_from_slice(b"hello");
    v2.extend_from_slice(&v1[5..]);
    assert!(matches!(codec.decode(&v2), Err(CodecError::UnknownSchemaId(7))), "not learned yet");
    catalog.learn(7, &v2_text).unwrap();
    assert_eq!(codec.decode(&v2).unwrap(), request());
    assert_eq!(codec.decode(&v2).unwrap(), request(), "again, through the cached reader");
    // A fixed-ids codec in the same process still writes the built-in id.
    assert_eq!(Codec::<AuthorizationRequest>::new().unwrap().schema_id(), 103);
    // A codec for a version the registry has not numbered cannot be built.
    let unassigned = Codec::<Notification>::with_catalog(&catalog);
    assert!(matches!(unassigned, Err(CodecError::Unassigned { record: "Notification" })));
}
