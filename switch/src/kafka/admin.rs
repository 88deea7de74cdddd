//! The switch's topics: what it needs (one plan), creating them
//! (`interlinkctl topics create`) and checking existing ones against the plan
//! (`interlinkctl topics check`).

use super::{base_client_config, KafkaEdgeError, CALL_TIMEOUT};
use crate::config::{KafkaConfig, TopicsConfig};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;
use std::fmt;

/// Partitions and replication of the switch's topics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopicLayout {
    /// Partitions of the keyed topics (requests and everything partitioned like them).
    pub partitions: i32,
    pub replication: i32,
    /// `min.insync.replicas` of every topic: with `acks=all`, how many replicas must
    /// have a write before it counts.
    pub min_insync_replicas: i32,
}

impl TopicLayout {
    /// The default for a cluster of `brokers`: replication factor 3 and
    /// `min.insync.replicas` 2 where there are three brokers or more (one broker may
    /// be lost without losing a write or stopping), as many as there are below that.
    pub fn for_cluster(partitions: i32, brokers: usize) -> Self {
        let replication = i32::try_from(brokers).unwrap_or(i32::MAX).clamp(1, 3);
        Self { partitions, replication, min_insync_replicas: (replication - 1).max(1) }
    }

    /// A layout with this replication factor and its matching `min.insync.replicas`.
    pub fn with_replication(partitions: i32, replication: i32) -> Self {
        Self { partitions, replication, min_insync_replicas: (replication - 1).max(1) }
    }
}

/// How many partitions a topic has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionCount {
    /// As many as the requests topic: its partition `p` goes with state partition `p`.
    LikeRequests,
    /// A fixed count (one, for topics read in order).
    Fixed(i32),
}

/// One topic the switch needs, and its settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSpec {
    pub name: String,
    pub partitions: PartitionCount,
    /// Topic configs the switch relies on (beyond replication).
    pub configs: Vec<(&'static str, &'static str)>,
}

/// Every topic the switch uses, with what each must be.
pub fn required_topics(topics: &TopicsConfig) -> Vec<TopicSpec> {
    let keyed =
        |name: &str| TopicSpec { name: name.to_string(), partitions: PartitionCount::LikeRequests, configs: vec![] };
    let mut plan: Vec<TopicSpec> = [
        &topics.requests,
        &topics.clearing,
        &topics.notifications,
        &topics.dead_letters,
        &topics.returns,
        &topics.risk_alerts,
        // Repartition topic: payments on their way to a connected network, by wire id.
        &topics.forwards,
    ]
    .into_iter()
    .map(|t| keyed(t))
    .collect();
    let compacted = [("cleanup.policy", "compact"), ("min.compaction.lag.ms", "60000")];
    // State of requests partition p is changelog partition p: same count, compacted.
    plan.push(TopicSpec { configs: compacted.to_vec(), ..keyed(&topics.state) });
    // The routes log: one partition (change sets are ordered), compacted.
    plan.push(TopicSpec {
        name: topics.routes.clone(),
        partitions: PartitionCount::Fixed(1),
        configs: compacted.to_vec(),
    });
    // The audit trail and the netted cycles: one partition, kept forever.
    for name in [&topics.routes_audit, &topics.settlement] {
        plan.push(TopicSpec {
            name: name.clone(),
            partitions: PartitionCount::Fixed(1),
            configs: vec![("retention.ms", "-1")],
        });
    }
    for c in interlink_connectors::connectors() {
        plan.push(keyed(&topics.network_out(c.profile().id)));
        plan.push(keyed(&topics.network_in(c.profile().id)));
    }
    plan
}

fn admin(kafka: &KafkaConfig) -> Result<AdminClient<DefaultClientContext>, KafkaEdgeError> {
    Ok(base_client_config(kafka).create()?)
}

/// Brokers in the cluster, as its metadata lists them.
pub fn broker_count(kafka: &KafkaConfig) -> Result<usize, KafkaEdgeError> {
    let admin = admin(kafka)?;
    Ok(admin.inner().fetch_metadata(None, CALL_TIMEOUT)?.brokers().len())
}

