//! Kafka ACLs for Interlink's principals (KRaft's `StandardAuthorizer`, or any
//! authorizer): which principal may do what on which topic, group and transactional
//! id, and creating or listing them through librdkafka's admin API. rust-rdkafka wraps
//! no ACL call, so the few used here go through `rdkafka-sys` directly.
//!
//! The rules (`interlinkctl acls plan` prints them):
//! - the **operator** creates and reads every topic of the switch, and is the only
//!   principal that writes the routing table and its audit trail (through the routes
//!   writer's transactional id), and writes reviews of held payments to the forwards;
//! - a **worker** reads requests, forwards, the routing table, its state changelog and
//!   the networks' `.in` topics, and writes the outputs (clearing, notifications, dead
//!   letters, returns, risk alerts, settlement), its changelog, the forwards and the
//!   networks' `.out` topics, in its group and under its transactional ids;
//! - a **network**'s principal writes only its own `.in` topic and reads only its own
//!   `.out`, in groups named after that topic's network prefix (`interlink.net.hk_fps…`);
//! - a **client** (a bank's gateway, the load test) writes requests and reads the
//!   outputs, in groups starting with its group prefix.

use super::KafkaEdgeError;
use crate::config::{KafkaConfig, TopicsConfig};
use rdkafka::admin::AdminClient;
use rdkafka::client::DefaultClientContext;
use rdkafka_sys as rd;
use std::ffi::{CStr, CString};
use std::fmt;
use std::time::{Duration, Instant};

/// Groups the switch's whole-topic readers name (librdkafka wants a group id; they
/// only assign partitions and never commit, but the brokers still check the group).
pub const ROUTES_READER_GROUP: &str = "interlink-routes-reader";
pub const STATE_RESTORE_GROUP: &str = "interlink-state-restore";
pub const TOPIC_READER_GROUP: &str = "interlink-topic-reader";

/// The transactional id the routes writer uses for `routes_topic`.
pub fn routes_transactional_id(routes_topic: &str) -> String {
    format!("interlinkctl-routes-{routes_topic}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Resource {
    Topic,
    Group,
    TransactionalId,
    Cluster,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Pattern {
    Literal,
    Prefixed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operation {
    Read,
    Write,
    Create,
    Delete,
    Alter,
    Describe,
    DescribeConfigs,
    AlterConfigs,
    IdempotentWrite,
    ClusterAction,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Permission {
    Allow,
    Deny,
}

/// One ACL: `principal` may (or may not) do `operation` on the resource, from `host`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AclBinding {
    pub principal: String,
    pub resource: Resource,
    pub pattern: Pattern,
    pub name: String,
    pub operation: Operation,
    pub permission: Permission,
    pub host: String,
}

impl AclBinding {
    fn allow(principal: &str, resource: Resource, pattern: Pattern, name: &str, operation: Operation) -> Self {
        Self {
            principal: principal.to_string(),
            resource,
            pattern,
            name: name.to_string(),
            operation,
            permission: Permission::Allow,
            host: "*".into(),
        }
    }
}

impl Resource {
    /// As Kafka's tools spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Topic => "TOPIC",
            Resource::Group => "GROUP",
            Resource::TransactionalId => "TRANSACTIONAL_ID",
            Resource::Cluster => "CLUSTER",
        }
    }
}

impl Pattern {
    pub fn as_str(self) -> &'static str {
        match self {
            Pattern::Literal => "LITERAL",
            Pattern::Prefixed => "PREFIXED",
        }
    }
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Read => "READ",
            Operation::Write => "WRITE",
            Operation::Create => "CREATE",
            Operation::Delete => "DELETE",
            Operation::Alter => "ALTER",
            Operation::Describe => "DESCRIBE",
            Operation::DescribeConfigs => "DESCRIBE_CONFIGS",
            Operation::AlterConfigs => "ALTER_CONFIGS",
            Operation::IdempotentWrite => "IDEMPOTENT_WRITE",
            Operation::ClusterAction => "CLUSTER_ACTION",
            Operation::All => "ALL",
        }
    }
}

