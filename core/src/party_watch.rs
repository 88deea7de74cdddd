//! Anomaly rules on a party other than the debtor. On one creditor's incoming payments:
//! many debtors paying a new creditor in a short time (the mule pattern, `many_debtors`)
//! and more payments (or amount) to a creditor in a window than a cap
//! (`creditor_velocity`). On one payer device's payments: the same cap
//! (`device_velocity`).
//!
//! A payment is decided at its debtor's partition; a creditor's (or a device's) payments
//! come from every partition. So, as Kafka Streams repartitions, the debtor's partition
//! sends a [`PaymentSeen`] on the forwards topic keyed by the watched party's digest, in
//! the same transaction as the payment's outputs, and that party's partition keeps its
//! [`CreditorActivity`] and writes an ALERTED alert when a rule fires, in one
//! transaction again: each payment counts once, and each firing alerts once. The
//! payment itself has gone ahead by then, which is why these rules can only alert.

use crate::memory::{self, MemoryError, UsageOf};
use interlink_routing::{AnomalyPattern, CompiledAnomaly, Route, RoutingTable, Watched};
use interlink_schemas::{Agent, Amount, AuthorizationRequest};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Where a watched party's activity is kept, in the state of its digest's partition.
pub(crate) const CREDITOR_STORE: u8 = b'c';
/// First byte of a [`PaymentSeen`] on the forwards topic.
const SEEN_TAG: u8 = b'O';

/// A creditor's digest: lowercase hex SHA-256 of its network, institution and account,
/// each length-prefixed. The forwards record's key, so no account number is in Kafka keys.
pub fn creditor_digest(network: &str, institution: &str, account: Option<&str>) -> String {
    digest(&[network, institution, account.unwrap_or("")])
}

/// A device's digest: the same over a "device" tag and the origin's device id, so it
/// never equals a creditor's.
pub fn device_digest(device_id: &str) -> String {
    digest(&["device", device_id])
}