/// Creates every topic the switch uses; existing topics are left as they are.
pub async fn ensure_topics(
    kafka: &KafkaConfig,
    topics: &TopicsConfig,
    layout: TopicLayout,
) -> Result<Vec<String>, KafkaEdgeError> {
    let admin = admin(kafka)?;
    let plan = required_topics(topics);
    let min_isr = layout.min_insync_replicas.to_string();
    let new: Vec<NewTopic<'_>> = plan
        .iter()
        .map(|spec| {
            let partitions = match spec.partitions {
                PartitionCount::LikeRequests => layout.partitions,
                PartitionCount::Fixed(n) => n,
            };
            let mut topic = NewTopic::new(&spec.name, partitions, TopicReplication::Fixed(layout.replication));
            for &(key, value) in &spec.configs {
                topic = topic.set(key, value);
            }
            if layout.replication > 1 {
                topic = topic.set("min.insync.replicas", &min_isr);
            }
            topic
        })
        .collect();
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

/// Something about an existing topic that is not what the switch needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicProblem {
    pub topic: String,
    pub problem: String,
}

impl fmt::Display for TopicProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.topic, self.problem)
    }
}

/// What an existing topic is, as far as the plan cares.
#[derive(Debug, Clone, Default)]
pub struct ExistingTopic {
    pub partitions: i32,
    /// The fewest replicas of any partition.
    pub replication: i32,
    pub configs: Vec<(String, String)>,
}

/// Compares existing topics (`None`: missing) with the plan, for a cluster whose
/// expected layout is `want`. Pure, so every rule is tested without a broker.
pub fn compare_topics(
    plan: &[TopicSpec],
    existing: impl Fn(&str) -> Option<ExistingTopic>,
    requests_topic: &str,
    want: TopicLayout,
) -> Vec<TopicProblem> {
    let requests_partitions = existing(requests_topic).map_or(want.partitions, |t| t.partitions);
    let mut problems = Vec::new();
    for spec in plan {
        let mut problem = |text: String| problems.push(TopicProblem { topic: spec.name.clone(), problem: text });
        let Some(topic) = existing(&spec.name) else {
            problem("missing; create it with `interlinkctl topics create`".into());
            continue;
        };
        match spec.partitions {
            PartitionCount::LikeRequests if topic.partitions != requests_partitions => problem(format!(
                "{} partitions, but {requests_topic} has {requests_partitions}: it must be partitioned like the requests (state partition p goes with partition p of every input)",
                topic.partitions
            )),
            PartitionCount::Fixed(n) if topic.partitions != n => {
                problem(format!("{} partitions, must be {n} (read in order)", topic.partitions))
            }
            _ => {}
        }
        if topic.replication < want.replication {
            problem(format!(
                "replication factor {}, below {} (this cluster's default)",
                topic.replication, want.replication
            ));
        }
        let config = |key: &str| topic.configs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        for &(key, value) in &spec.configs {
            // Only what the switch relies on: compaction and keeping everything.
            if key == "min.compaction.lag.ms" {
                continue;
            }
            match config(key) {
                Some(v) if v == value => {}
                other => problem(format!("{key} is {}, must be {value}", other.unwrap_or("unset"))),
            }
        }
        if want.replication > 1 {
            let isr = config("min.insync.replicas").and_then(|v| v.parse::<i32>().ok()).unwrap_or(1);
            if isr < want.min_insync_replicas {
                problem(format!(
                    "min.insync.replicas is {isr}, below {}: an acknowledged write could be lost with one broker",
                    want.min_insync_replicas
                ));
            }
        }
    }
    problems
}

/// Reads the switch's topics from the cluster and compares them with the plan: the
/// layout expected is this cluster's default, with `partitions` used only when the
/// requests topic itself is missing.
pub async fn check_topics(
    kafka: &KafkaConfig,
    topics: &TopicsConfig,
    partitions: i32,
) -> Result<(TopicLayout, Vec<TopicProblem>), KafkaEdgeError> {
    let admin = admin(kafka)?;
    let metadata = admin.inner().fetch_metadata(None, CALL_TIMEOUT)?;
    let want = TopicLayout::for_cluster(partitions, metadata.brokers().len());
    let plan = required_topics(topics);
    let mut found: std::collections::HashMap<String, ExistingTopic> = metadata
        .topics()
        .iter()
        .filter(|t| t.error().is_none() && plan.iter().any(|s| s.name == t.name()))
        .map(|t| {
            let replication = t.partitions().iter().map(|p| p.replicas().len() as i32).min().unwrap_or(0);
            (
                t.name().to_string(),
                ExistingTopic { partitions: t.partitions().len() as i32, replication, configs: vec![] },
            )
        })
        .collect();
    let names: Vec<String> = found.keys().cloned().collect();
    let resources: Vec<ResourceSpecifier<'_>> = names.iter().map(|n| ResourceSpecifier::Topic(n)).collect();
    let opts = AdminOptions::new().request_timeout(Some(CALL_TIMEOUT));
    // Right after topics are created the brokers may refuse the query for a moment
    // (InvalidArgument, seen on a 3-node cluster): ask again a few times.
    let mut described = admin.describe_configs(&resources, &opts).await;
    for _ in 0..5 {
        if described.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        described = admin.describe_configs(&resources, &opts).await;
    }
    for resource in described?.into_iter().flatten() {
        if let rdkafka::admin::OwnedResourceSpecifier::Topic(name) = &resource.specifier {
            if let Some(topic) = found.get_mut(name) {
                topic.configs = resource.entries.into_iter().filter_map(|e| Some((e.name, e.value?))).collect();
            }
        }
    }
    let problems = compare_topics(&plan, |name| found.get(name).cloned(), &topics.requests, want);
    Ok((want, problems))
}

