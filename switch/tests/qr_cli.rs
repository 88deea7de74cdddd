//! `interlinkctl qr decode` and `qr encode` as an operator runs them; no broker is involved.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn interlinkctl(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_interlinkctl"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("interlinkctl runs");
    let mut input = child.stdin.take().expect("stdin is piped");
    input.write_all(stdin.unwrap_or_default().as_bytes()).expect("stdin takes the input");
    drop(input);
    child.wait_with_output().expect("interlinkctl exits")
}

/// A PromptPay transfer to a mobile number as the promptpay-qr library writes it (no 52/59/60).
const PROMPTPAY_P2P: &str = "00020101021129370016A000000677010111011300668012345675802TH530376463046197";

#[test]
fn decode_prints_the_profile_it_matched_and_encode_takes_the_json_back() {
    let out = interlinkctl(&["qr", "decode", PROMPTPAY_P2P], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "profile: promptpay_p2p\n");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(json["profile"], "promptpay_p2p");
    assert_eq!(json["merchant_accounts"][0]["fields"]["1"], "0066801234567");
    assert!(json.get("merchant_name").is_none());

    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let encoded = interlinkctl(&["qr", "encode", "-"], Some(&text));
    assert!(encoded.status.success(), "{}", String::from_utf8_lossy(&encoded.stderr));
    // The canonical order puts 53 before 58; the code is otherwise the same.
    assert_eq!(
        String::from_utf8_lossy(&encoded.stdout).trim(),
        "00020101021129370016A0000006770101110113006680123456753037645802TH6304BE2B"
    );
}

#[test]
fn decode_refuses_a_corrupted_code_as_a_crc_mismatch() {
    let corrupted = PROMPTPAY_P2P.replace("0066801234567", "0066801234568");
    let out = interlinkctl(&["qr", "decode", &corrupted], None);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("invalid QR code: CRC mismatch: the payload says 6197"), "{stderr}");
}