impl fmt::Display for AclBinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let permission = match self.permission {
            Permission::Allow => "ALLOW",
            Permission::Deny => "DENY",
        };
        write!(
            f,
            "{permission:<5} {:<24} {:<16} {:<16} {:<8} {}",
            self.principal,
            self.operation.as_str(),
            self.resource.as_str(),
            self.pattern.as_str(),
            self.name
        )?;
        if self.host != "*" {
            write!(f, " (from {})", self.host)?;
        }
        Ok(())
    }
}

/// Who plays which part, as Kafka principals (`User:<name>`).
#[derive(Debug, Clone, Default)]
pub struct Principals {
    pub operators: Vec<String>,
    pub workers: Vec<String>,
    /// (network id, principal).
    pub networks: Vec<(String, String)>,
    pub clients: Vec<String>,
}

/// What the ACLs must fit: the topics, and the workers' group and transactional ids.
#[derive(Debug, Clone)]
pub struct AclScope {
    pub topics: TopicsConfig,
    /// The workers' consumer group (`kafka.group_id`).
    pub group_id: String,
    /// The workers' transactional ids start with `<prefix>-`.
    pub transactional_id_prefix: String,
    /// Clients' consumer groups start with this.
    pub client_group_prefix: String,
    /// Networks with `.in`/`.out` topics (every registered connector).
    pub networks: Vec<String>,
}

impl AclScope {
    /// The switch's defaults for `topics`.
    pub fn new(topics: TopicsConfig) -> Self {
        let defaults = KafkaConfig::default();
        Self {
            topics,
            group_id: defaults.group_id,
            transactional_id_prefix: defaults.transactional_id_prefix,
            client_group_prefix: "interlink-client-".into(),
            networks: interlink_connectors::connectors().map(|c| c.profile().id.to_string()).collect(),
        }
    }

    /// The outputs a worker writes and clients read.
    fn outputs(&self) -> [&str; 6] {
        let t = &self.topics;
        [&t.clearing, &t.notifications, &t.dead_letters, &t.returns, &t.risk_alerts, &t.settlement]
    }

    /// Every topic `interlinkctl topics create` makes.
    fn all_topics(&self) -> Vec<String> {
        let t = &self.topics;
        let mut all: Vec<String> =
            [&t.requests, &t.routes, &t.routes_audit, &t.forwards, &t.state].map(String::clone).to_vec();
        all.extend(self.outputs().map(str::to_string));
        for n in &self.networks {
            all.push(t.network_in(n));
            all.push(t.network_out(n));
        }
        all
    }
}

/// `User:name` for a bare `name`; other principal types are kept as they are.
pub fn principal(name: &str) -> String {
    if name.contains(':') {
        name.to_string()
    } else {
        format!("User:{name}")
    }
}

