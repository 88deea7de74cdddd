//! The documents that list the networks agree with the registry: the routing-table JSON
//! Schema's network enum, and the networks table of docs/connectors.md. Adding a network fails
//! here until both name it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use interlink_connectors::connectors;
use serde_json::Value;

fn doc(path: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Registered network id → settlement currency.
fn registered() -> BTreeMap<String, String> {
    connectors().map(|c| (c.profile().id.to_string(), c.profile().currency.to_string())).collect()
}

/// Every `enum` in the schema that holds a registered network id, with its JSON path.
fn network_enums(value: &Value, path: &str, ids: &BTreeMap<String, String>, out: &mut Vec<(String, Vec<String>)>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                if key == "enum" {
                    let values: Vec<String> = v
                        .as_array()
                        .unwrap_or_else(|| panic!("{path}/enum is not an array"))
                        .iter()
                        .filter_map(|e| e.as_str().map(str::to_string))
                        .collect();
                    if values.iter().any(|e| ids.contains_key(e)) {
                        out.push((path.to_string(), values));
                    }
                } else {
                    network_enums(v, &format!("{path}/{key}"), ids, out);
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                network_enums(v, &format!("{path}/{i}"), ids, out);
            }
        }
        _ => {}
    }
}

#[test]
fn routes_schema_network_enum_is_the_registry() {
    let schema: Value = serde_json::from_str(&doc("docs/routes.schema.json")).expect("docs/routes.schema.json is JSON");
    let ids = registered();
    let mut enums = Vec::new();
    network_enums(&schema, "#", &ids, &mut enums);
    assert!(
        enums.iter().any(|(path, _)| path == "#/$defs/network"),
        "docs/routes.schema.json has no network enum at #/$defs/network (found {enums:?})"
    );
    for (path, values) in enums {
        let mut sorted = values.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), values.len(), "docs/routes.schema.json {path}: duplicate ids in {values:?}");
        assert_eq!(
            sorted,
            ids.keys().cloned().collect::<Vec<_>>(),
            "docs/routes.schema.json {path} must list exactly the registered networks"
        );
    }
}

/// The rows of the markdown table whose header row starts with `| id |`, as column → cell.
fn networks_table(markdown: &str) -> Vec<BTreeMap<String, String>> {
    let cells = |line: &str| -> Vec<String> {
        line.trim().trim_matches('|').split('|').map(|c| c.trim().to_string()).collect()
    };
    let mut lines = markdown.lines().skip_while(|l| !l.trim_start().starts_with("| id |"));
    let header = cells(lines.next().expect("docs/connectors.md has a networks table starting with `| id |`"));
    lines
        .skip(1) // the |---| separator
        .take_while(|l| l.trim_start().starts_with('|'))
        .map(|l| header.iter().cloned().zip(cells(l)).collect())
        .collect()
}

#[test]
fn connectors_doc_networks_table_is_the_registry() {
    let rows = networks_table(&doc("docs/connectors.md"));
    let mut documented = BTreeMap::new();
    for row in &rows {
        let id = row["id"].clone();
        let currency = row.get("currency").cloned().expect("the networks table has a currency column");
        assert!(documented.insert(id.clone(), currency).is_none(), "docs/connectors.md lists {id} twice");
    }
    assert_eq!(
        documented,
        registered(),
        "docs/connectors.md's networks table must list exactly the registered networks (id and currency)"
    );
}
