//! Where a lake is read from: a folder, or a prefix of S3-compatible object
//! storage (`s3://BUCKET/PREFIX`, in a build with the `s3` feature) that
//! every node of a cluster can read. Only the reading commands (`query`,
//! `sql`, `report`) take a URL; writers keep a folder, whose commit protocol
//! needs a file system (docs/scale-out.md says how to publish a lake).

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use datafusion::datasource::listing::ListingTableUrl;
use datafusion::object_store::path::Path as StorePath;
use datafusion::object_store::{ObjectStore, ObjectStoreExt};
use url::Url;

use crate::lake::{self, PARTITION_COLUMN, Table};

/// A lake to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A folder on this machine (or one every node mounts at the same path).
    Dir(PathBuf),
    /// `s3://BUCKET/PREFIX/`, always ending in `/`. Credentials, region and
    /// endpoint come from the environment (`AWS_ACCESS_KEY_ID`, …), never
    /// from the URL, and are never printed.
    S3(Url),
}

impl FromStr for Location {
    type Err = String;

    fn from_str(s: &str) -> Result<Location, String> {
        if !s.contains("://") {
            return Ok(Location::Dir(PathBuf::from(s)));
        }
        let mut url = Url::parse(s).map_err(|e| format!("`{s}` is not a folder or a URL: {e}"))?;
        if !url.username().is_empty() || url.password().is_some() {
            // Not echoed: it holds a secret.
            return Err(
                "a lake URL must not hold credentials; they are read from the \
                        environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, …)"
                    .into(),
            );
        }
        if url.scheme() != "s3" || url.host_str().is_none_or(str::is_empty) {
            return Err(format!(
                "`{s}`: a lake is a folder or S3-compatible storage as `s3://BUCKET/PREFIX`"
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(format!("`{s}`: a lake URL has no query or fragment"));
        }
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Ok(Location::S3(url))
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Dir(dir) => write!(f, "{}", dir.display()),
            Location::S3(url) => f.write_str(url.as_str()),
        }
    }
}

impl Location {
    /// Where `table`'s files are, as DataFusion lists them.
    pub fn table_url(&self, table: Table) -> Result<ListingTableUrl> {
        let url = match self {
            Location::Dir(dir) => {
                let dir = std::path::absolute(dir.join(table.name()))?;
                Url::from_directory_path(&dir)
                    .map_err(|()| anyhow::anyhow!("cannot turn `{}` into a URL", dir.display()))?
            }
            Location::S3(url) => url.join(&format!("{}/", table.name()))?,
        };
        Ok(ListingTableUrl::try_new(url, None)?)
    }
}

/// The store of an `s3://` lake, configured from the environment the way
/// the AWS tools are (`AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_ALLOW_HTTP`, …).
#[cfg(feature = "s3")]
pub fn s3_store(url: &Url) -> Result<Arc<dyn ObjectStore>> {
    use datafusion::object_store::aws::AmazonS3Builder;
    let store = AmazonS3Builder::from_env()
        .with_url(url.as_str())
        .build()
        .with_context(|| format!("cannot open the object store of `{url}`"))?;
    Ok(Arc::new(store))
}

#[cfg(not(feature = "s3"))]
pub fn s3_store(url: &Url) -> Result<Arc<dyn ObjectStore>> {
    anyhow::bail!(crate::Hinted::new(
        format!("cannot read `{url}`: this `posture` was built without S3 support"),
        "build it with `cargo build --release --features s3` (or `--features ballista`)",
    ))
}

/// The Parquet files of `table` under an object-store lake, in path order:
/// those of its `date=` partitions, as `lake::table_files` finds on disk.
pub async fn store_files(
    store: &dyn ObjectStore,
    url: &Url,
    table: Table,
) -> Result<Vec<(NaiveDate, StorePath)>> {
    use futures::TryStreamExt;
    let prefix = StorePath::from_url_path(format!("{}{}", url.path(), table.name()))?;
    let listed: Vec<StorePath> = store
        .list(Some(&prefix))
        .map_ok(|meta| meta.location)
        .try_collect()
        .await
        .with_context(|| format!("cannot list `{url}{}/`", table.name()))?;
    let mut files: Vec<(NaiveDate, StorePath)> = listed
        .into_iter()
        .filter(|p| p.extension() == Some("parquet"))
        .filter_map(|p| Some((partition_day(&prefix, &p)?, p)))
        .collect();
    files.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(files)
}

/// The `SnapshotDays` of an object-store lake, judged as `SnapshotDays::of`
/// judges a folder: a day's snapshot is valid while its
/// `daily_reports/date=D/_built_from` names exactly the raw files of day D
/// now in the store.
pub async fn store_snapshot(store: &dyn ObjectStore, url: &Url) -> Result<lake::SnapshotDays> {
    use futures::{StreamExt, TryStreamExt};
    let base = url.path().trim_start_matches('/');
    let mut names = lake::Listing::new();
    for table in lake::SnapshotDays::LISTED {
        let by_day = names.entry(table).or_default();
        for (day, path) in store_files(store, url, table).await? {
            let name = path.as_ref().strip_prefix(base).unwrap_or(path.as_ref());
            let day = day.format("%Y-%m-%d").to_string();
            by_day.entry(day).or_default().push(name.to_owned());
        }
    }
    let sidecars: HashMap<String, String> =
        futures::stream::iter(lake::SnapshotDays::candidates(&names))
            .map(|day| async move {
                let key = StorePath::from_url_path(format!(
                    "{}{}/{PARTITION_COLUMN}={day}/{}",
                    url.path(),
                    Table::DailyReports.name(),
                    lake::BUILT_FROM
                ))?;
                let text = read_sidecar(store, &key).await?;
                anyhow::Ok(text.map(|text| (day.clone(), text)))
            })
            .buffer_unordered(16)
            .try_filter_map(|found| async move { Ok(found) })
            .try_collect()
            .await
            .with_context(|| format!("cannot read the snapshot sidecars of `{url}`"))?;
    let as_of_key = StorePath::from_url_path(format!(
        "{}{}/{}",
        url.path(),
        Table::AsOfReports.name(),
        lake::BUILT_FROM
    ))?;
    let as_of_sidecar = read_sidecar(store, &as_of_key).await?;
    Ok(lake::SnapshotDays::from_listing(
        names,
        &sidecars,
        as_of_sidecar.as_deref(),
    ))
}

/// The text of a snapshot's sidecar in the store, or None when there is
/// none.
async fn read_sidecar(store: &dyn ObjectStore, key: &StorePath) -> Result<Option<String>> {
    match store.get(key).await {
        Ok(got) => Ok(Some(
            String::from_utf8_lossy(&got.bytes().await?).into_owned(),
        )),
        Err(datafusion::object_store::Error::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The day of `TABLE/date=YYYY-MM-DD/FILE`, or None for any other path.
fn partition_day(table: &StorePath, file: &StorePath) -> Option<NaiveDate> {
    let mut rest = file.prefix_match(table)?;
    let partition = rest.next()?;
    let day = partition
        .as_ref()
        .strip_prefix(&format!("{PARTITION_COLUMN}="))?
        .to_owned();
    rest.next()?;
    if rest.next().is_some() {
        return None;
    }
    NaiveDate::parse_from_str(&day, "%Y-%m-%d").ok()
}

/// Every lake file under an object-store prefix with its SHA-256, named
/// relative to the prefix (`reports/date=…/….parquet`): the evidence list
/// of a bundle, as for a folder.
pub async fn store_checksums(store: &dyn ObjectStore, url: &Url) -> Result<Vec<(String, String)>> {
    use sha2::{Digest, Sha256};
    let base = url.path().trim_start_matches('/');
    let mut sums = Vec::new();
    for table in Table::ALL {
        for (_, path) in store_files(store, url, table).await? {
            let read = async { store.get(&path).await?.bytes().await };
            let bytes = read.await.with_context(|| {
                format!("cannot read `s3://{}/{path}`", url.host_str().unwrap_or(""))
            })?;
            let name = path.as_ref().strip_prefix(base).unwrap_or(path.as_ref());
            sums.push((name.to_owned(), format!("{:x}", Sha256::digest(&bytes))));
        }
    }
    Ok(sums)
}

#[cfg(test)]
mod tests {
    use super::Location;

    #[test]
    fn folders_and_s3_urls() {
        assert_eq!(
            "lake/".parse(),
            Ok(Location::Dir("lake/".into())),
            "a plain path is a folder"
        );
        let s3: Location = "s3://bucket/fleet/lake".parse().unwrap();
        assert_eq!(s3.to_string(), "s3://bucket/fleet/lake/");
        assert_eq!(
            s3.table_url(crate::lake::Table::Reports).unwrap().as_str(),
            "s3://bucket/fleet/lake/reports/"
        );
        assert!("http://bucket/lake".parse::<Location>().is_err());
        assert!("s3:///lake".parse::<Location>().is_err());
        let secret = "s3://AKIA:hunter2@bucket/lake"
            .parse::<Location>()
            .unwrap_err();
        assert!(!secret.contains("hunter2"), "{secret}");
    }
}
