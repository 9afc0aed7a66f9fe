//! The analysts' notebooks (`notebooks/*.ipynb`) run top to bottom, with
//! nbclient, on a lake ingested from `sample-data/`; any cell error fails.

use super::*;

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