/// The ACLs giving each principal what its part needs and nothing more, sorted.
pub fn plan(scope: &AclScope, who: &Principals) -> Vec<AclBinding> {
    use Operation::*;
    use Pattern::*;
    use Resource::*;
    let t = &scope.topics;
    let mut out = Vec::new();
    for p in &who.operators {
        for topic in scope.all_topics() {
            out.push(AclBinding::allow(p, Topic, Literal, &topic, Create));
            out.push(AclBinding::allow(p, Topic, Literal, &topic, Read));
            out.push(AclBinding::allow(p, Topic, Literal, &topic, DescribeConfigs));
        }
        // The forwards topic carries operators' reviews of held payments.
        for topic in [&t.routes, &t.routes_audit, &t.forwards] {
            out.push(AclBinding::allow(p, Topic, Literal, topic, Write));
        }
        out.push(AclBinding::allow(p, TransactionalId, Literal, &routes_transactional_id(&t.routes), Write));
        for group in [ROUTES_READER_GROUP, TOPIC_READER_GROUP] {
            out.push(AclBinding::allow(p, Group, Literal, group, Read));
        }
    }
    for p in &who.workers {
        let mut reads = vec![t.requests.clone(), t.forwards.clone(), t.routes.clone(), t.state.clone()];
        let mut writes: Vec<String> = scope.outputs().map(str::to_string).to_vec();
        writes.extend([t.forwards.clone(), t.state.clone()]);
        for n in &scope.networks {
            reads.push(t.network_in(n));
            writes.push(t.network_out(n));
        }
        out.extend(reads.iter().map(|topic| AclBinding::allow(p, Topic, Literal, topic, Read)));
        out.extend(writes.iter().map(|topic| AclBinding::allow(p, Topic, Literal, topic, Write)));
        for group in [scope.group_id.as_str(), ROUTES_READER_GROUP, STATE_RESTORE_GROUP] {
            out.push(AclBinding::allow(p, Group, Literal, group, Read));
        }
        let txn = format!("{}-", scope.transactional_id_prefix);
        out.push(AclBinding::allow(p, TransactionalId, Prefixed, &txn, Write));
    }
    for (network, p) in &who.networks {
        out.push(AclBinding::allow(p, Topic, Literal, &t.network_in(network), Write));
        out.push(AclBinding::allow(p, Topic, Literal, &t.network_out(network), Read));
        let groups = format!("{}{}", t.network_prefix, network.to_ascii_lowercase());
        out.push(AclBinding::allow(p, Group, Prefixed, &groups, Read));
    }
    for p in &who.clients {
        out.push(AclBinding::allow(p, Topic, Literal, &t.requests, Write));
        out.extend(scope.outputs().iter().map(|topic| AclBinding::allow(p, Topic, Literal, topic, Read)));
        out.push(AclBinding::allow(p, Group, Prefixed, &scope.client_group_prefix, Read));
    }
    out.sort();
    out.dedup();
    out
}