fn digest(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for part in parts {
        h.update((part.len() as u32).to_be_bytes());
        h.update(part.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A debtor as a 64-bit fingerprint of its network, institution and account: enough to
/// tell debtors apart, with no account number in the creditor's state.
fn debtor_fingerprint(r: &AuthorizationRequest) -> u64 {
    let mut h = Sha256::new();
    for part in [&r.debtor_agent.network, &r.debtor_agent.institution_id, &r.debtor_account] {
        h.update((part.len() as u32).to_be_bytes());
        h.update(part.as_bytes());
    }
    let digest = h.finalize();
    u64::from_be_bytes(digest[..8].try_into().expect("a SHA-256 digest has 8 bytes"))
}

/// A payment that went ahead, sent to a watched party's partition (its creditor's, or
/// its payer device's) for that party's rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentSeen {
    pub watched: Watched,
    /// The party's digest: the record's key and its entry's.
    pub key: String,
    /// The party as alerts show it: the creditor's network, institution and masked
    /// account, or the masked device id.
    pub shown: String,
    pub debtor: u64,
    /// The corridor's rules on that party the payment counts in (above their floor):
    /// each rule's id and the payment's amount in the rule's currency (minor units).
    pub rules: Vec<(String, i64)>,
    pub transaction_id: String,
    pub end_to_end_id: String,
    pub debtor_agent: Agent,
    pub creditor_agent: Agent,
    pub amount: Amount,
    pub corridor: String,
}

impl PaymentSeen {
    pub fn encode(&self) -> Result<Vec<u8>, MemoryError> {
        memory::encode_tagged(SEEN_TAG, self)
    }

    /// `Some` for a payment-seen record (decoded or not), `None` for anything else.
    pub fn decode(bytes: &[u8]) -> Option<Result<Self, MemoryError>> {
        memory::decode_tagged(SEEN_TAG, bytes)
    }

    /// What a payment that went ahead tells the partitions of its creditor and of its
    /// payer's device, for each that the corridor has rules on whose floor the payment
    /// is above: zero, one or two records.
    pub fn of_payment(
        table: &RoutingTable,
        route: &Route<'_>,
        request: &AuthorizationRequest,
        creditor_account: Option<&str>,
    ) -> Vec<Self> {
        let (network, institution) = (route.creditor.network.as_str(), route.creditor.institution_id.as_str());
        let creditor = || {
            let account = creditor_account.map(|a| format!("/{}", crate::blocks::mask(a))).unwrap_or_default();
            (creditor_digest(network, institution, creditor_account), format!("{network}/{institution}{account}"))
        };
        let device =
            || request.device_id.as_deref().map(|d| (device_digest(d), format!("device {}", crate::blocks::mask(d))));
        let mut seen = Vec::new();
        for watched in [Watched::Creditor, Watched::Device] {
            let rules: Vec<(String, i64)> =
                watched_rules(table, &route.debtor.network, &route.creditor.network, watched)
                    .filter_map(|rule| {
                        let amount = table.anomaly_amount(rule, route, request.amount.minor_units).ok()?;
                        (amount > rule.rule.min_amount_minor).then(|| (rule.rule.id.clone(), amount))
                    })
                    .collect();
            let party = match watched {
                Watched::Creditor => Some(creditor()),
                Watched::Device => device(),
                Watched::Debtor => None,
            };
            if let (false, Some((key, shown))) = (rules.is_empty(), party) {
                seen.push(Self::new(watched, key, shown, rules, request, route));
            }
        }
        seen
    }

    fn new(
        watched: Watched,
        key: String,
        shown: String,
        rules: Vec<(String, i64)>,
        request: &AuthorizationRequest,
        route: &Route<'_>,
    ) -> Self {
        Self {
            watched,
            key,
            shown,
            debtor: debtor_fingerprint(request),
            rules,
            transaction_id: request.transaction_id.clone(),
            end_to_end_id: request.end_to_end_id.clone(),
            debtor_agent: request.debtor_agent.clone(),
            creditor_agent: Agent::new(&route.creditor.network, &route.creditor.institution_id),
            amount: request.amount.clone(),
            corridor: route.corridor.id.to_string(),
        }
    }
}

/// The rules on `watched` parties of payments from `from` to `to`.
fn watched_rules<'t>(
    table: &'t RoutingTable,
    from: &str,
    to: &str,
    watched: Watched,
) -> impl Iterator<Item = &'t CompiledAnomaly> {
    table.anomalies(from, to).iter().filter(move |r| r.rule.pattern.watched() == watched)
}

/// A creditor's entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CreditorKey(Vec<u8>);

impl CreditorKey {
    pub fn new(digest: &str) -> Self {
        Self(memory::store_key(CREDITOR_STORE, &[digest]))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// What the creditor rules know of one creditor: a line per rule that has seen it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditorActivity {
    pub lines: Vec<CreditorLine>,
    /// The last line's `keep_until` (in the header).
    #[serde(skip)]
    pub expires_at: i64,
}

/// One rule's view of one creditor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditorLine {
    /// The rule's id and pattern, fingerprinted: a renamed rule starts afresh.
    pub of: UsageOf,
    /// When the rule first saw a payment to the creditor (µs): a creditor is new for
    /// `new_for_days` after it.
    pub first_seen: i64,
    /// `many_debtors`: each debtor's last payment in the window, `(debtor, at)`, oldest
    /// first, at most `min_debtors` of them.
    pub recent: Vec<(u64, i64)>,
    /// `creditor_velocity`: the window's payments and amount in thirtieths of it (a
    /// payment leaves the window up to a thirtieth late, never early), as limits' rolling
    /// windows do: bounded whatever the creditor receives.
    pub buckets: Vec<Bucket>,
    /// After an alert, no other alert of the rule on this creditor before this (µs): one
    /// alert per window, not one per payment.
    pub quiet_until: i64,
    pub keep_until: i64,
}

impl CreditorActivity {
    pub fn encode(&self) -> Result<Vec<u8>, MemoryError> {
        memory::frame(self.expires_at, self)
    }

    pub fn decode(value: &[u8]) -> Result<Self, MemoryError> {
        let mut activity: Self = memory::unframe(value)?;
        activity.expires_at = memory::expires_at(value).unwrap_or_default();
        Ok(activity)
    }
}

/// One thirtieth of a `creditor_velocity` window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bucket {
    /// Which thirtieth (time divided by the bucket's length).
    pub index: i64,
    pub payments: u32,
    pub amount_minor: i64,
}

