//! Defender for Endpoint APIs read page by page, each page written as the
//! service sent it (`{"value": [...]}`) into its own file, numbered. The
//! next page is the one `@odata.nextLink` names (followed only on the API's
//! own origin); a full `$top` page that names none is followed by `$skip`,
//! so a list of exactly one page's size is never cut short. A rerun starts
//! from the last page on disk, whose link it reads there.

use std::fmt;
use std::io::BufReader;
use std::path::Path;

use anyhow::{Result, anyhow, bail};
use reqwest::Method;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use tracing::info;
use url::Url;

use super::Done;
use super::auth::{Api, ApiError, Call, Service};
use super::config::CollectOptions;
use super::http::{Fetched, Sink, redact};
use super::inbox::Collection;
use super::intune::same_origin;
use super::sources::{DefenderApi, Paging};

/// What a page says about paging, read without holding its rows.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PageInfo {
    pub next_link: Option<String>,
    pub rows: u64,
    pub has_value: bool,
}

/// Reads every page of `api` not yet in the collection.
pub async fn pages(
    client: &Api<'_>,
    collection: &Collection,
    options: &CollectOptions,
    api: &DefenderApi,
) -> Result<Done> {
    let rows_per_page = api.page_rows(options.page_size);
    let first = first_url(options, api, rows_per_page)?;
    let mut done = Done::default();

    // Pages an earlier run finished: continue after the last one.
    let mut page = 0u32;
    let mut next = Some(first.clone());
    while let Some(path) = collection.finished(&file_name(api, page + 1)) {
        page += 1;
        done.already += 1;
        let info = page_info(&path)?;
        next = next_url(options, api, rows_per_page, page, &info)?;
    }
    if page > 0 {
        match &next {
            Some(_) => info!("`{}`: {page} page(s) already here; resuming", api.name),
            None => return Ok(done),
        }
    }

    while let Some(url) = next {
        page += 1;
        let file = file_name(api, page);
        let partial = collection.partial(&file);
        let what = format!("`{}` page {page}", api.name);
        let call = Call {
            service: Service::Defender,
            method: Method::GET,
            url: &url,
            body: None,
            what: &what,
            permission: api.permission,
        };
        let bytes = match client.send(&call, Sink::File(&partial)).await {
            Ok(Fetched::File(bytes)) => bytes,
            Ok(Fetched::Memory(_)) => unreachable!("asked for a file"),
            Err(ApiError::NotFound(_)) if page == 1 && api.empty_is_404 => {
                info!("`{}`: the service lists none", api.name);
                return Ok(done);
            }
            Err(ApiError::NotFound(_)) if page > 1 && url != first && is_skip(&url) => {
                // Past the end of a list that filled its last page.
                return Ok(done);
            }
            Err(e) => {
                let _ = std::fs::remove_file(&partial);
                return Err(e.into_error());
            }
        };
        let info = match page_info(&partial) {
            Ok(info) if info.has_value => info,
            Ok(_) => {
                let _ = std::fs::remove_file(&partial);
                bail!(
                    "{what}: the answer of `{}` has no `value` list",
                    redact(&url)
                );
            }
            Err(e) => {
                let _ = std::fs::remove_file(&partial);
                return Err(e.context(format!("{what} from `{}`", redact(&url))));
            }
        };
        if info.rows == 0 && page > 1 && info.next_link.is_none() {
            // An empty page past the end ($skip): nothing to keep.
            let _ = std::fs::remove_file(&partial);
            return Ok(done);
        }
        let path = collection.finish(&partial, &file)?;
        done.files += 1;
        done.bytes += bytes;
        info!("{what}: {} row(s) into `{}`", info.rows, path.display());
        let following = next_url(options, api, rows_per_page, page, &info)?;
        if following.as_ref() == Some(&url) {
            bail!(
                "{what}: the service's next link is this page again (`{}`)",
                redact(&url)
            );
        }
        next = following;
    }
    Ok(done)
}

/// `mde-machines-00001.json`: numbered so that names sort as pages.
fn file_name(api: &DefenderApi, page: u32) -> String {
    format!("mde-{}-{page:05}.json", api.name)
}

