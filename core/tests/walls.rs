//! The walls Cargo keeps: the pure crates (the vocabulary, the event schemas, the
//! connectors, routing and the decision core) never depend, directly or through
//! anything they use, on Kafka, an async runtime or a network stack. Read from
//! `cargo metadata`, so a new dependency anywhere in their tree is caught.

use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::process::Command;

const PURE: &[&str] = &[
    "interlink-vocab",
    "interlink-schemas",
    "interlink-connectors",
    "interlink-routing",
    "interlink-screening",
    "interlink-core",
];

/// Crates that mean I/O at the edge: Kafka clients, async runtimes, sockets, HTTP.
const FORBIDDEN: &[&str] = &[
    "rdkafka",
    "rdkafka-sys",
    "tokio",
    "tokio-util",
    "mio",
    "async-std",
    "smol",
    "futures-executor",
    "socket2",
    "hyper",
    "axum",
    "reqwest",
    "ureq",
    "tonic",
    "interlink-schema-registry",
    "interlink-switch",
    "interlink-testkit",
    "interlink-loadtest",
];

struct Graph {
    names: HashMap<String, String>,
    /// Package id -> ids of its normal (not dev, not build) dependencies.
    normal_deps: HashMap<String, Vec<String>>,
}

fn workspace_graph() -> Graph {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .output()
        .expect("cargo metadata runs");
    assert!(output.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&output.stderr));
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON");
    let names = metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| (p["id"].as_str().unwrap().to_string(), p["name"].as_str().unwrap().to_string()))
        .collect();
    let normal_deps = metadata["resolve"]["nodes"]
        .as_array()
        .expect("resolve.nodes")
        .iter()
        .map(|node| {
            let deps = node["deps"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["dep_kinds"].as_array().unwrap().iter().any(|k| k["kind"].is_null()))
                .map(|d| d["pkg"].as_str().unwrap().to_string())
                .collect();
            (node["id"].as_str().unwrap().to_string(), deps)
        })
        .collect();
    Graph { names, normal_deps }
}

impl Graph {
    fn id_of(&self, name: &str) -> &str {
        self.names.iter().find(|(_, n)| n.as_str() == name).map(|(id, _)| id.as_str()).expect(name)
    }

    /// Every crate `name` depends on when built as a library, with one path to it.
    fn closure(&self, name: &str) -> HashMap<String, Vec<String>> {
        let mut seen: HashMap<String, Vec<String>> = HashMap::new();
        let mut stack = vec![(self.id_of(name).to_string(), vec![name.to_string()])];
        while let Some((id, path)) = stack.pop() {
            for dep in self.normal_deps.get(&id).into_iter().flatten() {
                let dep_name = self.names[dep].clone();
                if seen.contains_key(&dep_name) {
                    continue;
                }
                let mut dep_path = path.clone();
                dep_path.push(dep_name.clone());
                seen.insert(dep_name, dep_path.clone());
                stack.push((dep.clone(), dep_path));
            }
        }
        seen
    }
}

#[test]
fn pure_crates_depend_on_no_kafka_async_or_network_crate() {
    let graph = workspace_graph();
    let mut breaches = BTreeSet::new();
    for pure in PURE {
        for (dep, path) in graph.closure(pure) {
            if FORBIDDEN.contains(&dep.as_str()) {
                breaches.insert(path.join(" -> "));
            }
        }
    }
    assert!(
        breaches.is_empty(),
        "pure crates reach I/O crates:\n{}",
        breaches.into_iter().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn the_graph_is_read_and_the_edge_does_depend_on_kafka() {
    // Guards the test above against reading nothing: the edge crate must show up with
    // rdkafka and tokio in its tree.
    let graph = workspace_graph();
    let edge = graph.closure("interlink-switch");
    for expected in ["rdkafka", "tokio", "interlink-core", "interlink-routing"] {
        assert!(edge.contains_key(expected), "interlink-switch should depend on {expected}");
    }
    let core = graph.closure("interlink-core");
    assert!(core.contains_key("interlink-routing") && core.contains_key("interlink-vocab"));
}