/// Buckets per `creditor_velocity` window.
const BUCKETS: i64 = 30;

/// A creditor rule that fired on a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fired {
    pub rule: String,
    /// The rule, its table version, what it counted, the threshold.
    pub text: String,
}

/// Counts `seen` (at `now`) in the creditor's activity for each rule it names that the
/// table still has, and returns the rules that fire.
pub fn observe(table: &RoutingTable, seen: &PaymentSeen, activity: &mut CreditorActivity, now: i64) -> Vec<Fired> {
    let mut fired = Vec::new();
    let (from, to) = (&seen.debtor_agent.network, &seen.creditor_agent.network);
    for rule in watched_rules(table, from, to, seen.watched) {
        let r = &rule.rule;
        let Some(&(_, amount)) = seen.rules.iter().find(|(id, _)| *id == r.id) else { continue };
        let of = UsageOf::new(&r.id, r.pattern.as_str(), "");
        let window = i64::from(r.window_seconds.unwrap_or(0)) * 1_000_000;
        let index = match activity.lines.iter().position(|l| l.of == of) {
            Some(i) => i,
            None => {
                let line = CreditorLine {
                    of,
                    first_seen: now,
                    recent: Vec::new(),
                    buckets: Vec::new(),
                    quiet_until: 0,
                    keep_until: now,
                };
                activity.lines.push(line);
                activity.lines.len() - 1
            }
        };
        let line = &mut activity.lines[index];
        line.recent.retain(|&(_, at)| at > now - window);
        let text = match r.pattern {
            AnomalyPattern::ManyDebtors => {
                let min_debtors = r.min_debtors.unwrap_or(u32::MAX) as usize;
                line.recent.retain(|&(debtor, _)| debtor != seen.debtor);
                line.recent.push((seen.debtor, now));
                if line.recent.len() > min_debtors {
                    line.recent.remove(0);
                }
                let new_for = i64::from(r.new_for_days.unwrap_or(0)) * 86_400_000_000;
                line.keep_until = now.saturating_add(new_for.max(window));
                let age_hours = (now - line.first_seen) / 3_600_000_000;
                (line.recent.len() >= min_debtors && now - line.first_seen <= new_for).then(|| {
                    format!(
                        "anomaly rule {} (routing v{}): creditor {} was paid by {} different debtors in the last {} s, first paid {age_hours} h ago (new for {} days): at the threshold of {min_debtors}",
                        r.id,
                        table.version(),
                        seen.shown,
                        line.recent.len(),
                        window / 1_000_000,
                        r.new_for_days.unwrap_or(0)
                    )
                })
            }
            AnomalyPattern::CreditorVelocity | AnomalyPattern::DeviceVelocity => {
                let length = (window / BUCKETS).max(1);
                let index = now.div_euclid(length);
                line.buckets.retain(|b| b.index > index - BUCKETS);
                match line.buckets.iter_mut().find(|b| b.index == index) {
                    Some(b) => (b.payments, b.amount_minor) = (b.payments + 1, b.amount_minor.saturating_add(amount)),
                    None => line.buckets.push(Bucket { index, payments: 1, amount_minor: amount }),
                }
                line.keep_until = now.saturating_add(window);
                let payments: u32 = line.buckets.iter().map(|b| b.payments).sum();
                let total: i64 = line.buckets.iter().map(|b| b.amount_minor).fold(0, i64::saturating_add);
                let money = |minor: i64| {
                    let text =
                        interlink_routing::format_minor(minor, &r.currency).unwrap_or_else(|_| minor.to_string());
                    format!("{} {text}", r.currency)
                };
                let who = match seen.watched {
                    Watched::Device => format!("{} made", seen.shown),
                    Watched::Creditor | Watched::Debtor => format!("creditor {} received", seen.shown),
                };
                let over = match (r.max_payments, r.max_amount_minor) {
                    (Some(max), _) if payments > max => Some(format!("over its {max} payments")),
                    (_, Some(max)) if total > max => Some(format!("over its {}", money(max))),
                    _ => None,
                };
                over.map(|over| {
                    format!(
                        "anomaly rule {} (routing v{}): {who} {payments} payments of {} in the last {} s, {over}",
                        r.id,
                        table.version(),
                        money(total),
                        window / 1_000_000
                    )
                })
            }
            AnomalyPattern::AmountAboveUsual | AnomalyPattern::NewCreditor => None,
        };
        if let Some(text) = text.filter(|_| now >= line.quiet_until) {
            line.quiet_until = now.saturating_add(window);
            fired.push(Fired { rule: r.id.clone(), text });
        }
    }
    activity.lines.retain(|l| l.keep_until > now);
    activity.expires_at = activity.lines.iter().map(|l| l.keep_until).max().unwrap_or(now);
    fired
}

