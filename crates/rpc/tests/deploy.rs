//! deploy/: the Grafana dashboard is valid JSON and queries only documented metrics; the
//! Prometheus files name only documented metrics.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::collections::BTreeSet;

fn read(rel: &str) -> String {
    std::fs::read_to_string(format!("{}/../../{rel}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// Every `keel_…` identifier in `text`, with histogram suffixes removed.
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(pos) = text[i..].find("keel_") {
        let start = i + pos;
        let boundary =
            start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
        let mut end = start;
        while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
            end += 1;
        }
        if boundary {
            let name = &text[start..end];
            let base = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| name.strip_suffix(s))
                .unwrap_or(name);
            out.insert(base.to_string());
        }
        i = end;
    }
    out
}

#[test]
fn grafana_dashboard_uses_only_documented_metrics() {
    let doc = read("docs/metrics.md");
    let dash: Value = serde_json::from_str(&read("deploy/grafana/keel.json")).unwrap();
    assert_eq!(dash["uid"], "keel-consortium");
    let panels = dash["panels"].as_array().unwrap();
    let mut exprs = Vec::new();
    for p in panels {
        for t in p["targets"].as_array().into_iter().flatten() {
            exprs.push(t["expr"].as_str().unwrap().to_string());
        }
    }
    assert!(exprs.len() >= 30, "only {} queries", exprs.len());
    let used = metric_names(&exprs.join("\n"));
    // Covers every area of the issue.
    for area in [
        "keel_consensus_",
        "keel_p2p_",
        "keel_mempool_",
        "keel_execution_",
        "keel_storage_",
        "keel_rpc_",
    ] {
        assert!(used.iter().any(|m| m.starts_with(area)), "no {area}* panel");
    }
    for m in &used {
        assert!(
            doc.contains(&format!("| `{m}` |")),
            "dashboard queries undocumented {m}"
        );
    }
    // Panel ids are unique (Grafana needs that).
    let ids: BTreeSet<u64> = panels.iter().map(|p| p["id"].as_u64().unwrap()).collect();
    assert_eq!(ids.len(), panels.len());
}

#[test]
fn prometheus_files_use_only_documented_metrics() {
    let doc = read("docs/metrics.md");
    let scrape = read("deploy/prometheus/prometheus.yml");
    assert!(scrape.contains("metrics_path: /metrics"));
    assert_eq!(
        scrape.matches("127.0.0.1:854").count(),
        4,
        "4 nodes scraped"
    );
    let alerts = read("deploy/prometheus/keel-alerts.yml");
    let exprs: Vec<&str> = alerts
        .lines()
        .filter_map(|l| l.trim().strip_prefix("expr:"))
        .collect();
    assert!(exprs.len() >= 5);
    let used = metric_names(&exprs.join("\n"));
    assert!(used.len() >= 5);
    for m in &used {
        assert!(
            doc.contains(&format!("| `{m}` |")),
            "alert uses undocumented {m}"
        );
    }
}
