//! Command-line arguments shared by Interlink's tools (`interlinkctl`,
//! `interlink-loadtest`): where the brokers are and which topics to use.

use crate::config::{KafkaConfig, TopicsConfig};

#[derive(clap::Args, Debug, Clone)]
pub struct ClusterArgs {
    /// Kafka bootstrap servers.
    #[arg(long, global = true, env = "INTERLINK_BROKERS", default_value = "127.0.0.1:9092")]
    pub brokers: String,
    /// Prefix of every topic name (for isolated test or staging deployments).
    #[arg(long, global = true, env = "INTERLINK_TOPIC_PREFIX", default_value = "")]
    pub topic_prefix: String,
}

impl ClusterArgs {
    pub fn kafka(&self) -> KafkaConfig {
        KafkaConfig { brokers: self.brokers.clone(), ..KafkaConfig::default() }
    }

    pub fn topics(&self) -> TopicsConfig {
        TopicsConfig::with_prefix(&self.topic_prefix)
    }
}
