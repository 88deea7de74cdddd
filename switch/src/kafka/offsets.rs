//! Where a worker starts reading a partition: the group's committed offset, and only
//! once that offset is stable.
//!
//! The worker never lets the consumer choose a start offset by itself. librdkafka
//! (2.12.1) fetches the committed offsets of a new assignment and retries while a
//! previous owner's transaction still holds an offset commit open
//! (`UNSTABLE_OFFSET_COMMIT`, KIP-447), but only while the assignment is unchanged: if
//! the group rebalances meanwhile, the partition goes back on its pending list with the
//! offset the broker answered, `INVALID`, and the fetcher starts it by
//! `auto.offset.reset`. With `earliest` a restarted worker then decided a partition's
//! committed requests again from its first record (found by the fault suite; see
//! docs/reliability.md). So the worker assigns every partition with an explicit offset
//! read here, and its consumer runs with `auto.offset.reset=error`.

use super::{broker_unreachable, KafkaEdgeError};
use crate::health::{Health, Part};
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::{Offset, TopicPartitionList};
use std::time::{Duration, Instant};

/// How long a worker waits for stable committed offsets: a previous owner's open
/// transaction ends within the transaction timeout (plus the coordinator's 10 s check),
/// a broker outage takes longer. It stays below the consumer's `max.poll.interval.ms`
/// (300 s), since a new assignment waits inside the rebalance callback.
pub const COMMITTED_PATIENCE: Duration = Duration::from_secs(240);

/// One call's timeout: short, so that a worker told to stop while it waits stops
/// within its drain time.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// Whether reading the committed offsets failed for a reason that passes: brokers or
/// the coordinator away, or the group rebalancing after its session timed out.
fn offsets_may_come_back(error: &KafkaError) -> bool {
    use RDKafkaErrorCode as C;
    broker_unreachable(error)
        || matches!(
            error.rdkafka_error_code(),
            Some(C::UnknownMemberId | C::IllegalGeneration | C::RebalanceInProgress | C::UnstableOffsetCommit)
        )
}

/// Where each partition of `partitions` starts: at the group's committed offset, or at
/// the beginning when the group has none. Asks again while an offset is unstable (a
/// transaction that committed or will abort it is still open) and while the brokers or
/// the coordinator are away, for at most `patience`; any other error is returned.
/// `None` when `stopping` says to give up (the worker is shutting down).
pub fn committed_start<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    partitions: &TopicPartitionList,
    health: &Health,
    patience: Duration,
    stopping: &dyn Fn() -> bool,
) -> Result<Option<TopicPartitionList>, KafkaEdgeError> {
    let started = Instant::now();
    let mut wait = Duration::from_millis(200);
    loop {
        if stopping() {
            health.clear_blocked(Part::Offsets);
            return Ok(None);
        }
        // librdkafka asks again by itself while an offset is unstable, within the call's
        // timeout: readiness says meanwhile what the worker waits for.
        health.set_blocked(
            Part::Offsets,
            format!(
                "reading the committed offsets of {} partition(s) (a previous owner's transaction may still be open)",
                partitions.count()
            ),
        );
        let answer = consumer.committed_offsets(partitions.clone(), CALL_TIMEOUT).and_then(|committed| {
            // A partition-level error (an unstable offset above all) counts as the
            // whole answer's: no partition may start from a guess.
            match committed.elements().iter().find_map(|el| el.error().err()) {
                Some(e) => Err(e),
                None => Ok(committed),
            }
        });
        match answer {
            Ok(committed) => {
                health.clear_blocked(Part::Offsets);
                let took = started.elapsed();
                if took >= Duration::from_secs(1) {
                    tracing::info!(took_ms = took.as_millis() as u64, "committed offsets read once stable");
                }
                return start_list(&committed).map(Some);
            }
            Err(e) if offsets_may_come_back(&e) && started.elapsed() < patience => {
                tracing::warn!(error = %e, retry_ms = wait.as_millis() as u64, "committed offsets not readable yet; waiting");
                health.set_blocked(Part::Offsets, format!("reading the committed offsets: {e}"));
                std::thread::sleep(wait);
                wait = (wait * 2).min(Duration::from_secs(5));
            }
            Err(e) => return Err(KafkaEdgeError::Seek(e)),
        }
    }
}

/// The committed offsets as explicit start positions.
fn start_list(committed: &TopicPartitionList) -> Result<TopicPartitionList, KafkaEdgeError> {
    let mut start = TopicPartitionList::with_capacity(committed.count());
    for el in committed.elements() {
        start.add_partition_offset(el.topic(), el.partition(), start_of(el.offset())).map_err(KafkaEdgeError::Seek)?;
    }
    Ok(start)
}

/// A committed offset, or the beginning when the group has none for the partition
/// (where a new group starts).
fn start_of(committed: Offset) -> Offset {
    match committed {
        Offset::Offset(o) => Offset::Offset(o),
        _ => Offset::Beginning,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partition_without_committed_offset_starts_at_the_beginning() {
        assert_eq!(start_of(Offset::Invalid), Offset::Beginning);
        assert_eq!(start_of(Offset::Stored), Offset::Beginning);
        assert_eq!(start_of(Offset::Offset(1364)), Offset::Offset(1364));
    }

    #[test]
    fn the_start_list_names_every_partition_with_an_explicit_position() {
        let mut committed = TopicPartitionList::new();
        committed.add_partition_offset("requests", 0, Offset::Offset(111)).unwrap();
        committed.add_partition_offset("requests", 3, Offset::Invalid).unwrap();
        let start = start_list(&committed).unwrap();
        assert_eq!(start.count(), 2);
        assert_eq!(start.find_partition("requests", 0).unwrap().offset(), Offset::Offset(111));
        assert_eq!(start.find_partition("requests", 3).unwrap().offset(), Offset::Beginning);
    }

    #[test]
    fn an_unstable_offset_is_waited_for_and_a_missing_group_is_not() {
        let unstable = KafkaError::MetadataFetch(RDKafkaErrorCode::UnstableOffsetCommit);
        assert!(offsets_may_come_back(&unstable));
        let unknown_partition = KafkaError::MetadataFetch(RDKafkaErrorCode::UnknownTopicOrPartition);
        assert!(!offsets_may_come_back(&unknown_partition));
    }
}
