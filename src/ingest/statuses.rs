//! The Intune policy statuses a per-setting export's rows are filed under.
//! A per-setting row carries no time of its own: it is evidence of its
//! device's status for its policy, so it takes the report and time of the
//! newest policy-status row of that device and policy known when it is
//! ingested, from this run or the lake (docs/vendor-exports.md). A row with
//! none is quarantined, never guessed.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use anyhow::Result;

use super::exports::{PendingSetting, PolicyRef, StatusKey};
use super::report::Report;
use crate::lake;

#[derive(Debug, Default)]
pub struct Statuses {
    /// (Intune device id, policy id) → the newest status row.
    by_id: HashMap<(String, String), StatusKey>,
    /// (Intune device id, policy name in lower case) → the policy ids of
    /// that name, for exports that name a policy only by its name.
    by_name: HashMap<(String, String), HashSet<String>>,
    /// Devices whose statuses in the lake were already loaded.
    loaded: HashSet<String>,
}

impl Statuses {
    /// Remembers a status row of a device (see [`keys`]).
    pub fn add(&mut self, device_id: String, status: StatusKey) {
        self.by_name
            .entry((device_id.clone(), status.policy_name.to_lowercase()))
            .or_default()
            .insert(status.policy_id.clone());
        let slot = self
            .by_id
            .entry((device_id, status.policy_id.clone()))
            .or_insert_with(|| status.clone());
        if (status.observed_at_us, &status.report_id) > (slot.observed_at_us, &slot.report_id) {
            *slot = status;
        }
    }

    /// Loads from the lake the statuses of the devices `devices` (those of a
    /// per-setting file's rows) that this run has not loaded yet: one pass
    /// over `policy_states` for a whole per-setting file.
    pub fn load_from_lake(&mut self, lake_dir: &Path, mut devices: HashSet<String>) -> Result<()> {
        devices.retain(|d| !self.loaded.contains(d));
        if devices.is_empty() {
            return Ok(());
        }
        for row in lake::export_policy_statuses(lake_dir, &devices)? {
            self.add(
                row.device_id,
                StatusKey {
                    report_id: row.report_id,
                    policy_id: row.policy_id,
                    policy_name: row.policy_name,
                    observed_at_us: row.observed_at_us,
                },
            );
        }
        self.loaded.extend(devices);
        Ok(())
    }

    /// The status a per-setting row is filed under: its device's newest
    /// status row for its policy (by name: only when the name is one
    /// policy's).
    pub fn find(&self, pending: &PendingSetting) -> Option<StatusKey> {
        let device = pending.device_id.clone();
        let policy_id = match &pending.policy {
            PolicyRef::Id(id) => id.clone(),
            PolicyRef::Name(name) => {
                let ids = self.by_name.get(&(device.clone(), name.to_lowercase()))?;
                if ids.len() != 1 {
                    return None;
                }
                ids.iter().next()?.clone()
            }
        };
        self.by_id.get(&(device, policy_id)).cloned()
    }
}

/// The status rows a one-policy export report was made from, by device:
/// what [`Statuses::add`] remembers. Which status is the newest does not
/// depend on the order they are added in.
pub fn keys(report: &Report) -> Vec<(String, StatusKey)> {
    report
        .policies
        .iter()
        .map(|policy| {
            (
                report.device.device_id.clone(),
                StatusKey {
                    report_id: report.report_id.clone(),
                    policy_id: policy.policy_id.clone(),
                    policy_name: policy.name.clone(),
                    observed_at_us: report.observed_at_us,
                },
            )
        })
        .collect()
}

/// Why a per-setting row was not filed.
pub fn unmatched(pending: &PendingSetting) -> String {
    let policy = match &pending.policy {
        PolicyRef::Id(id) => format!("policy `{id}`"),
        PolicyRef::Name(name) => format!("a policy named `{name}` (one policy of that name)"),
    };
    format!(
        "no status of device `{}` for {policy} in this run or the lake: a per-setting row is evidence of a security-settings policy's status on a device, so ingest that policy's status export (DeviceStatusesByConfigurationProfile or DeviceAssignmentStatusByConfigurationPolicy) with it; a compliance policy's settings are not read",
        pending.device_id
    )
}