#[derive(Debug, thiserror::Error)]
pub enum AclError {
    #[error(transparent)]
    Kafka(#[from] KafkaEdgeError),
    #[error("invalid ACL {binding}: {reason}")]
    Invalid { binding: String, reason: String },
    #[error("no answer from the brokers within {0:?}")]
    Timeout(Duration),
    #[error("the brokers refused: {0}")]
    Refused(String),
}

impl From<rdkafka::error::KafkaError> for AclError {
    fn from(e: rdkafka::error::KafkaError) -> Self {
        AclError::Kafka(e.into())
    }
}

/// Creates `bindings` (ones that exist already stay as they are); needs a principal
/// allowed to alter the cluster (a super user such as `User:admin`). Returns how many
/// were sent; fails with the first binding the brokers refused.
pub fn create_acls(kafka: &KafkaConfig, bindings: &[AclBinding], timeout: Duration) -> Result<usize, AclError> {
    if bindings.is_empty() {
        return Ok(0);
    }
    let admin: AdminClient<DefaultClientContext> = super::base_client_config(kafka).create()?;
    let rk = admin.inner().native_ptr();
    let mut natives = Vec::with_capacity(bindings.len());
    let result = (|| {
        for b in bindings {
            natives.push(native_binding(b)?);
        }
        // SAFETY: `rk` lives as long as `admin`; the bindings, options and queue are
        // ours, destroyed below or by `Native*`'s drop; librdkafka copies the bindings.
        unsafe {
            let options = AdminOptions::new(rk, rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_CREATEACLS, timeout)?;
            let queue = Queue::new(rk);
            let mut ptrs: Vec<*mut rd::rd_kafka_AclBinding_t> = natives.iter().map(|n: &NativeBinding| n.0).collect();
            rd::rd_kafka_CreateAcls(rk, ptrs.as_mut_ptr(), ptrs.len(), options.0, queue.0);
            let event = queue.wait(timeout)?;
            event.check()?;
            let res = rd::rd_kafka_event_CreateAcls_result(event.0);
            if res.is_null() {
                return Err(AclError::Refused("unexpected answer to CreateAcls".into()));
            }
            let mut n = 0usize;
            let results = rd::rd_kafka_CreateAcls_result_acls(res, &mut n);
            for i in 0..n {
                let err = rd::rd_kafka_acl_result_error(*results.add(i));
                if !err.is_null() && rd::rd_kafka_error_code(err) as i32 != 0 {
                    let binding = bindings.get(i).map(ToString::to_string).unwrap_or_default();
                    return Err(AclError::Refused(format!(
                        "{}: {}",
                        binding.trim(),
                        cstr(rd::rd_kafka_error_string(err))
                    )));
                }
            }
            Ok(n)
        }
    })();
    drop(natives);
    result
}

/// Every ACL the brokers hold. librdkafka (2.12) drops the top-level error of a
/// DescribeAcls answer, so a principal that may not describe the cluster's ACLs gets an
/// empty list, not an error.
pub fn describe_acls(kafka: &KafkaConfig, timeout: Duration) -> Result<Vec<AclBinding>, AclError> {
    let admin: AdminClient<DefaultClientContext> = super::base_client_config(kafka).create()?;
    let rk = admin.inner().native_ptr();
    // SAFETY: as in `create_acls`; the described bindings belong to the event and are
    // copied out before it is destroyed.
    unsafe {
        let mut errstr = [0 as std::os::raw::c_char; 512];
        let filter = rd::rd_kafka_AclBindingFilter_new(
            rd::rd_kafka_ResourceType_t::RD_KAFKA_RESOURCE_ANY,
            std::ptr::null(),
            rd::rd_kafka_ResourcePatternType_t::RD_KAFKA_RESOURCE_PATTERN_ANY,
            std::ptr::null(),
            std::ptr::null(),
            rd::rd_kafka_AclOperation_t::RD_KAFKA_ACL_OPERATION_ANY,
            rd::rd_kafka_AclPermissionType_t::RD_KAFKA_ACL_PERMISSION_TYPE_ANY,
            errstr.as_mut_ptr(),
            errstr.len(),
        );
        if filter.is_null() {
            return Err(AclError::Invalid { binding: "any".into(), reason: cstr(errstr.as_ptr()) });
        }
        let filter = NativeBinding(filter);
        let options = AdminOptions::new(rk, rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_DESCRIBEACLS, timeout)?;
        let queue = Queue::new(rk);
        rd::rd_kafka_DescribeAcls(rk, filter.0, options.0, queue.0);
        let event = queue.wait(timeout)?;
        event.check()?;
        let res = rd::rd_kafka_event_DescribeAcls_result(event.0);
        if res.is_null() {
            return Err(AclError::Refused("unexpected answer to DescribeAcls".into()));
        }
        let mut n = 0usize;
        let acls = rd::rd_kafka_DescribeAcls_result_acls(res, &mut n);
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let a = *acls.add(i);
            let Some(binding) = from_native(a) else { continue };
            out.push(binding);
        }
        out.sort();
        Ok(out)
    }
}

/// Which of `planned` the brokers do not hold yet.
pub fn missing<'a>(planned: &'a [AclBinding], present: &[AclBinding]) -> Vec<&'a AclBinding> {
    let present: std::collections::HashSet<&AclBinding> = present.iter().collect();
    planned.iter().filter(|b| !present.contains(b)).collect()
}

struct NativeBinding(*mut rd::rd_kafka_AclBinding_t);

impl Drop for NativeBinding {
    fn drop(&mut self) {
        // SAFETY: made by rd_kafka_AclBinding(Filter)_new, destroyed once.
        unsafe { rd::rd_kafka_AclBinding_destroy(self.0) }
    }
}

struct AdminOptions(*mut rd::rd_kafka_AdminOptions_t);