#[cfg(test)]
mod tests {
    use super::*;
    use interlink_routing::parse_routes_file;

    const MINUTE: i64 = 60_000_000;

    /// CN IBPS to HK FPS: a mule rule (5 debtors in an hour, creditor new for 7 days)
    /// and a velocity rule (more than 20 payments in 10 minutes), floors CNY 100.
    fn table() -> RoutingTable {
        RoutingTable::compile(3, &parse_routes_file("t", &table_text()).unwrap()).unwrap()
    }

    /// The test routes with the two creditor rules.
    fn table_text() -> String {
        let rules = r#"
[[anomalies]]
id = "mule"
from = "CN_IBPS"
to = "HK_FPS"
pattern = "many_debtors"
action = "alert"
currency = "CNY"
min_amount = "100.00"
min_debtors = 5
window_seconds = 3600
new_for_days = 7

[[anomalies]]
id = "busy"
from = "CN_IBPS"
to = "HK_FPS"
pattern = "creditor_velocity"
action = "alert"
currency = "CNY"
min_amount = "100.00"
window_seconds = 600
max_payments = 20
"#;
        format!("{}{rules}", interlink_routing::TEST_ROUTES_TOML)
    }

    fn seen(table: &RoutingTable, debtor_account: &str, creditor_account: &str, major: i64) -> Option<PaymentSeen> {
        let request = AuthorizationRequest {
            debtor_account: debtor_account.into(),
            creditor_account: Some(creditor_account.into()),
            amount: Amount::new(major * 100, "CNY"),
            ..crate::memory::sample_request()
        };
        let creditor = request.creditor_agent.clone().unwrap();
        let route = table.resolve(&request.debtor_agent, &creditor, &request.amount, 0).unwrap();
        PaymentSeen::of_payment(table, &route, &request, Some(creditor_account)).pop()
    }

    /// Runs `payments` (debtor, creditor, minutes from start) through one creditor
    /// store each and returns the rules that fired, with the payment's index.
    fn run(table: &RoutingTable, payments: &[(String, String, i64)]) -> Vec<(usize, String)> {
        let mut stores: std::collections::HashMap<String, CreditorActivity> = Default::default();
        let start = 1_796_083_200_000_000i64;
        let mut fired = Vec::new();
        for (i, (debtor, creditor, minute)) in payments.iter().enumerate() {
            let Some(seen) = seen(table, debtor, creditor, 500) else { continue };
            let activity = stores.entry(seen.key.clone()).or_default();
            let round_trip = CreditorActivity::decode(&activity.encode().unwrap()).unwrap();
            assert_eq!(&round_trip.lines, &activity.lines);
            for f in observe(table, &seen, activity, start + minute * MINUTE) {
                fired.push((i, f.rule));
            }
        }
        fired
    }

    #[test]
    fn five_debtors_paying_one_new_creditor_within_the_hour_fire_once() {
        let t = table();
        let pay = |d: usize, c: &str, minute: i64| (format!("622202020011{d:07}"), c.to_string(), minute);
        // Debtors 1-5 pay MULE-1 within 50 minutes: the fifth fires, the sixth is quiet.
        let mut plan: Vec<_> = (1..=6).map(|d| pay(d, "MULE-1", d as i64 * 10)).collect();
        // Four debtors in an hour, then the fifth two hours later: never five in a window.
        plan.extend((1..=4).map(|d| pay(d, "SHOP-2", d as i64)));
        plan.push(pay(5, "SHOP-2", 180));
        // One debtor paying five times is one debtor.
        plan.extend((0..5).map(|i| pay(9, "RENT-3", i)));
        assert_eq!(run(&t, &plan), [(4, "mule".to_string())]);
        let explained = {
            let mut a = CreditorActivity::default();
            let start = 1_796_083_200_000_000i64;
            let mut last = Vec::new();
            for d in 1..=5 {
                let s = seen(&t, &format!("622202020011{d:07}"), "MULE-1", 500).unwrap();
                last = observe(&t, &s, &mut a, start + d * MINUTE);
            }
            last.remove(0).text
        };
        assert!(explained.contains("creditor HK_FPS/004/****LE-1 was paid by 5 different debtors in the last 3600 s, first paid 0 h ago (new for 7 days): at the threshold of 5"), "{explained}");
    }

