//! Command-line arguments shared by Interlink's tools (`interlinkctl`,
//! `interlink-loadtest`): where the brokers are, how to authenticate to them, and
//! which topics to use.

use crate::config::{ConfigError, KafkaConfig, TopicsConfig};
use std::path::PathBuf;

#[derive(clap::Args, Debug, Clone)]
pub struct ClusterArgs {
    /// Kafka bootstrap servers [default: the --kafka-config file's, else 127.0.0.1:9092].
    #[arg(long, global = true, env = "INTERLINK_BROKERS")]
    pub brokers: Option<String>,
    /// A TOML file whose [kafka] section says how to reach the brokers: brokers,
    /// security_protocol, sasl_mechanism, sasl_username, sasl_password_file,
    /// ssl_ca_location, ... as in the switch's configuration (which will do; its other
    /// sections are ignored). INTERLINK_KAFKA__* variables override it, --brokers wins.
    #[arg(long, global = true, env = "INTERLINK_KAFKA_CONFIG")]
    pub kafka_config: Option<PathBuf>,
    /// Prefix of every topic name (for isolated test or staging deployments).
    #[arg(long, global = true, env = "INTERLINK_TOPIC_PREFIX", default_value = "")]
    pub topic_prefix: String,
}

impl ClusterArgs {
    /// The client settings: the --kafka-config file, the environment, then --brokers.
    pub fn kafka(&self) -> Result<KafkaConfig, ConfigError> {
        let mut kafka = KafkaConfig::load(self.kafka_config.as_deref())?;
        if let Some(brokers) = self.brokers.as_deref().filter(|b| !b.trim().is_empty()) {
            kafka.brokers = brokers.to_string();
        }
        Ok(kafka)
    }

    pub fn topics(&self) -> TopicsConfig {
        TopicsConfig::with_prefix(&self.topic_prefix)
    }
}