impl AdminOptions {
    unsafe fn new(rk: *mut rd::rd_kafka_t, op: rd::rd_kafka_admin_op_t, timeout: Duration) -> Result<Self, AclError> {
        let options = Self(rd::rd_kafka_AdminOptions_new(rk, op));
        let mut errstr = [0 as std::os::raw::c_char; 512];
        let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
        let err = rd::rd_kafka_AdminOptions_set_request_timeout(options.0, ms, errstr.as_mut_ptr(), errstr.len());
        if err as i32 != 0 {
            return Err(AclError::Refused(cstr(errstr.as_ptr())));
        }
        Ok(options)
    }
}

impl Drop for AdminOptions {
    fn drop(&mut self) {
        // SAFETY: made by rd_kafka_AdminOptions_new, destroyed once.
        unsafe { rd::rd_kafka_AdminOptions_destroy(self.0) }
    }
}

struct Queue(*mut rd::rd_kafka_queue_t);

impl Queue {
    unsafe fn new(rk: *mut rd::rd_kafka_t) -> Self {
        Self(rd::rd_kafka_queue_new(rk))
    }

    /// The admin result event, waiting at most `timeout` (plus a little: the request's
    /// own timeout answers first).
    unsafe fn wait(&self, timeout: Duration) -> Result<Event, AclError> {
        let deadline = Instant::now() + timeout + Duration::from_secs(5);
        while Instant::now() < deadline {
            let ev = rd::rd_kafka_queue_poll(self.0, 200);
            if !ev.is_null() {
                return Ok(Event(ev));
            }
        }
        Err(AclError::Timeout(timeout))
    }
}

impl Drop for Queue {
    fn drop(&mut self) {
        // SAFETY: made by rd_kafka_queue_new, destroyed once.
        unsafe { rd::rd_kafka_queue_destroy(self.0) }
    }
}

struct Event(*mut rd::rd_kafka_event_t);

impl Event {
    /// The request as a whole failed (not authorized, no authorizer, ...).
    unsafe fn check(&self) -> Result<(), AclError> {
        if rd::rd_kafka_event_error(self.0) as i32 != 0 {
            return Err(AclError::Refused(cstr(rd::rd_kafka_event_error_string(self.0))));
        }
        Ok(())
    }
}

impl Drop for Event {
    fn drop(&mut self) {
        // SAFETY: returned by rd_kafka_queue_poll, destroyed once.
        unsafe { rd::rd_kafka_event_destroy(self.0) }
    }
}

unsafe fn cstr(p: *const std::os::raw::c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}

fn native_binding(b: &AclBinding) -> Result<NativeBinding, AclError> {
    let invalid = |reason: String| AclError::Invalid { binding: b.to_string().trim().to_string(), reason };
    let c = |s: &str| CString::new(s).map_err(|e| invalid(e.to_string()));
    let (name, principal, host) = (c(&b.name)?, c(&b.principal)?, c(&b.host)?);
    let mut errstr = [0 as std::os::raw::c_char; 512];
    // SAFETY: the strings outlive the call, which copies them.
    let ptr = unsafe {
        rd::rd_kafka_AclBinding_new(
            resource_type(b.resource),
            name.as_ptr(),
            pattern_type(b.pattern),
            principal.as_ptr(),
            host.as_ptr(),
            operation(b.operation),
            match b.permission {
                Permission::Allow => rd::rd_kafka_AclPermissionType_t::RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW,
                Permission::Deny => rd::rd_kafka_AclPermissionType_t::RD_KAFKA_ACL_PERMISSION_TYPE_DENY,
            },
            errstr.as_mut_ptr(),
            errstr.len(),
        )
    };
    if ptr.is_null() {
        // SAFETY: librdkafka wrote a NUL-terminated message into errstr.
        return Err(invalid(unsafe { cstr(errstr.as_ptr()) }));
    }
    Ok(NativeBinding(ptr))
}