fn first_url(options: &CollectOptions, api: &DefenderApi, rows: u32) -> Result<Url> {
    let base = options.defender_url.as_str().trim_end_matches('/');
    let mut url = Url::parse(&format!("{base}{}", api.path))
        .map_err(|e| anyhow!("bad Defender URL for `{}`: {e}", api.name))?;
    match api.paging {
        Paging::Top { .. } => url.query_pairs_mut().append_pair("$top", &rows.to_string()),
        Paging::PageSize { .. } => url
            .query_pairs_mut()
            .append_pair("pageSize", &rows.to_string()),
    };
    Ok(url)
}

/// The page after page `page`, which said `info`; `None` at the end.
fn next_url(
    options: &CollectOptions,
    api: &DefenderApi,
    rows: u32,
    page: u32,
    info: &PageInfo,
) -> Result<Option<Url>> {
    if let Some(link) = &info.next_link {
        return Ok(Some(same_origin(link, &options.defender_url)?));
    }
    match api.paging {
        Paging::Top { .. } if info.rows == u64::from(rows) => {
            let mut url = first_url(options, api, rows)?;
            url.query_pairs_mut()
                .append_pair("$skip", &(u64::from(rows) * u64::from(page)).to_string());
            Ok(Some(url))
        }
        _ => Ok(None),
    }
}

fn is_skip(url: &Url) -> bool {
    url.query_pairs().any(|(k, _)| k == "$skip")
}

/// Reads a page file's next link and counts its rows, holding one row at a
/// time at most.
pub fn page_info(path: &Path) -> Result<PageInfo> {
    let file =
        std::fs::File::open(path).map_err(|e| anyhow!("cannot open `{}`: {e}", path.display()))?;
    let mut reader = serde_json::Deserializer::from_reader(BufReader::new(file));
    let info = PageInfoSeed
        .deserialize(&mut reader)
        .and_then(|info| reader.end().map(|()| info))
        .map_err(|e| anyhow!("`{}` is not a JSON page: {e}", path.display()))?;
    Ok(info)
}

struct PageInfoSeed;

impl PageInfoSeed {
    fn deserialize<'de, D: Deserializer<'de>>(self, d: D) -> Result<PageInfo, D::Error> {
        d.deserialize_map(PageVisitor)
    }
}

struct PageVisitor;

impl<'de> Visitor<'de> for PageVisitor {
    type Value = PageInfo;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object with a `value` list")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PageInfo, A::Error> {
        let mut info = PageInfo::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "value" => {
                    info.rows = map.next_value::<RowCount>()?.0;
                    info.has_value = true;
                }
                "@odata.nextLink" => info.next_link = map.next_value::<Option<String>>()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(info)
    }
}

/// The length of a JSON array, its elements skipped.
struct RowCount(u64);

impl<'de> de::Deserialize<'de> for RowCount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RowCount, D::Error> {
        struct Count;
        impl<'de> Visitor<'de> for Count {
            type Value = RowCount;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RowCount, A::Error> {
                let mut n = 0;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    n += 1;
                }
                Ok(RowCount(n))
            }
        }
        d.deserialize_seq(Count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info_of(text: &str) -> Result<PageInfo> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("page.json");
        std::fs::write(&path, text).unwrap();
        page_info(&path)
    }

    #[test]
    fn reads_the_link_and_counts_rows() {
        let info = info_of(
            r#"{"@odata.context":"x","value":[{"id":"a","tags":[1,2]},{"id":"b"}],"@odata.nextLink":"https://h/api/machines?$skiptoken=2"}"#,
        )
        .unwrap();
        assert_eq!(
            info,
            PageInfo {
                next_link: Some("https://h/api/machines?$skiptoken=2".into()),
                rows: 2,
                has_value: true
            }
        );
        assert_eq!(info_of(r#"{"value":[]}"#).unwrap().rows, 0);
        assert!(!info_of(r#"{"error":{}}"#).unwrap().has_value);
        assert!(info_of(r#"{"value":[1,"#).is_err());
        assert!(info_of(r#"{"value":[]} trailing"#).is_err());
    }
}