    #[test]
    fn an_established_creditor_is_not_a_mule_and_velocity_fires_over_its_cap() {
        let t = table();
        let pay = |d: usize, minute: i64| (format!("622202020011{d:07}"), "MERCHANT-9".to_string(), minute);
        // The merchant's first payment, then a quiet week and a day; then six debtors in
        // ten minutes: not new any more, no mule alert. 21 payments in ten minutes: busy.
        let mut plan = vec![pay(1, 0)];
        for day in 1..=8 {
            plan.push(pay(1, day * 24 * 60));
        }
        let later = 8 * 24 * 60 + 5;
        plan.extend((2..=22).map(|d| pay(d, later + (d as i64 % 10))));
        let fired = run(&t, &plan);
        assert_eq!(fired.iter().map(|(_, r)| r.as_str()).collect::<Vec<_>>(), ["busy"], "{fired:?}");
        // Below the floor nothing is sent at all.
        assert!(seen(&t, "6222020200110000001", "X", 50).is_none());
    }

    #[test]
    fn velocity_by_amount_fires_over_the_window_total_and_forgets_what_left_the_window() {
        let rules = "\n[[anomalies]]\nid = \"much\"\nfrom = \"CN_IBPS\"\nto = \"HK_FPS\"\npattern = \"creditor_velocity\"\naction = \"alert\"\ncurrency = \"CNY\"\nmin_amount = \"100.00\"\nwindow_seconds = 600\nmax_amount = \"3000.00\"\n";
        let text = format!("{}{rules}", interlink_routing::TEST_ROUTES_TOML);
        let t = RoutingTable::compile(4, &parse_routes_file("t", &text).unwrap()).unwrap();
        let pay = |d: usize, minute: i64| (format!("622202020011{d:07}"), "SHOP-1".to_string(), minute);
        // CNY 500 each: six in ten minutes make CNY 3,000 (not over), the seventh fires.
        // Twenty minutes later the window holds one payment again: quiet.
        let mut plan: Vec<_> = (1..=7).map(|d| pay(d, d as i64)).collect();
        plan.push(pay(8, 30));
        assert_eq!(run(&t, &plan), [(6, "much".to_string())]);
        let mut a = CreditorActivity::default();
        let mut text = String::new();
        for d in 1..=7 {
            let s = seen(&t, &format!("622202020011{d:07}"), "SHOP-1", 500).unwrap();
            if let Some(f) = observe(&t, &s, &mut a, 1_796_083_200_000_000 + d * MINUTE).pop() {
                text = f.text;
            }
        }
        assert!(text.contains("received 7 payments of CNY 3500.00 in the last 600 s, over its CNY 3000.00"), "{text}");
        assert!(a.lines[0].buckets.len() <= BUCKETS as usize);
    }