unsafe fn from_native(a: *const rd::rd_kafka_AclBinding_t) -> Option<AclBinding> {
    use rd::rd_kafka_AclOperation_t as O;
    use rd::rd_kafka_ResourcePatternType_t as P;
    use rd::rd_kafka_ResourceType_t as R;
    let resource = match rd::rd_kafka_AclBinding_restype(a) {
        R::RD_KAFKA_RESOURCE_TOPIC => Resource::Topic,
        R::RD_KAFKA_RESOURCE_GROUP => Resource::Group,
        R::RD_KAFKA_RESOURCE_TRANSACTIONAL_ID => Resource::TransactionalId,
        R::RD_KAFKA_RESOURCE_BROKER => Resource::Cluster,
        _ => return None,
    };
    let pattern = match rd::rd_kafka_AclBinding_resource_pattern_type(a) {
        P::RD_KAFKA_RESOURCE_PATTERN_LITERAL => Pattern::Literal,
        P::RD_KAFKA_RESOURCE_PATTERN_PREFIXED => Pattern::Prefixed,
        _ => return None,
    };
    let operation = match rd::rd_kafka_AclBinding_operation(a) {
        O::RD_KAFKA_ACL_OPERATION_READ => Operation::Read,
        O::RD_KAFKA_ACL_OPERATION_WRITE => Operation::Write,
        O::RD_KAFKA_ACL_OPERATION_CREATE => Operation::Create,
        O::RD_KAFKA_ACL_OPERATION_DELETE => Operation::Delete,
        O::RD_KAFKA_ACL_OPERATION_ALTER => Operation::Alter,
        O::RD_KAFKA_ACL_OPERATION_DESCRIBE => Operation::Describe,
        O::RD_KAFKA_ACL_OPERATION_DESCRIBE_CONFIGS => Operation::DescribeConfigs,
        O::RD_KAFKA_ACL_OPERATION_ALTER_CONFIGS => Operation::AlterConfigs,
        O::RD_KAFKA_ACL_OPERATION_IDEMPOTENT_WRITE => Operation::IdempotentWrite,
        O::RD_KAFKA_ACL_OPERATION_CLUSTER_ACTION => Operation::ClusterAction,
        O::RD_KAFKA_ACL_OPERATION_ALL => Operation::All,
        _ => return None,
    };
    let permission = match rd::rd_kafka_AclBinding_permission_type(a) {
        rd::rd_kafka_AclPermissionType_t::RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW => Permission::Allow,
        rd::rd_kafka_AclPermissionType_t::RD_KAFKA_ACL_PERMISSION_TYPE_DENY => Permission::Deny,
        _ => return None,
    };
    Some(AclBinding {
        principal: cstr(rd::rd_kafka_AclBinding_principal(a)),
        resource,
        pattern,
        name: cstr(rd::rd_kafka_AclBinding_name(a)),
        operation,
        permission,
        host: cstr(rd::rd_kafka_AclBinding_host(a)),
    })
}

fn resource_type(r: Resource) -> rd::rd_kafka_ResourceType_t {
    use rd::rd_kafka_ResourceType_t as R;
    match r {
        Resource::Topic => R::RD_KAFKA_RESOURCE_TOPIC,
        Resource::Group => R::RD_KAFKA_RESOURCE_GROUP,
        Resource::TransactionalId => R::RD_KAFKA_RESOURCE_TRANSACTIONAL_ID,
        Resource::Cluster => R::RD_KAFKA_RESOURCE_BROKER,
    }
}

fn pattern_type(p: Pattern) -> rd::rd_kafka_ResourcePatternType_t {
    use rd::rd_kafka_ResourcePatternType_t as P;
    match p {
        Pattern::Literal => P::RD_KAFKA_RESOURCE_PATTERN_LITERAL,
        Pattern::Prefixed => P::RD_KAFKA_RESOURCE_PATTERN_PREFIXED,
    }
}

