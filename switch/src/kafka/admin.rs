//! Topic creation for operators (`interlinkctl topics create`) and tests.

use super::{base_client_config, KafkaEdgeError, CALL_TIMEOUT};
use crate::config::{KafkaConfig, TopicsConfig};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;

/// Partitions and replication of the switch's topics.
#[derive(Debug, Clone, Copy)]
pub struct TopicLayout {
    pub partitions: i32,
    pub replication: i32,
}

/// Creates every topic the switch uses; existing topics are left as they are.
/// The routes topic has one partition (change sets are ordered) and is compacted;
/// the audit and settlement topics have one partition and keep everything.
pub async fn ensure_topics(
    kafka: &KafkaConfig,
    topics: &TopicsConfig,
    layout: TopicLayout,
) -> Result<Vec<String>, KafkaEdgeError> {
    let admin: AdminClient<DefaultClientContext> = base_client_config(kafka).create()?;
    let rf = layout.replication;
    let data = [
        &topics.requests,
        &topics.clearing,
        &topics.notifications,
        &topics.dead_letters,
        &topics.returns,
        &topics.risk_alerts,
    ];
    let mut new: Vec<NewTopic<'_>> =
        data.iter().map(|t| NewTopic::new(t, layout.partitions, TopicReplication::Fixed(rf))).collect();
    new.push(
        NewTopic::new(&topics.routes, 1, TopicReplication::Fixed(rf))
            .set("cleanup.policy", "compact")
            .set("min.compaction.lag.ms", "60000"),
    );
    new.push(NewTopic::new(&topics.routes_audit, 1, TopicReplication::Fixed(rf)).set("retention.ms", "-1"));
    // Netted cycles: few records, read in cycle order, kept as the settlement's record.
    new.push(NewTopic::new(&topics.settlement, 1, TopicReplication::Fixed(rf)).set("retention.ms", "-1"));
    // Repartition topic: payments on their way to a connected network, by wire id.
    new.push(NewTopic::new(&topics.forwards, layout.partitions, TopicReplication::Fixed(rf)));
    // State of requests partition p is changelog partition p: same count, compacted.
    new.push(
        NewTopic::new(&topics.state, layout.partitions, TopicReplication::Fixed(rf))
            .set("cleanup.policy", "compact")
            .set("min.compaction.lag.ms", "60000"),
    );
    let network_topics: Vec<String> = interlink_connectors::connectors()
        .flat_map(|c| [topics.network_out(c.profile().id), topics.network_in(c.profile().id)])
        .collect();
    for t in &network_topics {
        new.push(NewTopic::new(t, layout.partitions, TopicReplication::Fixed(rf)));
    }
    let opts = AdminOptions::new().operation_timeout(Some(CALL_TIMEOUT));
    let mut created = Vec::new();
    for result in admin.create_topics(new.iter(), &opts).await? {
        match result {
            Ok(name) => created.push(name),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => return Err(KafkaEdgeError::CreateTopic { topic: name, code }),
        }
    }
    Ok(created)
}

/// Deletes topics (tests clean up after themselves).
pub async fn delete_topics(kafka: &KafkaConfig, names: &[&str]) -> Result<(), KafkaEdgeError> {
    let admin: AdminClient<DefaultClientContext> = base_client_config(kafka).create()?;
    admin.delete_topics(names, &AdminOptions::new().operation_timeout(Some(CALL_TIMEOUT))).await?;
    Ok(())
}