    #[test]
    fn a_device_paying_many_creditors_fires_at_the_devices_partition_and_the_creditor_rules_still_count() {
        let rules = "\n[[anomalies]]\nid = \"busy-device\"\nfrom = \"CN_IBPS\"\nto = \"HK_FPS\"\npattern = \"device_velocity\"\naction = \"alert\"\ncurrency = \"CNY\"\nmin_amount = \"100.00\"\nwindow_seconds = 600\nmax_payments = 3\n";
        let text = format!("{}{rules}", table_text());
        let t = RoutingTable::compile(5, &parse_routes_file("t", &text).unwrap()).unwrap();
        let start = 1_796_083_200_000_000i64;
        let (mut device, mut fired) = (CreditorActivity::default(), Vec::new());
        for k in 1..=5i64 {
            // One app, five different payers' accounts, five creditors.
            let request = AuthorizationRequest {
                debtor_account: format!("62220202001100{k}"),
                creditor_account: Some(format!("HK-{k}")),
                amount: Amount::new(50_000, "CNY"),
                device_id: Some("app-install-7f3a9c".into()),
                ..crate::memory::sample_request()
            };
            let creditor = request.creditor_agent.clone().unwrap();
            let route = t.resolve(&request.debtor_agent, &creditor, &request.amount, 0).unwrap();
            let seen = PaymentSeen::of_payment(&t, &route, &request, request.creditor_account.as_deref());
            let kinds: Vec<Watched> = seen.iter().map(|s| s.watched).collect();
            assert_eq!(kinds, [Watched::Creditor, Watched::Device], "one record per watched party");
            let on_device = seen.into_iter().find(|s| s.watched == Watched::Device).expect("the device's record");
            assert_eq!(on_device.key, device_digest("app-install-7f3a9c"));
            assert!(!on_device.shown.contains("app-install"), "masked: {}", on_device.shown);
            fired.extend(observe(&t, &on_device, &mut device, start + k * MINUTE).into_iter().map(|f| (k, f.text)));
        }
        assert_eq!(fired.len(), 1, "{fired:?}");
        assert_eq!(fired[0].0, 4, "the fourth payment in ten minutes is over 3");
        assert!(
            fired[0]
                .1
                .ends_with("device ****3a9c made 4 payments of CNY 2000.00 in the last 600 s, over its 3 payments"),
            "{}",
            fired[0].1
        );
        // Without a device id nothing goes to a device's partition.
        let request = AuthorizationRequest { amount: Amount::new(50_000, "CNY"), ..crate::memory::sample_request() };
        let creditor = request.creditor_agent.clone().unwrap();
        let route = t.resolve(&request.debtor_agent, &creditor, &request.amount, 0).unwrap();
        assert!(PaymentSeen::of_payment(&t, &route, &request, None).iter().all(|s| s.watched == Watched::Creditor));
    }

    #[test]
    fn clean_traffic_stays_quiet_and_hidden_mules_are_caught() {
        use rand::{Rng, SeedableRng};
        let t = table();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        // 5,000 debtors each with 1-4 regular creditors out of 20,000 (most paid by one
        // or two debtors) and, one payment in fifty, one of 20 shops, paying 100,000
        // times over 22 days at random minutes; hidden: 10 mules, each paid by 8
        // debtors within 40 minutes.
        let regular: Vec<Vec<usize>> =
            (0..5_000).map(|_| (0..rng.random_range(1..=4)).map(|_| rng.random_range(0..20_000)).collect()).collect();
        let mut plan: Vec<(String, String, i64)> = Vec::new();
        let month = 30 * 24 * 60;
        let mut clean: Vec<(String, String, i64)> = (0..100_000)
            .map(|_| {
                let d = rng.random_range(0..5_000);
                let creditor = if rng.random_bool(0.02) {
                    format!("SHOP-{}", rng.random_range(0..20))
                } else {
                    format!("ACC-{}", regular[d][rng.random_range(0..regular[d].len())])
                };
                (format!("62220202{d:08}"), creditor, rng.random_range(8 * 24 * 60..month))
            })
            .collect();
        for m in 0..10 {
            let at = rng.random_range(8 * 24 * 60..month - 60);
            clean.extend((0..8).map(|k| (format!("62229999{:08}", m * 8 + k), format!("MULE-{m}"), at + k as i64 * 5)));
        }
        clean.sort_by_key(|p| p.2);
        plan.extend(clean);
        let fired = run(&t, &plan);
        let mules = fired.iter().filter(|(i, r)| r == "mule" && plan[*i].1.starts_with("MULE-")).count();
        let false_mules = fired.iter().filter(|(i, r)| r == "mule" && !plan[*i].1.starts_with("MULE-")).count();
        let busy = fired.iter().filter(|(_, r)| r == "busy").count();
        assert_eq!((mules, false_mules, busy), (10, 0, 0), "{fired:?}");
    }
}