/// Deletes topics (tests clean up after themselves).
pub async fn delete_topics(kafka: &KafkaConfig, names: &[&str]) -> Result<(), KafkaEdgeError> {
    admin(kafka)?.delete_topics(names, &AdminOptions::new().operation_timeout(Some(CALL_TIMEOUT))).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn as_created(plan: &[TopicSpec], layout: TopicLayout) -> HashMap<String, ExistingTopic> {
        plan.iter()
            .map(|s| {
                let partitions = match s.partitions {
                    PartitionCount::LikeRequests => layout.partitions,
                    PartitionCount::Fixed(n) => n,
                };
                let mut configs: Vec<(String, String)> =
                    s.configs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
                configs.push(("min.insync.replicas".into(), layout.min_insync_replicas.to_string()));
                (s.name.clone(), ExistingTopic { partitions, replication: layout.replication, configs })
            })
            .collect()
    }

    #[test]
    fn the_default_layout_follows_the_cluster() {
        assert_eq!(
            TopicLayout::for_cluster(12, 1),
            TopicLayout { partitions: 12, replication: 1, min_insync_replicas: 1 }
        );
        assert_eq!(TopicLayout::for_cluster(12, 2).replication, 2);
        assert_eq!(
            TopicLayout::for_cluster(12, 3),
            TopicLayout { partitions: 12, replication: 3, min_insync_replicas: 2 }
        );
        assert_eq!(
            TopicLayout::for_cluster(12, 9),
            TopicLayout { partitions: 12, replication: 3, min_insync_replicas: 2 }
        );
    }

    #[test]
    fn topics_as_created_have_no_problem() {
        let topics = TopicsConfig::default();
        let plan = required_topics(&topics);
        for layout in [TopicLayout::for_cluster(6, 1), TopicLayout::for_cluster(6, 3)] {
            let existing = as_created(&plan, layout);
            assert_eq!(compare_topics(&plan, |n| existing.get(n).cloned(), &topics.requests, layout), vec![]);
        }
    }

    #[test]
    fn each_wrong_setting_is_named() {
        let topics = TopicsConfig::default();
        let plan = required_topics(&topics);
        let want = TopicLayout::for_cluster(6, 3);
        let mut existing = as_created(&plan, want);
        existing.remove(&topics.returns);
        existing.get_mut(&topics.state).unwrap().partitions = 4;
        existing.get_mut(&topics.state).unwrap().configs.retain(|(k, _)| k != "cleanup.policy");
        existing.get_mut(&topics.routes).unwrap().partitions = 3;
        existing.get_mut(&topics.clearing).unwrap().replication = 1;
        let audit = existing.get_mut(&topics.routes_audit).unwrap();
        audit.configs = vec![("retention.ms".into(), "604800000".into()), ("min.insync.replicas".into(), "1".into())];
        let problems: Vec<String> = compare_topics(&plan, |n| existing.get(n).cloned(), &topics.requests, want)
            .iter()
            .map(ToString::to_string)
            .collect();
        let expected = [
            format!("{}: replication factor 1, below 3 (this cluster's default)", topics.clearing),
            format!("{}: missing; create it with `interlinkctl topics create`", topics.returns),
            format!("{}: 4 partitions, but {} has 6: it must be partitioned like the requests (state partition p goes with partition p of every input)", topics.state, topics.requests),
            format!("{}: cleanup.policy is unset, must be compact", topics.state),
            format!("{}: 3 partitions, must be 1 (read in order)", topics.routes),
            format!("{}: retention.ms is 604800000, must be -1", topics.routes_audit),
            format!("{}: min.insync.replicas is 1, below 2: an acknowledged write could be lost with one broker", topics.routes_audit),
        ];
        assert_eq!(problems, expected);
    }
}
