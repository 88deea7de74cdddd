//! `interlinkctl settlement close|status|report|reconcile` against the real broker: an
//! operator's cut-off as a change set, the positions of a netted cycle as reports and
//! statements, and a two-leg cycle reconciled with the simulated networks' reports,
//! then with forged records that must show as mismatches.

mod common;

use common::settlement::{in_cycle, recompute, rules_closing_at, sample_rules_unsettled, scheme, CURRENCIES};
use common::{ctl, Fixture};
use interlink_connectors::canonical::Money as NetMoney;
use interlink_connectors::CanonicalStatus;
use interlink_core::legs::wire_id;
use interlink_schemas::{Agent, Amount, ClearingRecord, Codec, SettlementRecord, SettlementRecordKind};
use interlink_testkit::NetworkLegs;
use jiff::{SignedDuration, Timestamp};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::ClientConfig;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Output;
use std::time::Duration;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs interlinkctl; returns (exit code, stdout, stderr).
fn run(fx: &Fixture, args: &[&str]) -> (i32, String, String) {
    let Output { status, stdout, stderr } = ctl(fx, args);
    (status.code().unwrap_or(-1), text(&stdout), text(&stderr))
}

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

fn major(minor: i64, currency: &str) -> String {
    interlink_routing::format_minor(minor, currency).unwrap()
}

