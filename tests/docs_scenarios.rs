//! docs/scenarios.md against the parser: every field and action the parser
//! accepts is in a table of the doc, and the doc lists nothing else. The
//! accepted lists come from the parser's own constants, so a new field or
//! action fails this test until its section is written.

use std::collections::{BTreeMap, BTreeSet};

use loopguard::invariants::INVARIANT_IDS;
use loopguard::scenario::{keys, ACTIONS};

/// Per `##`/`###` heading: the backticked names in the first column of its
/// tables.
fn doc_tables() -> BTreeMap<String, BTreeSet<String>> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/scenarios.md"))
        .expect("docs/scenarios.md exists");
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut heading = String::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        if let Some(h) = line
            .strip_prefix("### ")
            .or_else(|| line.strip_prefix("## "))
        {
            heading = h.trim().to_string();
            out.entry(heading.clone()).or_default();
        } else if let Some(cell) = line.strip_prefix("| `") {
            if let Some((name, _)) = cell.split_once('`') {
                out.entry(heading.clone())
                    .or_default()
                    .insert(name.to_string());
            }
        }
    }
    out
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn section<'a>(doc: &'a BTreeMap<String, BTreeSet<String>>, h: &str) -> &'a BTreeSet<String> {
    doc.get(h)
        .unwrap_or_else(|| panic!("docs/scenarios.md has no section `{h}`"))
}

#[test]
fn every_section_lists_exactly_the_fields_the_parser_accepts() {
    let doc = doc_tables();
    let events: Vec<&str> = keys::EVENT_KEYS
        .iter()
        .chain(keys::REPEAT_KEYS)
        .copied()
        .collect();
    for (h, accepted) in [
        ("Top-level fields", keys::TOP_KEYS),
        ("`[[users]]`", keys::USER_KEYS),
        ("`[supervisor]`", keys::SUPERVISOR_KEYS),
        ("`[tabs]`", keys::TABS_KEYS),
        ("`[network]`", keys::NETWORK_KEYS),
        ("`[endpoint]`", keys::ENDPOINT_KEYS),
        ("`[[events]]`", &events),
        ("`[expect.<preset>]`", keys::EXPECT_KEYS),
    ] {
        assert_eq!(section(&doc, h), &set(accepted), "section {h}");
    }
}

#[test]
fn the_doc_has_a_section_for_exactly_the_actions_the_parser_accepts() {
    let doc = doc_tables();
    let documented: BTreeSet<String> = doc
        .keys()
        .filter_map(|h| h.strip_prefix('`').and_then(|h| h.strip_suffix('`')))
        .filter(|h| !h.starts_with('['))
        .map(str::to_string)
        .collect();
    let accepted: BTreeSet<String> = ACTIONS.iter().map(|(a, _)| a.to_string()).collect();
    assert_eq!(documented, accepted);
}

#[test]
fn each_action_section_lists_exactly_its_parameters() {
    let doc = doc_tables();
    for (action, params) in ACTIONS {
        assert_eq!(
            section(&doc, &format!("`{action}`")),
            &set(params),
            "action {action}"
        );
    }
}

#[test]
fn the_invariants_table_lists_every_invariant() {
    let doc = doc_tables();
    assert_eq!(section(&doc, "Invariants"), &set(&INVARIANT_IDS));
}