fn operation(o: Operation) -> rd::rd_kafka_AclOperation_t {
    use rd::rd_kafka_AclOperation_t as O;
    match o {
        Operation::Read => O::RD_KAFKA_ACL_OPERATION_READ,
        Operation::Write => O::RD_KAFKA_ACL_OPERATION_WRITE,
        Operation::Create => O::RD_KAFKA_ACL_OPERATION_CREATE,
        Operation::Delete => O::RD_KAFKA_ACL_OPERATION_DELETE,
        Operation::Alter => O::RD_KAFKA_ACL_OPERATION_ALTER,
        Operation::Describe => O::RD_KAFKA_ACL_OPERATION_DESCRIBE,
        Operation::DescribeConfigs => O::RD_KAFKA_ACL_OPERATION_DESCRIBE_CONFIGS,
        Operation::AlterConfigs => O::RD_KAFKA_ACL_OPERATION_ALTER_CONFIGS,
        Operation::IdempotentWrite => O::RD_KAFKA_ACL_OPERATION_IDEMPOTENT_WRITE,
        Operation::ClusterAction => O::RD_KAFKA_ACL_OPERATION_CLUSTER_ACTION,
        Operation::All => O::RD_KAFKA_ACL_OPERATION_ALL,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> AclScope {
        AclScope::new(TopicsConfig::default())
    }

    fn who() -> Principals {
        Principals {
            operators: vec![principal("operator")],
            workers: vec![principal("worker")],
            networks: vec![("HK_FPS".into(), principal("network-hk-fps"))],
            clients: vec![principal("User:bank")],
        }
    }

    fn allowed(plan: &[AclBinding], p: &str, op: Operation, topic: &str) -> bool {
        plan.iter().any(|b| b.principal == p && b.operation == op && b.resource == Resource::Topic && b.name == topic)
    }

    #[test]
    fn only_the_operator_writes_routes_and_audit() {
        let plan = plan(&scope(), &who());
        let t = TopicsConfig::default();
        for topic in [&t.routes, &t.routes_audit] {
            let writers: Vec<&str> = plan
                .iter()
                .filter(|b| b.name == *topic && b.operation == Operation::Write)
                .map(|b| b.principal.as_str())
                .collect();
            assert_eq!(writers, ["User:operator"], "{topic}");
        }
        assert!(allowed(&plan, "User:worker", Operation::Read, &t.routes));
        // Nothing prefixed could reach the routes topic either.
        assert!(!plan.iter().any(|b| b.resource == Resource::Topic && b.pattern == Pattern::Prefixed));
    }

    #[test]
    fn workers_write_outputs_and_networks_only_their_own_topics() {
        let plan = plan(&scope(), &who());
        let t = TopicsConfig::default();
        for out in [&t.clearing, &t.notifications, &t.dead_letters, &t.settlement, &t.state, &t.forwards] {
            assert!(allowed(&plan, "User:worker", Operation::Write, out), "{out}");
            assert!(!allowed(&plan, "User:network-hk-fps", Operation::Write, out), "{out}");
        }
        assert!(!allowed(&plan, "User:worker", Operation::Write, &t.requests));
        let net: Vec<&AclBinding> = plan.iter().filter(|b| b.principal == "User:network-hk-fps").collect();
        assert!(allowed(&plan, "User:network-hk-fps", Operation::Write, "interlink.net.hk_fps.in"));
        assert!(allowed(&plan, "User:network-hk-fps", Operation::Read, "interlink.net.hk_fps.out"));
        assert_eq!(net.len(), 3, "{net:?}");
        assert!(allowed(&plan, "User:bank", Operation::Write, &t.requests));
        assert!(!allowed(&plan, "User:bank", Operation::Write, &t.clearing));
        assert!(plan.iter().any(|b| b.principal == "User:worker"
            && b.resource == Resource::TransactionalId
            && b.pattern == Pattern::Prefixed
            && b.name == "interlink-switch-"));
    }

    #[test]
    fn bindings_convert_to_librdkafka_and_back() {
        for b in plan(&scope(), &who()) {
            let native = native_binding(&b).unwrap();
            // SAFETY: a valid binding made just above.
            let back = unsafe { from_native(native.0) }.unwrap();
            assert_eq!(back, b);
        }
    }
}