/// Waits until the settlement topic holds `count` records.
fn netted(fx: &Fixture, count: usize, within: Duration) -> Vec<SettlementRecord> {
    let records: Vec<SettlementRecord> = fx.read_events(&fx.topics.settlement, count, within);
    assert_eq!(records.len(), count, "{records:#?}");
    records
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_adds_an_operator_cut_off_as_one_change_set_and_refuses_a_currency_without_a_scheme() {
    interlink_testkit::require_broker!();
    let fx = Fixture::new(1).await;
    let now = Timestamp::now();
    let stale = (now - SignedDuration::from_hours(40 * 24)).round(jiff::Unit::Second).unwrap();
    let recent = (now - SignedDuration::from_hours(10 * 24)).round(jiff::Unit::Second).unwrap();
    let mut rules = sample_rules_unsettled();
    rules.push(scheme("HKD", "Asia/Hong_Kong", vec![stale.to_string(), recent.to_string()]));
    assert_eq!(fx.apply_routes(&rules), 2);

    // A dry run writes nothing.
    let (code, out, err) = run(
        &fx,
        &["settlement", "close", "--currency", "hkd", "--operator", "ops-anna", "--reason", "early close", "--dry-run"],
    );
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert_eq!(lines[0], "~ settlement/HKD");
    assert_eq!(lines[1], "dry run: would apply 1 change(s) as version 3");
    assert!(lines[2].starts_with("cycle HKD-") && lines[2].contains(" would close at "), "{out}");
    assert!(lines[3].starts_with("the next cycle opens at "), "{out}");
    let (_, shown, _) = run(&fx, &["routes", "show"]);
    assert!(shown.starts_with("version 2\n"), "{shown}");

    let before = Timestamp::now();
    let (code, out, err) = run(
        &fx,
        &[
            "settlement",
            "close",
            "--currency",
            "HKD",
            "--operator",
            "ops-anna",
            "--reason",
            "early close",
            "--after-seconds",
            "30",
        ],
    );
    let after = Timestamp::now();
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert_eq!(lines[..2], ["~ settlement/HKD", "applied 1 change(s) as version 3"]);

    // The live scheme: the stale cut-off pruned, the recent one kept, the new one added
    // in whole seconds at least 30 s from the command's start.
    let (code, rule, err) = run(&fx, &["routes", "get", "settlement/HKD"]);
    assert_eq!(code, 0, "{err}");
    let manual: Vec<String> = serde_json::from_value(json(&rule)["manual_cut_offs"].clone()).unwrap();
    assert_eq!(manual.len(), 2, "{manual:?}");
    assert_eq!(manual[0], recent.to_string());
    let cut_off: Timestamp = manual[1].parse().unwrap();
    assert!(manual[1].ends_with('Z') && cut_off.subsec_nanosecond() == 0, "{manual:?}");
    assert!(cut_off >= before + SignedDuration::from_secs(30), "{cut_off} vs {before}");
    assert!(cut_off <= after + SignedDuration::from_secs(31), "{cut_off} vs {after}");
    // The cycle it closes is the open one, named by the cut-off it opened at: the
    // scheme's midnight in Hong Kong; the next is named by the operator's cut-off.
    let hk = jiff::tz::TimeZone::get("Asia/Hong_Kong").unwrap();
    let midnight = cut_off.to_zoned(hk.clone()).start_of_day().unwrap();
    let cycle = format!("HKD-{}", midnight.strftime("%Y%m%dT%H%M%S%z"));
    let opened = midnight.timestamp();
    assert_eq!(lines[2], format!("cycle {cycle} closes at {cut_off} (in 30 s; opened at {opened})"), "{out}");
    let next = format!("HKD-{}", cut_off.to_zoned(hk).strftime("%Y%m%dT%H%M%S%z"));
    assert_eq!(lines[3], format!("the next cycle opens at {cut_off}: {next}"), "{out}");

    // In the audit trail as its own version, and in the table listing.
    let (_, history, _) = run(&fx, &["routes", "history", "--verbose"]);
    let last: Vec<&str> = history.lines().rev().take(2).collect();
    assert_eq!(last[0].trim(), "~ settlement/HKD", "{history}");
    assert!(last[1].starts_with("v3 ") && last[1].contains("ops-anna"), "{history}");
    assert!(last[1].ends_with("+0 ~1 -0  settlement close HKD: early close"), "{history}");
    let (_, list, _) = run(&fx, &["routes", "list"]);
    let line = list.lines().find(|l| l.starts_with("settlement/HKD")).unwrap();
    assert!(line.ends_with("cycles at 00:00 (Asia/Hong_Kong), 2 operator cut-off(s)"), "{line}");

    // The next cycle `status` shows is the one the cut-off closes.
    let (code, status, err) = run(&fx, &["settlement", "status", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let status = json(&status);
    assert_eq!(status["routing_version"], 3);
    let schemes = status["schemes"].as_array().unwrap();
    assert_eq!(schemes.len(), 1);
    assert_eq!(schemes[0]["next_cycle"]["cycle_id"], cycle.as_str());
    assert_eq!(schemes[0]["next_cycle"]["cut_off"], cut_off.to_string());
    assert_eq!(schemes[0]["last_netted"], Value::Null);

    // No scheme for the currency, or no operator: exit 1, nothing applied.
    let (code, out, err) =
        run(&fx, &["settlement", "close", "--currency", "EUR", "--operator", "ops-anna", "--reason", "x"]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert_eq!(err.trim(), "EUR: no settlement scheme in the live routing table (version 3); schemes: HKD");
    let (code, _, err) = run(&fx, &["settlement", "close", "--currency", "HKD", "--operator", " ", "--reason", "x"]);
    assert_eq!((code, err.trim()), (1, "--operator and --reason must not be empty"));
    let (code, _, _) = run(
        &fx,
        &["settlement", "close", "--currency", "HKD", "--operator", "a", "--reason", "x", "--after-seconds", "0"],
    );
    assert_eq!(code, 2, "a cut-off now would pass before the workers see it");
    let (_, shown, _) = run(&fx, &["routes", "show"]);
    assert!(shown.starts_with("version 3\n"), "{shown}");
    fx.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_and_statements_hold_exactly_the_netted_positions_and_status_shows_the_last_cycle() {
    interlink_testkit::require_broker!();
    let fx = Fixture::new(2).await;
    let cut_off = Timestamp::now() + SignedDuration::from_secs(20);
    let rules = rules_closing_at(cut_off);
    assert_eq!(fx.apply_routes(&rules), 2);
    let worker = interlink_switch::start(fx.switch_config("w-report")).await.unwrap();
    common::wait_ready(&worker).await;

    let opts = fx.load_options(400);
    let run_rules = rules.clone();
    let summary =
        tokio::task::spawn_blocking(move || interlink_testkit::run(&opts, &run_rules, |_| {}).unwrap()).await.unwrap();
    assert_eq!((summary.lost, summary.duplicated, summary.unexpected), (0, 0, 0), "{summary}");
    assert!(Timestamp::now() < cut_off, "the traffic must end before the cut-off; it took too long");
    let clearing: Vec<ClearingRecord> =
        fx.read_events(&fx.topics.clearing, summary.clearing_records as usize, Duration::from_secs(30));
    assert_eq!(clearing.len() as u64, summary.clearing_records);
    let expected = recompute(&clearing);
    let cycles: BTreeSet<String> = expected.keys().map(|(c, _, _)| c.clone()).collect();
    assert!(cycles.len() >= 4, "{cycles:?}");

    // The empty midnight cycles at start, then the operator's: a summary each, and the positions.
    let wait = cut_off.duration_since(Timestamp::now()).as_secs_f64().max(0.0) + 30.0;
    let records = netted(&fx, 2 * CURRENCIES.len() + expected.len(), Duration::from_secs_f64(wait));
    worker.stop().await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    for cycle in &cycles {
        let currency = &cycle[..3];
        let want: BTreeMap<(String, String), (i64, i64, i64, i64)> = expected
            .iter()
            .filter(|((c, _, _), _)| c == cycle)
            .map(|((_, n, i), v)| ((n.clone(), i.clone()), *v))
            .collect();
        let summary = records.iter().find(|r| r.cycle_id == *cycle && r.kind == SettlementRecordKind::Summary).unwrap();

        let (code, out, err) = run(&fx, &["settlement", "report", cycle, "--format", "json"]);
        assert_eq!(code, 0, "{cycle}: {err}");
        let report = json(&out);
        let positions = report["positions"].as_array().unwrap();
        let got: BTreeMap<(String, String), (i64, i64, i64, i64)> = positions
            .iter()
            .map(|p| {
                let who = &p["participant"];
                let key =
                    (who["network"].as_str().unwrap().to_string(), who["institution_id"].as_str().unwrap().to_string());
                let v = |f: &str| p[f].as_i64().unwrap();
                (key, (v("gross_debit_minor"), v("gross_credit_minor"), v("debits"), v("credits")))
            })
            .collect();
        assert_eq!(got, want, "{cycle}: the report holds exactly the recomputed positions");
        for p in positions {
            let (net, debit, credit) = (
                p["net_minor"].as_i64().unwrap(),
                p["gross_debit_minor"].as_i64().unwrap(),
                p["gross_credit_minor"].as_i64().unwrap(),
            );
            assert_eq!(net, credit - debit);
            assert_eq!(p["net"], major(net, currency));
            assert_eq!(p["gross_debit"], major(debit, currency));
            assert_eq!(p["settlement_amount"], major(net.abs(), currency));
            assert_eq!(
                p["direction"],
                if net < 0 {
                    "PAY"
                } else if net > 0 {
                    "RECEIVE"
                } else {
                    "NONE"
                }
            );
            assert_eq!(p["cycle_id"], cycle.as_str());
            assert_eq!(p["cut_off"], Timestamp::from_microsecond(cut_off.as_microsecond()).unwrap().to_string());
        }
        assert_eq!(positions.iter().map(|p| p["net_minor"].as_i64().unwrap()).sum::<i64>(), 0);
        let c = &report["cycle"];
        assert_eq!(c["participants"], want.len());
        assert_eq!(c["clearing_records"], clearing.iter().filter(|r| in_cycle(r, cycle)).count());
        assert_eq!((c["late_records"].as_i64(), c["partitions"].as_i64()), (Some(0), Some(2)));
        assert_eq!(c["gross_debit_minor"], summary.gross_debit_minor);
        assert_eq!(report["check"]["balanced"], true);
        assert_eq!(report["check"]["net_sum_minor"], 0);

        // The table: a row per participant, the summary, the check.
        let (code, table, err) = run(&fx, &["settlement", "report", cycle]);
        assert_eq!(code, 0, "{err}");
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 2 + want.len() + 2, "{table}");
        assert!(lines[0].starts_with(&format!("cycle {cycle} ({currency}): records cleared after ")), "{table}");
        assert!(lines[1].starts_with("NETWORK "), "{table}");
        for (row, p) in lines[2..2 + want.len()].iter().zip(positions) {
            let cells: Vec<&str> = row.split_whitespace().collect();
            assert_eq!(cells[0], p["participant"]["network"].as_str().unwrap(), "{row}");
            assert_eq!(cells[1], p["participant"]["institution_id"].as_str().unwrap(), "{row}");
            assert_eq!(
                cells[cells.len() - 4..],
                [&p["gross_debit"], &p["gross_credit"], &p["net"], &p["direction"]].map(|v| v.as_str().unwrap()),
                "{row}"
            );
        }
        assert!(lines[lines.len() - 2].starts_with(&format!("SUMMARY: {} participant(s), ", want.len())), "{table}");
        assert_eq!(
            lines[lines.len() - 1],
            format!("check: {} position(s) sum to {} {currency}: balanced", want.len(), major(0, currency))
        );

        // Statements: one JSON and one CSV per participant, the summary and all positions.
        let (code, out, err) =
            run(&fx, &["settlement", "report", cycle, "--format", "csv", "--out", dir.path().to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(err.trim(), format!("wrote {} file(s) to {}", 2 * want.len() + 2, dir.path().join(cycle).display()));
        let at = dir.path().join(cycle);
        let files: BTreeSet<String> =
            std::fs::read_dir(&at).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        let mut want_files: BTreeSet<String> =
            want.keys().flat_map(|(n, i)| [format!("{n}_{i}.json"), format!("{n}_{i}.csv")]).collect();
        want_files.extend(["summary.json".to_string(), "positions.csv".to_string()]);
        assert_eq!(files, want_files);
        assert_eq!(json(&std::fs::read_to_string(at.join("summary.json")).unwrap()), report);
        let positions_csv = std::fs::read_to_string(at.join("positions.csv")).unwrap();
        assert_eq!(positions_csv, out, "the CSV report is positions.csv");
        assert_eq!(positions_csv.lines().count(), 1 + want.len());
        for p in positions {
            let who = &p["participant"];
            let base = format!("{}_{}", who["network"].as_str().unwrap(), who["institution_id"].as_str().unwrap());
            let statement = json(&std::fs::read_to_string(at.join(format!("{base}.json"))).unwrap());
            assert_eq!(&statement, p);
            let csv = std::fs::read_to_string(at.join(format!("{base}.csv"))).unwrap();
            let csv: Vec<&str> = csv.lines().collect();
            assert_eq!(csv.len(), 2);
            assert_eq!(csv[0], positions_csv.lines().next().unwrap());
            assert!(positions_csv.lines().any(|l| l == csv[1]));
            assert!(csv[1].starts_with(&format!("{cycle},{currency},")), "{}", csv[1]);
        }
    }

    // One participant's position alone: the cycle with the most participants.
    let busiest = cycles.iter().max_by_key(|c| expected.keys().filter(|(x, _, _)| x == *c).count()).unwrap();
    let (_, n, i) = expected.keys().find(|(c, _, _)| c == busiest).unwrap();
    let (code, out, err) =
        run(&fx, &["settlement", "report", busiest, "--participant", &format!("{n}/{i}"), "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let one = json(&out);
    assert_eq!(one["positions"].as_array().unwrap().len(), 1);
    assert_eq!(one["positions"][0]["participant"]["institution_id"], i.as_str());
    let (code, _, err) = run(&fx, &["settlement", "report", busiest, "--participant", "HK_FPS/999"]);
    assert_eq!((code, err.trim().to_string()), (1, format!("HK_FPS/999 has no position in {busiest}")));

    // An unknown cycle: exit 1, with the cycles there are.
    let (code, out, err) = run(&fx, &["settlement", "report", "HKD-20200101T000000+0000"]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(err.starts_with("HKD-20200101T000000+0000: no netted cycle of that id on "), "{err}");

    // Status: each scheme's last netted cycle is the operator's.
    let (code, out, err) = run(&fx, &["settlement", "status"]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3 * CURRENCIES.len() + 1, "{out}");
    assert_eq!(lines[lines.len() - 1], format!("{} scheme(s) at routing version 2", CURRENCIES.len()));
    for (k, currency) in CURRENCIES.iter().enumerate() {
        let s = records
            .iter()
            .find(|r| {
                r.currency == *currency
                    && r.kind == SettlementRecordKind::Summary
                    && r.cut_off == cut_off.as_microsecond()
            })
            .unwrap();
        assert_eq!(lines[3 * k], format!("{currency:<4} cycles at 00:00 daily (UTC)"));
        assert!(lines[3 * k + 1].starts_with(&format!("     next: {currency}-")), "{out}");
        let closed = Timestamp::from_microsecond(s.closed_at).unwrap();
        assert_eq!(
            lines[3 * k + 2],
            format!(
                "     last: {} closed {closed}: {} participant(s), {} clearing record(s), 0 late",
                s.cycle_id, s.participants, s.clearing_records
            )
        );
    }
    fx.cleanup().await;
}

/// A settled pacs.002 a network writes, with the Kafka timestamp it is written with.
fn forged_status(wire: &str, minor: i64) -> CanonicalStatus {
    CanonicalStatus {
        original_amount: Some(NetMoney::new(minor, "CNY")),
        ..common::accc("FORGEDSTS1", wire, &format!("E2E-{wire}"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_matches_a_two_leg_cycle_with_the_networks_and_lists_forged_records() {
    interlink_testkit::require_broker!();
    let fx = Fixture::new(2).await;
    let connected = vec!["CN_IBPS".to_string(), "HK_FPS".to_string()];
    let cut_off = Timestamp::now() + SignedDuration::from_secs(25);
    let rules = rules_closing_at(cut_off);
    assert_eq!(fx.apply_routes(&rules), 2);
    let mut config = fx.switch_config("w-reconcile");
    config.networks.connected = connected.clone();
    let worker = interlink_switch::start(config).await.unwrap();
    common::wait_ready(&worker).await;

    let mut opts = fx.load_options(400);
    opts.network_legs = NetworkLegs {
        connected: connected.clone(),
        accept_per_mille: 900,
        reject_reasons: vec!["AC04".into(), "AM04".into()],
        ..NetworkLegs::default()
    };
    opts.simulate = true;
    let run_rules = rules.clone();
    let summary =
        tokio::task::spawn_blocking(move || interlink_testkit::run(&opts, &run_rules, |_| {}).unwrap()).await.unwrap();
    assert!(summary.is_exact(), "{summary}");
    assert!(Timestamp::now() < cut_off, "the traffic must end before the cut-off; it took too long");
    let clearing: Vec<ClearingRecord> =
        fx.read_events(&fx.topics.clearing, summary.clearing_records as usize, Duration::from_secs(30));
    assert_eq!(clearing.len() as u64, summary.clearing_records);
    let positions = recompute(&clearing);
    let wait = cut_off.duration_since(Timestamp::now()).as_secs_f64().max(0.0) + 30.0;
    netted(&fx, 2 * CURRENCIES.len() + positions.len(), Duration::from_secs_f64(wait));
    worker.stop().await.unwrap();

    // The renminbi cycle: payments into CN IBPS and HK FPS (two legs), and into networks
    // settled directly (ID BI-FAST, TH PromptPay).
    let cycle =
        clearing.iter().find_map(|c| c.credit_settlement_cycle.clone().filter(|id| id.starts_with("CNY-"))).unwrap();
    let ours: Vec<&ClearingRecord> = clearing.iter().filter(|c| in_cycle(c, &cycle)).collect();
    let to_connected = |c: &&&ClearingRecord| connected.contains(&c.creditor_agent.network);
    let two_leg = ours.iter().filter(to_connected).count();
    assert!(two_leg > 10 && ours.len() > two_leg, "{two_leg} of {}", ours.len());
    let mut per_network: BTreeMap<String, (u64, BTreeMap<String, i64>)> = BTreeMap::new();
    for c in &ours {
        let e = per_network.entry(c.creditor_agent.network.clone()).or_default();
        e.0 += 1;
        *e.1.entry(c.credit_amount.currency.clone()).or_default() += c.credit_amount.minor_units;
    }

    let check_totals = |r: &Value, extra_cn: u64| {
        let networks = r["networks"].as_array().unwrap();
        assert_eq!(networks.len(), per_network.len(), "{networks:#?}");
        for t in networks {
            let name = t["network"].as_str().unwrap();
            let (records, credits) = &per_network[name];
            let is_connected = connected.iter().any(|n| n == name);
            let extra = if name == "CN_IBPS" { extra_cn } else { 0 };
            assert_eq!(t["records"], records + extra, "{name}");
            assert_eq!(t["mode"], if is_connected { "two_leg" } else { "direct" }, "{name}");
            if extra == 0 {
                let minor: BTreeMap<String, i64> = serde_json::from_value(t["credits_minor"].clone()).unwrap();
                assert_eq!(&minor, credits, "{name}");
                for (ccy, m) in credits {
                    assert_eq!(t["credits"][ccy], major(*m, ccy));
                }
            }
        }
    };

    let (code, out, err) = run(&fx, &["settlement", "reconcile", &cycle, "--format", "json"]);
    assert_eq!(code, 0, "{err}\n{out}");
    let clean = json(&out);
    assert_eq!(clean["clean"], true);
    assert_eq!(clean["netted"], true);
    assert_eq!(clean["connected"], serde_json::json!(connected));
    assert_eq!(clean["clearing_records"], ours.len());
    assert_eq!((clean["two_leg"].as_u64(), clean["confirmed"].as_u64()), (Some(two_leg as u64), Some(two_leg as u64)));
    assert_eq!(clean["direct"], ours.len() - two_leg);
    assert_eq!((clean["reversals"].as_u64(), clean["mismatches"].as_array().map(Vec::len)), (Some(0), Some(0)));
    check_totals(&clean, 0);
    for t in clean["networks"].as_array().unwrap() {
        let confirmed = if t["mode"] == "two_leg" { t["records"].as_u64().unwrap() } else { 0 };
        assert_eq!(t["confirmed"], confirmed, "{t}");
    }
    // Naming the connected networks gives the same answer; the table ends clean.
    let (code, same, _) =
        run(&fx, &["settlement", "reconcile", &cycle, "--format", "json", "--connected", "CN_IBPS,HK_FPS"]);
    assert_eq!((code, json(&same)), (0, clean.clone()));
    let (code, table, err) = run(&fx, &["settlement", "reconcile", &cycle]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3 + per_network.len() + 2, "{table}");
    assert_eq!(lines[1], "connected networks: CN_IBPS, HK_FPS");
    assert_eq!(
        lines[lines.len() - 2],
        format!(
            "{} clearing record(s): {two_leg} to connected networks ({two_leg} confirmed), {} direct, 0 reversal(s) (0 matched with a return)",
            ours.len(),
            ours.len() - two_leg
        )
    );
    assert_eq!(lines[lines.len() - 1], "clean: every record matches its network");

    // Forged: a clearing record CN IBPS never confirmed, a copy of a confirmed one with
    // another amount, and a CN IBPS acceptance written during the cycle for a payment
    // that never cleared.
    let confirmed_cn = ours.iter().find(|c| c.creditor_agent.network == "CN_IBPS" && c.reverses.is_none()).unwrap();
    let unconfirmed = ClearingRecord {
        transaction_id: "FORGED-1".into(),
        end_to_end_id: "E2E-FORGED-1".into(),
        debtor_agent: Agent::new("HK_FPS", "004"),
        creditor_agent: Agent::new("CN_IBPS", "104100000004"),
        debit_amount: Amount::new(10_950, "HKD"),
        credit_amount: Amount::new(10_000, "CNY"),
        debit_settlement_cycle: None,
        credit_settlement_cycle: Some(cycle.clone()),
        ..(*confirmed_cn).clone()
    };
    let mut other_amount = (*confirmed_cn).clone();
    other_amount.credit_amount.minor_units += 1;
    let codec = Codec::<ClearingRecord>::new().unwrap();
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", &fx.kafka.brokers)
        .set("partitioner", "murmur2_random")
        .create()
        .unwrap();
    for c in [&unconfirmed, &other_amount] {
        let value = codec.encode(c).unwrap();
        producer
            .send(BaseRecord::to(&fx.topics.clearing).key(&c.transaction_id).payload(&value))
            .map_err(|(e, _)| e)
            .unwrap();
    }
    let cn = interlink_connectors::connector("CN_IBPS").unwrap();
    let status = cn.encode_status(&forged_status("FORGEDWIRE1", 5_000)).unwrap();
    let written_at = Timestamp::from_millisecond((cut_off - SignedDuration::from_secs(2)).as_millisecond()).unwrap();
    let in_topic = fx.topics.network_in("CN_IBPS");
    producer
        .send(BaseRecord::to(&in_topic).key("FORGEDWIRE1").payload(&status).timestamp(written_at.as_millisecond()))
        .map_err(|(e, _)| e)
        .unwrap();
    // The same report written after the cycle is another cycle's business.
    let status_after = cn.encode_status(&forged_status("FORGEDWIRE2", 6_000)).unwrap();
    let after_cut_off = (cut_off + SignedDuration::from_secs(1)).as_millisecond();
    producer
        .send(BaseRecord::to(&in_topic).key("FORGEDWIRE2").payload(&status_after).timestamp(after_cut_off))
        .map_err(|(e, _)| e)
        .unwrap();
    producer.flush(Duration::from_secs(10)).unwrap();

    let (code, out, err) = run(&fx, &["settlement", "reconcile", &cycle, "--format", "json"]);
    assert_eq!(code, 1, "{err}\n{out}");
    assert_eq!(err.trim(), format!("3 mismatch(es) in {cycle}"));
    let forged = json(&out);
    assert_eq!(forged["clean"], false);
    assert_eq!(forged["clearing_records"], ours.len() + 2);
    assert_eq!(forged["confirmed"], two_leg);
    check_totals(&forged, 2);
    let cn_totals = forged["networks"].as_array().unwrap().iter().find(|t| t["network"] == "CN_IBPS").unwrap().clone();
    assert_eq!(cn_totals["mismatches"], 3);
    let mismatches: Vec<(String, String, String, String)> = forged["mismatches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let s = |f: &str| m[f].as_str().unwrap_or("-").to_string();
            (s("kind"), s("network"), s("transaction_id"), s("wire_id"))
        })
        .collect();
    let confirmed_wire = wire_id(&confirmed_cn.transaction_id).as_str().to_string();
    assert_eq!(
        mismatches,
        [
            ("no_confirmation".into(), "CN_IBPS".into(), "FORGED-1".into(), "FORGED-1".into()),
            ("amount_differs".into(), "CN_IBPS".into(), confirmed_cn.transaction_id.clone(), confirmed_wire.clone()),
            ("confirmation_without_clearing".into(), "CN_IBPS".into(), "-".into(), "FORGEDWIRE1".into()),
        ]
    );
    let m = &forged["mismatches"];
    assert_eq!(m[1]["clearing_amount"]["minor_units"], other_amount.credit_amount.minor_units);
    assert_eq!(m[1]["network_amount"]["minor_units"], confirmed_cn.credit_amount.minor_units);
    assert_eq!(m[2]["network_amount"]["amount"], "50.00");
    assert!(m[2]["detail"].as_str().unwrap().contains(&format!("written {written_at}")), "{m}");

    // The table lists them too.
    let (code, table, _) = run(&fx, &["settlement", "reconcile", &cycle]);
    assert_eq!(code, 1);
    let tail: Vec<&str> = table.lines().rev().take(4).collect();
    assert_eq!(tail[3], "3 mismatch(es):", "{table}");
    let row = |kind: &str, tx: &str, wire: &str| format!("{kind:<30} {:<12} {tx} (wire {wire}): ", "CN_IBPS");
    assert!(tail[2].starts_with(&row("no_confirmation", "FORGED-1", "FORGED-1")), "{table}");
    assert!(tail[1].starts_with(&row("amount_differs", &confirmed_cn.transaction_id, &confirmed_wire)), "{table}");
    assert!(tail[0].starts_with(&row("confirmation_without_clearing", "-", "FORGEDWIRE1")), "{table}");
    assert!(tail[0].ends_with("[network CNY 50.00]"), "{table}");

    // A cycle that does not exist.
    let (code, _, err) = run(&fx, &["settlement", "reconcile", "HKD-20200101T000001+0000"]);
    assert_eq!(code, 1);
    assert!(err.contains("no such cycle"), "{err}");
    let (code, _, _) = run(&fx, &["settlement", "reconcile", "not-a-cycle"]);
    assert_eq!(code, 1);
    fx.cleanup().await;
}
