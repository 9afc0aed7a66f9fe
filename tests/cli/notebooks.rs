//! The analysts' notebooks (`notebooks/*.ipynb`) run top to bottom, with
//! nbclient, on a lake ingested from `sample-data/`; any cell error fails.

use super::*;

#[test]
fn the_notebooks_are_committed_without_outputs() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("notebooks");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "ipynb") {
            continue;
        }
        seen += 1;
        let notebook: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        for cell in notebook["cells"].as_array().unwrap() {
            if cell["cell_type"] == "code" {
                assert_eq!(cell["outputs"], serde_json::json!([]), "{}", path.display());
                assert_eq!(cell["execution_count"], Value::Null, "{}", path.display());
            }
        }
    }
    assert_eq!(seen, 3);
}

#[test]
fn the_notebooks_run_top_to_bottom_on_the_sample_fleet() {
    let dir = tempfile::tempdir().unwrap();
    let lake = lake_in(&dir);
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data");
    ingest(&lake, &[&sample]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/run_notebooks.py");
    let o = Command::new("python3")
        .arg(script)
        .env("POSTURE_LAKE", &lake)
        .output()
        .expect("python3 runs");
    assert!(
        o.status.success(),
        "a notebook failed (pip install -r tests/requirements.txt):\n{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        stderr(&o)
    );
    let ran = String::from_utf8_lossy(&o.stdout);
    for name in ["fleet_overview", "setting_drilldown", "remediation_times"] {
        assert!(ran.contains(&format!("{name}.ipynb: ")), "{ran}");
    }
}
