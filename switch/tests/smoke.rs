//! A short load run through the whole switch, in both settlement modes: direct, and
//! two legs through every connector with simulated networks. Fails on any lost,
//! duplicated or unexpected outcome, or clearing totals that do not add up.

mod common;

use common::{wait_ready, Fixture};
use interlink_testkit::NetworkLegs;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_every_network_connected_with_simulators() {
    interlink_testkit::require_broker!();
    let fx = Fixture::new(3).await;
    let connected: Vec<String> = interlink_connectors::connectors().map(|c| c.profile().id.to_string()).collect();
    let mut config = fx.switch_config("w-smoke");
    config.networks.connected = connected.clone();
    let switch = interlink_switch::start(config).await.unwrap();
    wait_ready(&switch).await;

    let mut opts = fx.load_options(2_000);
    opts.network_legs = NetworkLegs {
        connected,
        accept_per_mille: 900,
        reject_reasons: vec!["AC04".into(), "AM04".into()],
        ..NetworkLegs::default()
    };
    opts.simulate = true;
    let summary = tokio::task::spawn_blocking(move || interlink_testkit::run(&opts, &common::sample_rules(), |_| {}))
        .await
        .unwrap()
        .unwrap();
    assert!(summary.is_exact(), "{summary}");
    assert_eq!(summary.requests, 2_000);
    assert_eq!(summary.approved + summary.rejected + summary.dead_lettered, 2_000, "{summary}");
    // About 10% of routable payments are refused by the simulated networks.
    assert!(summary.rejected > 150, "{summary}");
    switch.stop().await.unwrap();
    fx.cleanup().await;
}
